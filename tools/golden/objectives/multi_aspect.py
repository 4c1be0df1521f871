#!/usr/bin/python3
"""Multi-aspect KD fixtures (objectives.md §2.16, [unverified]; no public reference code).

A PyTorch TRANSCRIPTION OF THE FORMULA as the catalog states it:
  loss = lambda * F.binary_cross_entropy_with_logits(aspect_logits, q)   (reduction 'mean')
with the soft targets q treated as data (detached).

Run: /usr/bin/python3 tools/golden/objectives/multi_aspect.py
"""
import torch
import torch.nn.functional as F

from common import generator, logits, write_fixture


def main():
    for lam in (1.0, 0.3):
        g = generator(700 + int(lam * 10))
        z = logits(g, 16, 12, scale=3.0)
        q = torch.rand(16, 12, generator=g, dtype=torch.float64)
        q[0, :3] = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64)
        write_fixture(f'multi_aspect_l{lam}', 'multi_aspect', {'lambda': lam},
                      {'student.aspect_logits': z, 'aspect_targets': q},
                      lambda v, lam=lam: lam * F.binary_cross_entropy_with_logits(
                          v['student.aspect_logits'], v['aspect_targets'].detach()),
                      parts_fn=lambda v: {'bce': F.binary_cross_entropy_with_logits(
                          v['student.aspect_logits'], v['aspect_targets'])})


if __name__ == '__main__':
    main()
