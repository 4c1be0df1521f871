"""The whole-model parity recipe shared by the golden-fixture scripts (make_resnet_fixtures.py,
make_transformer_fixtures.py) and read back by tests/models/parity.h: for one model and one batch,

  init.<key>        the full initial state_dict
  input, labels     the batch and its class indices
  logits_eval       eval-mode logits of the initial model
  taps.<name>       eval-mode taps of the initial model on the first tap_samples samples
  logits_train      train-mode logits of the initial model
  loss              the train-mode loss of those logits (train_step; cross-entropy by default)
  grad.<name>       every parameter's gradient of that loss
  after.<key>       the running statistics (BatchNorm buffers) after that one train-mode forward
  sgd_losses        [STEPS] train-mode losses on the same batch before each of STEPS steps of
                    SGD(lr LR, momentum MOMENTUM); sgd_losses[0] == loss
"""
import torch
import torch.nn.functional as F

LR, MOMENTUM, STEPS = 0.01, 0.9, 10
SHORT_DTYPES = {torch.float32: 'f32', torch.int64: 'i64'}


def cross_entropy_step(labels):
    """The default train step: (logits, mean cross-entropy against labels)."""
    def step(model, x):
        logits = model(x)
        return logits, F.cross_entropy(logits, labels)
    return step


def golden(model, forward_taps, x, labels, meta, tap_samples=2, train_step=None):
    """The tensors of the module docstring and the metadata (meta plus the torch version and the
    SGD recipe). forward_taps(model, x, taps) runs the model filling the dict taps;
    train_step(model, x) returns (logits, loss)."""
    train_step = train_step or cross_entropy_step(labels)
    out = {}
    init = {k: v.clone() for k, v in model.state_dict().items()}
    out.update({f'init.{k}': v for k, v in init.items()})
    out['input'], out['labels'] = x, labels

    model.eval()
    taps = {}
    with torch.no_grad():
        out['logits_eval'] = model(x)
        tapped_logits = forward_taps(model, x[:tap_samples], taps)
        assert torch.allclose(tapped_logits, out['logits_eval'][:tap_samples], atol=1e-5)
    out.update({f'taps.{k}': v for k, v in taps.items()})

    model.train()
    logits, loss = train_step(model, x)
    loss.backward()
    out['logits_train'], out['loss'] = logits.detach(), loss.detach()
    out.update({f'grad.{k}': p.grad.clone() for k, p in model.named_parameters()})
    out.update({f'after.{k}': v.clone() for k, v in model.state_dict().items()
                if 'running' in k or 'num_batches' in k})

    model.load_state_dict(init)
    model.zero_grad(set_to_none=True)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss = train_step(model, x)[1]
        losses.append(loss.item())
        loss.backward()
        opt.step()
    out['sgd_losses'] = torch.tensor(losses, dtype=torch.float32)
    meta = dict(meta, torch=torch.__version__,
                sgd=f'lr={LR} momentum={MOMENTUM} steps={STEPS}, train mode, the same batch')
    return out, meta


def write_state_listings(path, named_models):
    """For each (name, model): "## NAME PARAMETER_COUNT", then one "key [shape] dtype" line per
    state_dict entry, in order."""
    lines = []
    for name, m in named_models:
        lines.append(f'## {name} {sum(p.numel() for p in m.parameters())}')
        for k, v in m.state_dict().items():
            shape = '[' + ', '.join(str(s) for s in v.shape) + ']'
            lines.append(f'{k} {shape} {SHORT_DTYPES[v.dtype]}')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print(f'wrote {path} ({len(lines)} lines)')
