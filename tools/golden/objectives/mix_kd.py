#!/usr/bin/python3
"""MIX-KD fixtures: hchoi71/MIX-KD (72fab8a) distiller_zoo/MIXSTD.py::MIXSTDLoss, transcribed,
on soft labels mixed as helper/loops_mixstd.py::PMU mixes its one-hot targets.

  stdt, stds = std(logit_t, -1), std(logit_s, -1)        (unbiased, keepdim)
  loss_cls = gamma * sum(-log_softmax(logit_s / stds) * target) / B
  loss_div = alpha * KLDivLoss('batchmean')(log_softmax(logit_s / stds), softmax(logit_t / stdt))
  loss = loss_cls + loss_div

The loss has no temperature; the fixtures vary the logits' scale (1, 2, 4, 8) and the weights.

Run: /usr/bin/python3 tools/golden/objectives/mix_kd.py
"""
import types

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import generator, labels, logits, write_fixture


class MIXSTDLoss(nn.Module):
    def __init__(self, opt):
        super(MIXSTDLoss, self).__init__()
        self.opt = opt
        self.cross_ent = nn.CrossEntropyLoss()
        self.KL = nn.KLDivLoss(reduction='batchmean')

    def forward(self, logit_s, logit_t, target):
        stdt = torch.std(logit_t, dim=-1, keepdim=True)
        stds = torch.std(logit_s, dim=-1, keepdim=True)
        loss = -F.log_softmax(logit_s / stds, -1) * target
        loss_cls = self.opt.gamma * (torch.sum(loss)) / logit_s.shape[0]
        p_s = F.log_softmax(logit_s / stds, dim=1)
        p_t = F.softmax(logit_t / stdt, dim=1)
        std_KD = self.KL(p_s, p_t)
        loss_div = self.opt.alpha * std_KD
        return loss_cls, loss_div


def mixed_targets(g, batch, classes, percent=0.9, beta_a=1.0):
    """PMU's target mixing with torch draws (the pixels are not needed here)."""
    y = labels(g, batch, classes)
    rp1 = torch.randperm(batch, generator=g)
    rp2 = torch.randperm(batch, generator=g)
    a = torch.distributions.Beta(beta_a, beta_a).sample((batch, 1)).double()
    ridx = torch.randint(0, batch, (int(batch * percent),), generator=g)
    a[ridx] = 1.
    oh1 = F.one_hot(y[rp1], classes).double()
    oh2 = F.one_hot(y[rp2], classes).double()
    return oh1 * a + oh2 * (1 - a)


def main():
    torch.manual_seed(0)
    for scale in (1, 2, 4, 8):
        for gamma, alpha in ((0.1, 0.9), (1.0, 0.5)):
            g = generator(500 + scale)
            zs = logits(g, 16, 20, scale=scale)
            zt = logits(g, 16, 20, scale=scale * 1.5)
            y = mixed_targets(g, 16, 20)
            crit = MIXSTDLoss(types.SimpleNamespace(gamma=gamma, alpha=alpha))
            name = f'mix_kd_scale{scale}' + ('' if gamma == 0.1 else '_weights')
            params = {} if gamma == 0.1 else {'gamma': gamma, 'alpha': alpha}
            inputs = {'student.logits': zs, 'teacher.logits': zt, 'soft_labels': y}

            def loss_fn(v, crit=crit):
                cls, kd = crit(v['student.logits'], v['teacher.logits'], v['soft_labels'])
                return cls + kd

            def parts_fn(v, crit=crit):
                cls, kd = crit(v['student.logits'], v['teacher.logits'], v['soft_labels'])
                return {'cls': cls, 'kd': kd}

            write_fixture(name, 'mix_kd', params, inputs, loss_fn, parts_fn)


if __name__ == '__main__':
    main()
