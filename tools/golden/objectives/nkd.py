#!/usr/bin/python3
"""NKD fixtures: yzd-v/cls_KD mmcls/models/dis_losses/nkd.py::NKDLoss (1e5d48f), transcribed
without the mmcls registry.

  loss_t   = -(t_t * s_t).mean()                        (temperature 1, teacher prob detached)
  loss_non = -gamma * T**2 * (T_i * S_i).sum(1).mean()  (target column removed, temperature T)

Run: /usr/bin/python3 tools/golden/objectives/nkd.py
"""
import torch
import torch.nn.functional as F

from common import generator, labels, logits, write_fixture


def nkd_parts(logit_s, logit_t, gt_label, temp, gamma):
    label = gt_label.view(len(gt_label), 1)
    N, c = logit_s.shape
    s_i = F.log_softmax(logit_s, dim=1)
    t_i = F.softmax(logit_t, dim=1)
    s_t = torch.gather(s_i, 1, label)
    t_t = torch.gather(t_i, 1, label).detach()
    loss_t = -(t_t * s_t).mean()
    mask = torch.ones_like(logit_s).scatter_(1, label, 0).bool()
    logit_s = logit_s[mask].reshape(N, -1)
    logit_t = logit_t[mask].reshape(N, -1)
    S_i = F.log_softmax(logit_s / temp, dim=1)
    T_i = F.softmax(logit_t / temp, dim=1)
    loss_non = (T_i * S_i).sum(dim=1).mean()
    loss_non = -gamma * (temp**2) * loss_non
    return loss_t, loss_non


def main():
    for T in (1, 2, 4, 8):
        for gamma, suffix in ((1.5, ''), (3.5, '_gamma3.5')):
            g = generator(500 + T + (100 if suffix else 0))
            inputs = {'student.logits': logits(g, 16, 20), 'teacher.logits': logits(g, 16, 20),
                      'labels': labels(g, 16, 20)}

            def parts(v, T=T, gamma=gamma):
                return nkd_parts(v['student.logits'], v['teacher.logits'], v['labels'], T, gamma)

            write_fixture(f'nkd_T{T}{suffix}', 'nkd', {'T': T, 'gamma': gamma}, inputs,
                          lambda v, parts=parts: sum(parts(v)),
                          parts_fn=lambda v, parts=parts: dict(zip(('target', 'non_target'),
                                                                   parts(v))))


if __name__ == '__main__':
    main()
