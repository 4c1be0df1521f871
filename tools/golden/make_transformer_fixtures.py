#!/usr/bin/python3
"""Golden fixtures for tests/models/test_vit.cpp and test_mixer.cpp, from the plain-PyTorch mirrors
of transformer_models.py (Debian's python3-torch 1.13; run with /usr/bin/python3). Written to
tests/fixtures/models/ and committed.

Four small models, one file each, each holding parity_golden.py's tensors (initial weights, batch,
eval logits, eval taps of the first 2 samples, train logits, loss, every parameter's gradient, 10
SGD losses). The configurations exercise each branch of the forward:
  vit_avg_parity          the vit_small28 path: no class token, mean over the tokens after the
                          final norm, eps 1e-5, PyTorch init. 1x16x16, patch 4, dim 32, depth 2,
                          4 heads, MLP 64, 10 classes.
  deit_distilled_parity   DeiT distilled: class and distillation tokens, two heads, eps 1e-6,
                          timm init. 3x16x16, patch 4, dim 24, depth 2, 3 heads, MLP 96, 5 classes.
                          The train step is DeiT's hard distillation (shared/spec §B1) with a
                          stand-in teacher: loss = 0.5 CE(cls_logits, labels) + 0.5
                          CE(dist_logits, labels_dist), labels_dist stored beside labels.
  vit_fc_norm_parity      class token with "avg" pooling of the patch tokens and the LayerNorm
                          after the pooling (fc_norm). 2x8x8, patch 4, dim 16, depth 1, 2 heads,
                          MLP 32, 4 classes.
  mixer_parity            the mixer_small28 path: eps 1e-5, PyTorch init. 1x16x16, patch 4
                          (16 tokens), dim 32, depth 2, token MLP 16, channel MLP 64, 10 classes.
Every LayerNorm's weight and bias and the class/distillation tokens are perturbed from their
initial values (1, 0, ~0), so that the tests see them act. Batch 4.

transformer_state_dicts.txt lists, for every transformer of the registry at its default options,
"## NAME PARAMETER_COUNT" and one "key [shape] dtype" line per state_dict entry, in order.

Usage (from the repository root):
  /usr/bin/python3 tools/golden/make_transformer_fixtures.py
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import transformer_models as tm
from parity_golden import golden, write_state_listings
from safetensors_writer import save_safetensors

BATCH = 4


@torch.no_grad()
def perturb(model, gen):
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            m.weight.add_(0.2 * torch.randn(m.weight.shape, generator=gen))
            m.bias.add_(0.1 * torch.randn(m.bias.shape, generator=gen))
    for name in ('cls_token', 'dist_token'):
        token = getattr(model, name, None)
        if token is not None:
            token.copy_(0.5 * torch.randn(token.shape, generator=gen))


def forward_taps(model, x, taps):
    return model(x, taps)


def deit_hard_step(labels, labels_dist):
    def step(model, x):
        taps = {}
        logits = model(x, taps)
        loss = 0.5 * F.cross_entropy(taps['cls_logits'], labels) + \
            0.5 * F.cross_entropy(taps['dist_logits'], labels_dist)
        return logits, loss
    return step


FIXTURES = [
    ('vit_avg_parity', (1, 16, 16), 10,
     lambda: tm.VisionTransformer(16, 4, 1, 10, 32, 2, 4, 2.0, class_token=False,
                                  global_pool='avg', eps=1e-5, init='pytorch')),
    ('deit_distilled_parity', (3, 16, 16), 5,
     lambda: tm.VisionTransformer(16, 4, 3, 5, 24, 2, 3, 4.0, distilled=True)),
    ('vit_fc_norm_parity', (2, 8, 8), 4,
     lambda: tm.VisionTransformer(8, 4, 2, 4, 16, 1, 2, 2.0, global_pool='avg', fc_norm=True)),
    ('mixer_parity', (1, 16, 16), 10,
     lambda: tm.MlpMixer(10, 16, 1, 4, 2, 32, (0.5, 2.0), eps=1e-5, init='pytorch')),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='tests/fixtures/models', help='directory of the committed fixtures')
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)

    write_state_listings(os.path.join(args.out, 'transformer_state_dicts.txt'),
                         [(name, make()) for name, make in tm.MODELS.items()])

    for seed, (name, image, classes, make) in enumerate(FIXTURES, 1):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(100 + seed)
        model = make()
        perturb(model, gen)
        x = torch.randn((BATCH,) + image, generator=gen)
        labels = torch.randint(0, classes, (BATCH,), generator=gen)
        extra, step = {}, None
        if model.__class__ is tm.VisionTransformer and model.distilled:
            extra['labels_dist'] = torch.randint(0, classes, (BATCH,), generator=gen)
            step = deit_hard_step(labels, extra['labels_dist'])
        meta = {'generator': 'tools/golden/make_transformer_fixtures.py', 'model': name}
        out, meta = golden(model, forward_taps, x, labels, meta, train_step=step)
        out.update(extra)
        save_safetensors(os.path.join(args.out, f'{name}.safetensors'), out, meta)
        print(f'  {name}: loss {out["loss"].item():.6f}, sgd_losses',
              [round(v, 6) for v in out['sgd_losses'].tolist()])
    return 0


if __name__ == '__main__':
    sys.exit(main())
