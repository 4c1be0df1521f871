#!/usr/bin/python3
"""KL+DP fixtures (Roth et al. ICLR 2024, "Fantastic Gains and Where to Find Them").

objectives.md §2.17 is [unverified] and no reference file was available here: this is a PyTorch
TRANSCRIPTION OF THE FORMULA as the catalog and distill/objectives/kl_dp.cpp state it:
  per sample, the target is the teacher (teacher.logits) when its probability of the true class
  (mode=label) or its max probability (mode=confidence) at T = 1 is >= that of the frozen initial
  student (teacher1.logits), else the initial student;
  loss = T^2 * KL_batchmean(softmax(z_sel / T) || softmax(z_s / T)).

Run: /usr/bin/python3 tools/golden/objectives/kl_dp.py
"""
import torch
import torch.nn.functional as F

from common import generator, labels, logits, write_fixture


def kl_dp(v, T, mode):
    zt, z0 = v['teacher.logits'], v['teacher1.logits']
    pt, p0 = F.softmax(zt, dim=1), F.softmax(z0, dim=1)
    if mode == 'label':
        y = v['labels'].unsqueeze(1)
        use_t = pt.gather(1, y) >= p0.gather(1, y)
    else:
        use_t = pt.max(1, keepdim=True)[0] >= p0.max(1, keepdim=True)[0]
    target = torch.where(use_t, zt, z0)
    return T**2 * F.kl_div(F.log_softmax(v['student.logits'] / T, dim=1),
                           F.softmax(target / T, dim=1), reduction='batchmean')


def main():
    for T in (1, 2, 4, 8):
        for mode in ('label', 'confidence'):
            g = generator(600 + T)
            inputs = {'student.logits': logits(g, 16, 20), 'teacher.logits': logits(g, 16, 20),
                      'teacher1.logits': logits(g, 16, 20)}
            if mode == 'label':
                inputs['labels'] = labels(g, 16, 20)
            write_fixture(f'kl_dp_{mode}_T{T}', 'kl_dp', {'T': T, 'mode': mode}, inputs,
                          lambda v, T=T, mode=mode: kl_dp(v, T, mode))


if __name__ == '__main__':
    main()
