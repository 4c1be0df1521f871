#!/usr/bin/python3
"""Tf-KD_reg fixtures: yuanli2333/Teacher-free-Knowledge-Distillation
my_loss_function.py::loss_kd_regularization (880a74e), transcribed: the regularization term only
(tutor's "ce" objective is the reference's (1 - alpha) * CE part), on the CPU, with correct_prob
(the reference's constant 0.99) and multiplier (params.multiplier) as arguments.

  teacher_soft = (1 - correct_prob) / (K - 1) everywhere, correct_prob at the label
  loss = nn.KLDivLoss()(log_softmax(outputs), softmax(teacher_soft / T)) * multiplier
         (KLDivLoss's default reduction 'mean': over all B * K elements)

Run: /usr/bin/python3 tools/golden/objectives/tf_kd_reg.py
"""
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import generator, labels, logits, write_fixture


def loss_soft_regu(outputs, labels_, T, correct_prob, multiplier):
    K = outputs.size(1)
    teacher_soft = torch.ones_like(outputs)
    teacher_soft = teacher_soft * (1 - correct_prob) / (K - 1)
    for i in range(outputs.shape[0]):
        teacher_soft[i, labels_[i]] = correct_prob
    return nn.KLDivLoss()(F.log_softmax(outputs, dim=1), F.softmax(teacher_soft / T, dim=1)) * multiplier


def main():
    warnings.filterwarnings('ignore')  # KLDivLoss's 'mean' warning: 'mean' is the point here
    configs = [(T, 0.99, 1.0) for T in (1, 2, 4, 8)]
    # The defaults (the reference's ResNet-18 config), and another label probability and scale.
    configs += [(20, 0.99, 100.0), (2, 0.9, 50.0)]
    for T, cp, m in configs:
        g = generator(700 + T)
        inputs = {'student.logits': logits(g, 16, 20), 'labels': labels(g, 16, 20)}
        params = {'T': T, 'correct_prob': cp, 'multiplier': m}
        name = f'tf_kd_reg_T{T}' + ('' if cp == 0.99 else f'_a{int(cp * 100)}')
        name += '' if m == 1.0 else f'_m{int(m)}'
        write_fixture(name, 'tf_kd_reg', params, inputs,
                      lambda v, T=T, cp=cp, m=m: loss_soft_regu(v['student.logits'], v['labels'],
                                                                T, cp, m))


if __name__ == '__main__':
    main()
