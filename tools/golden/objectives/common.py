"""Shared by the objective fixture scripts: deterministic inputs and one writer.

Each script in this directory transcribes one objective's public reference implementation (named
in its docstring) and calls write_fixture() for every configuration it checks. A fixture holds:
  input.<name>   the inputs, named as tutor's objective reads them (student.logits, labels, ...)
  loss           the scalar loss
  part.<name>    each named part the objective reports (optional)
  grad.<name>    d loss / d input for every floating input that is not a teacher's
  param.<name>, grad.param.<name>   the objective's own module parameters and their gradients
and metadata: objective (the registry name), param.<key> = value for each parameter set, and
context.epoch / context.epochs when the loss depends on them.

Run a script with /usr/bin/python3 (Debian's python3-torch); fixtures land in
tests/fixtures/distill/ and are committed.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from safetensors_writer import save_safetensors  # noqa: E402

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'tests',
                                    'fixtures', 'distill'))


def generator(seed):
    return torch.Generator().manual_seed(seed)


def logits(gen, batch, classes, scale=4.0):
    """f64 logits with std `scale`, the range the catalog's §8 protocol suggests."""
    return torch.randn(batch, classes, generator=gen, dtype=torch.float64) * scale


def labels(gen, batch, classes):
    return torch.randint(0, classes, (batch,), generator=gen, dtype=torch.int64)


def write_fixture(name, objective, params, inputs, loss_fn, parts_fn=None, module=None,
                  context=None, buffers=None):
    """Evaluates loss_fn(**leaves) in f64 and writes tests/fixtures/distill/<name>.safetensors.

    inputs: dict input-name -> tensor; floating ones except teacher.* / teacherK.* become leaves
    requiring grad.
    loss_fn: called with the dict of leaves; returns the scalar loss.
    parts_fn: optional, called with the leaves; returns dict part-name -> scalar.
    module: optional torch.nn.Module owned by the objective; its parameters are saved and
    differentiated.
    buffers: optional dict name -> tensor of the objective's non-learnable state (saved as
    param.<name>, loaded into the objective by name, not differentiated).
    """
    leaves = {}
    for k, v in inputs.items():
        v = v.detach().clone()
        if v.is_floating_point() and not k.startswith('teacher'):
            v.requires_grad_(True)  # teachers are constants in every reference
        leaves[k] = v
    loss = loss_fn(leaves)
    wrt = [v for v in leaves.values() if v.requires_grad]
    params_list = list(module.named_parameters()) if module is not None else []
    grads = torch.autograd.grad(loss, wrt + [p for _, p in params_list], allow_unused=True)
    out = {f'input.{k}': v.detach() for k, v in leaves.items()}
    out['loss'] = loss.detach().reshape(())
    it = iter(grads)
    for k, v in leaves.items():
        if v.requires_grad:
            g = next(it)
            out[f'grad.{k}'] = torch.zeros_like(v) if g is None else g
    for pname, p in params_list:
        g = next(it)
        out[f'param.{pname}'] = p.detach()
        out[f'grad.param.{pname}'] = torch.zeros_like(p) if g is None else g
    for bname, b in (buffers or {}).items():
        out[f'param.{bname}'] = b.detach()
    if parts_fn is not None:
        with torch.no_grad():
            for k, v in parts_fn(leaves).items():
                out[f'part.{k}'] = v.detach().reshape(())
    meta = {'objective': objective}
    for k, v in params.items():
        meta[f'param.{k}'] = str(v)
    for k, v in (context or {}).items():
        meta[f'context.{k}'] = str(v)
    os.makedirs(OUT, exist_ok=True)
    save_safetensors(os.path.join(OUT, f'{name}.safetensors'), out, meta)
