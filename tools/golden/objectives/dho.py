#!/usr/bin/python3
"""DHO fixtures: erjui/DHO (4b24cf9) train_imgnet.py::train_student, the distillation terms
transcribed (the CE term on ce_head is tutor's "ce" objective):

  stacked_logits_kd = kd_head(features of cat([labeled, unlabeled]))
  distill_loss_labeled   = kl_div(log_softmax(kd[:L] / T), softmax(t_l / T), 'batchmean') * T * T
  distill_loss_unlabeled = kl_div(log_softmax(kd[L:] / T), softmax(t_u / T), 'batchmean') * T * T
  dho loss = 0.5 * (distill_loss_labeled + distill_loss_unlabeled)

The reference fixes T = 2; the fixtures also run T = 1, 4, 8. tutor marks the rows with
unlabeled_mask (0 for the first L rows, 1 for the rest, as the reference stacks them).

Run: /usr/bin/python3 tools/golden/objectives/dho.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import generator, logits, write_fixture


class Holder(nn.Module):
    def __init__(self, d, c):
        super().__init__()
        self.kd_head = nn.Linear(d, c)


def main():
    L, U, D, C = 10, 6, 12, 20
    for T in (1, 2, 4, 8):
        g = generator(600 + T)
        pooled = torch.randn(L + U, D, generator=g, dtype=torch.float64) * 2
        zt = logits(g, L + U, C)
        mask = torch.tensor([0] * L + [1] * U, dtype=torch.int64)
        torch.manual_seed(700 + T)
        module = Holder(D, C).double()

        def terms(v, module=module, T=T):
            temperature = float(T)
            stacked_logits_kd = module.kd_head(v['student.pooled'])
            teacher_logits_labeled = v['teacher.logits'][:L]
            teacher_logits_unlabeled = v['teacher.logits'][L:]
            distill_loss_labeled = F.kl_div(
                F.log_softmax(stacked_logits_kd[:L] / temperature, dim=1),
                F.softmax(teacher_logits_labeled / temperature, dim=1),
                reduction='batchmean') * (temperature * temperature)
            distill_loss_unlabeled = F.kl_div(
                F.log_softmax(stacked_logits_kd[L:] / temperature, dim=1),
                F.softmax(teacher_logits_unlabeled / temperature, dim=1),
                reduction='batchmean') * (temperature * temperature)
            return distill_loss_labeled, distill_loss_unlabeled

        def loss_fn(v, terms=terms):
            a, b = terms(v)
            return 0.5 * (a + b)

        def parts_fn(v, terms=terms):
            a, b = terms(v)
            return {'kl_labeled': a, 'kl_unlabeled': b}

        write_fixture(f'dho_T{T}', 'dho', {'T': T},
                      {'student.pooled': pooled, 'teacher.logits': zt, 'unlabeled_mask': mask},
                      loss_fn, parts_fn, module=module)


if __name__ == '__main__':
    main()
