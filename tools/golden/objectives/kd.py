#!/usr/bin/python3
"""KD fixtures: mdistiller distillers/KD.py::kd_loss (a08d46f), transcribed, with the logit
standardization of sunshangquan/logit-standardization-KD KD.py (f6e5aa5) for standardize=true.

  loss_kd = KL(log_softmax(z_s / T), softmax(z_t / T), reduction='none').sum(1).mean() * T**2

Run: /usr/bin/python3 tools/golden/objectives/kd.py
"""
import torch
import torch.nn.functional as F

from common import generator, labels, logits, write_fixture


def normalize(logit):
    mean = logit.mean(dim=-1, keepdims=True)
    stdv = logit.std(dim=-1, keepdims=True)
    return (logit - mean) / (1e-7 + stdv)


def kd_loss(logits_student, logits_teacher, temperature, logit_stand):
    logits_student = normalize(logits_student) if logit_stand else logits_student
    logits_teacher = normalize(logits_teacher) if logit_stand else logits_teacher
    log_pred_student = F.log_softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    loss_kd = F.kl_div(log_pred_student, pred_teacher, reduction="none").sum(1).mean()
    loss_kd *= temperature**2
    return loss_kd


def ce_fixture():
    g = generator(11)
    zs = logits(g, 16, 10)
    y = labels(g, 16, 10)
    write_fixture('ce', 'ce', {}, {'student.logits': zs, 'labels': y},
                  lambda v: F.cross_entropy(v['student.logits'], v['labels']))
    write_fixture('ce_smoothing', 'ce', {'label_smoothing': 0.1},
                  {'student.logits': zs, 'labels': y},
                  lambda v: F.cross_entropy(v['student.logits'], v['labels'],
                                            label_smoothing=0.1))


def main():
    for T in (1, 2, 4, 8):
        for stand in (False, True):
            g = generator(100 + T)
            inputs = {'student.logits': logits(g, 16, 20), 'teacher.logits': logits(g, 16, 20)}
            params = {'T': T}
            if stand:
                params['standardize'] = 'true'
            name = f'kd_T{T}' + ('_standardize' if stand else '')
            write_fixture(name, 'kd', params, inputs,
                          lambda v, T=T, stand=stand: kd_loss(v['student.logits'],
                                                              v['teacher.logits'], T, stand))
    ce_fixture()


if __name__ == '__main__':
    main()
