#!/usr/bin/python3
"""DKD fixtures: mdistiller distillers/DKD.py::dkd_loss and DKD.forward_train (a08d46f),
transcribed: the -1000 mask on the target logit and log of the summed binary probabilities,
as coded there. tutor computes the same quantities in log space with exact masking; on these
inputs the two agree to rounding.

  loss = min(epoch / warmup, 1) * (alpha * tckd + beta * nckd)

mdistiller's epoch is 1-based; the fixture stores tutor's 0-based context.epoch = epoch - 1.

Run: /usr/bin/python3 tools/golden/objectives/dkd.py
"""
import torch
import torch.nn.functional as F

from common import generator, labels, logits, write_fixture


def _get_gt_mask(logits, target):
    target = target.reshape(-1)
    return torch.zeros_like(logits).scatter_(1, target.unsqueeze(1), 1).bool()


def _get_other_mask(logits, target):
    target = target.reshape(-1)
    return torch.ones_like(logits).scatter_(1, target.unsqueeze(1), 0).bool()


def cat_mask(t, mask1, mask2):
    t1 = (t * mask1).sum(dim=1, keepdims=True)
    t2 = (t * mask2).sum(1, keepdims=True)
    return torch.cat([t1, t2], dim=1)


def dkd_parts(logits_student, logits_teacher, target, temperature):
    gt_mask = _get_gt_mask(logits_student, target)
    other_mask = _get_other_mask(logits_student, target)
    pred_student = F.softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    pred_student = cat_mask(pred_student, gt_mask, other_mask)
    pred_teacher = cat_mask(pred_teacher, gt_mask, other_mask)
    log_pred_student = torch.log(pred_student)
    tckd_loss = (F.kl_div(log_pred_student, pred_teacher, reduction='sum')
                 * (temperature**2) / target.shape[0])
    pred_teacher_part2 = F.softmax(logits_teacher / temperature - 1000.0 * gt_mask, dim=1)
    log_pred_student_part2 = F.log_softmax(logits_student / temperature - 1000.0 * gt_mask, dim=1)
    nckd_loss = (F.kl_div(log_pred_student_part2, pred_teacher_part2, reduction='sum')
                 * (temperature**2) / target.shape[0])
    return tckd_loss, nckd_loss


def dkd_loss(v, alpha, beta, T, epoch, warmup):
    tckd, nckd = dkd_parts(v['student.logits'], v['teacher.logits'], v['labels'], T)
    return min(epoch / warmup, 1.0) * (alpha * tckd + beta * nckd)


def main():
    # (alpha, beta, warmup, mdistiller epoch): defaults mid warm-up, defaults after warm-up, and
    # non-default weights.
    configs = [(1.0, 8.0, 20, 5), (1.0, 8.0, 20, 30), (2.0, 0.5, 1, 1)]
    for T in (1, 2, 4, 8):
        for i, (alpha, beta, warmup, epoch) in enumerate(configs):
            g = generator(300 + 10 * T + i)
            inputs = {'student.logits': logits(g, 16, 20), 'teacher.logits': logits(g, 16, 20),
                      'labels': labels(g, 16, 20)}
            params = {'T': T, 'alpha': alpha, 'beta': beta, 'warmup': warmup}
            write_fixture(
                f'dkd_T{T}_{i}', 'dkd', params, inputs,
                lambda v, a=alpha, b=beta, T=T, e=epoch, w=warmup: dkd_loss(v, a, b, T, e, w),
                parts_fn=lambda v, T=T: dict(zip(
                    ('tckd', 'nckd'),
                    dkd_parts(v['student.logits'], v['teacher.logits'], v['labels'], T))),
                context={'epoch': epoch - 1, 'epochs': 240})


if __name__ == '__main__':
    main()
