#!/usr/bin/python3
"""LS-KD fixtures: torchdistill losses/mid_level.py::LogitStdKDLoss (3e4373c), transcribed as a
function of the logits (the io_dict plumbing removed). Its soft loss is

  KLDivLoss('batchmean')(log_softmax(standardize(z_s) / T), softmax(standardize(z_t) / T))
  standardize(z) = (z - z.mean(-1)) / (eps + z.std(-1)),  eps = 1e-7

returned bare when alpha is None (tutor: scale_t2=false) and entering the combined loss as
beta * T**2 * soft_loss otherwise (tutor's default, scale_t2=true: the T**2 * soft_loss factor).
sunshangquan/logit-standardization-KD KD.py::kd_loss with logit_stand computes the same T**2 form.

Run: /usr/bin/python3 tools/golden/objectives/ls_kd.py
"""
import torch
from torch import nn

from common import generator, logits, write_fixture


class LogitStdKDLoss(nn.KLDivLoss):
    def __init__(self, temperature, eps=1e-7, reduction='batchmean'):
        super().__init__(reduction=reduction)
        self.temperature = temperature
        self.eps = eps

    def standardize(self, logits):
        return (logits - logits.mean(dim=-1, keepdims=True)) / (
            self.eps + logits.std(dim=-1, keepdims=True))

    def forward(self, student_logits, teacher_logits):
        return super().forward(
            torch.log_softmax(self.standardize(student_logits) / self.temperature, dim=1),
            torch.softmax(self.standardize(teacher_logits) / self.temperature, dim=1))


def main():
    for T in (1, 2, 4, 8):
        g = generator(700 + T)
        inputs = {'student.logits': logits(g, 16, 20), 'teacher.logits': logits(g, 16, 20)}
        loss = LogitStdKDLoss(T)
        write_fixture(f'ls_kd_T{T}', 'ls_kd', {'T': T}, inputs,
                      lambda v, loss=loss, T=T: T**2 * loss(v['student.logits'],
                                                            v['teacher.logits']))
        write_fixture(f'ls_kd_T{T}_bare', 'ls_kd', {'T': T, 'scale_t2': 'false'}, inputs,
                      lambda v, loss=loss: loss(v['student.logits'], v['teacher.logits']))


if __name__ == '__main__':
    main()
