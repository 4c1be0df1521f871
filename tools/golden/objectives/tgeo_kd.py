#!/usr/bin/python3
"""TGeo-KD fixtures: Chengming0501/TGeo-KD (9f8f2bc), the image-classification path cifar100/,
transcribed: lib/models/reweighting.py (ResNet.forward's fusion-ratio input and the
`reweighting` network), lib/losses/kd_loss.py::KDLoss and lib/trainer.py (precompute's class
means, the adapt == 1 training step).

  stats[c] = mean of softmax(teacher) over the samples of class c      (precompute)
  _x, _t = softmax(output), softmax(teacher); _g = one_hot(gt); stats = stats[gt]
  _x_in = cat([_x, _t, stats, _g, |_x - _g|, |_x - _t|, |_x - stats|,
               (_g - stats) * (_g - _x), (_g - _t) * (_g - _x)], 1)
  alpha = reweighting(_x_in)     Linear(9C, 128) - ReLU - Linear(128, 1) - Sigmoid
  loss = ((1 - alpha) * CE(output, gt) + alpha * KL(log_softmax(output / T), softmax(t / T)).sum(1)).mean()

Note: alpha is [B, 1] in the reference and broadcasts against the [B] losses into [B, B] before
the mean; that equals mean_i(1 - alpha_i) * mean_j CE_j + mean_i alpha_i * mean_j KL_j, not the
per-sample fusion the paper describes. The *_broadcast fixtures transcribe that as it is
(tutor's broadcast=true); the others squeeze alpha to [B] (the paper's per-sample form, and
what the tabular src/fusion_ratio_bilevel.py does with torch.squeeze; tutor's default).

tutor keeps the class means as a buffer updated from each training batch before use; from zero
state that equals precompute run on the fixture's batch, which is what the script does.
The fixtures use C = 10 and hidden = 16 to stay small.

Run: /usr/bin/python3 tools/golden/objectives/tgeo_kd.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import generator, labels, logits, write_fixture


class Holder(nn.Module):
    def __init__(self, num_classes, hidden):
        super().__init__()
        self.reweighting = nn.Sequential(
            nn.Linear(num_classes * 9, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, 1),
            nn.Sigmoid())
        self.softmax = nn.Softmax(dim=1)


def precompute(teacher_logits, target, num_classes):
    stats = torch.zeros(num_classes, num_classes, dtype=torch.float64)
    counts = torch.zeros(num_classes, dtype=torch.float64)
    output = torch.softmax(teacher_logits, dim=1)
    for ind, j in enumerate(output):
        stats[int(target[ind])] += j
        counts[int(target[ind])] += 1
    return stats / counts.unsqueeze(-1)


def main():
    B, C, H = 16, 10, 16
    for T in (1, 2, 4, 8):
        for ratio_grad, broadcast in ((True, False), (False, False), (True, True)):
            g = generator(800 + T)
            zs = logits(g, B, C, scale=2.0)
            zt = logits(g, B, C, scale=3.0)
            y = labels(g, B, C)
            torch.manual_seed(900 + T)
            model = Holder(C, H).double()
            all_stats = precompute(zt, y, C)

            def loss_fn(v, model=model, T=T, ratio_grad=ratio_grad, all_stats=all_stats,
                        broadcast=broadcast):
                output, teacher, gt = v['student.logits'], v['teacher.logits'], v['labels']
                stats = torch.index_select(all_stats, 0, gt)
                with torch.set_grad_enabled(ratio_grad):
                    _x = model.softmax(output if ratio_grad else output.detach())
                    _t = model.softmax(teacher)
                    _g = torch.nn.functional.one_hot(gt, num_classes=C).double()
                    _x_in = torch.cat([_x, _t, stats, _g,
                                       torch.abs(_x - _g), torch.abs(_x - _t), torch.abs(_x - stats),
                                       (_g - stats) * (_g - _x), (_g - _t) * (_g - _x)], dim=1)
                    alpha = model.reweighting(_x_in)
                    if not broadcast:
                        alpha = alpha.squeeze(1)
                if not ratio_grad:
                    alpha = alpha.detach()
                KD_loss = nn.KLDivLoss(reduction='none')(F.log_softmax(output / T, dim=1),
                                                         F.softmax(teacher / T, dim=1))
                CE_loss = nn.CrossEntropyLoss(reduction='none')(output, gt)
                loss = (1 - alpha) * CE_loss + alpha * KD_loss.sum(1)
                return loss.mean()

            params = {'T': T, 'hidden': H}
            if not ratio_grad:
                params['ratio_grad'] = 'false'
            if broadcast:
                params['broadcast'] = 'true'
            name = f'tgeo_kd_T{T}' + ('' if ratio_grad else '_detached') + ('_broadcast' if broadcast else '')
            write_fixture(name, 'tgeo_kd', params,
                          {'student.logits': zs, 'teacher.logits': zt, 'labels': y}, loss_fn,
                          module=model)


if __name__ == '__main__':
    main()
