#!/usr/bin/python3
"""MLKD fixtures: Jin-Ying/Multi-Level-Logit-Distillation mdistiller/distillers/KD_ours.py
(commit 6327e73), KD_ours.forward_train without its CE term, transcribed.

mode=faithful is the code as written: scalar kd/cc/bc losses times the median masks, then
.mean() (so a mask rescales by its kept fraction); the "strong" KD sum uses weak logits at
temperatures 2 and 6; loss_cc_strong and loss_bc_strong are not in the returned losses.
mode=per_sample is the same code with kd_loss(reduce=False) (the commented-out argument) and the
Gram terms cc_loss/bc_loss(reduce=False) multiplied by the mask and summed (tutor keeps the
reduced normalization / C and / B; see distill/objectives/mlkd.cpp).

The thresholds use np.percentile(., 50) on the teacher's weak-view confidences, as the code does.
Tested: B = 16 (even: the median interpolates) and B = 15 (odd), T in {1, 2, 4, 8}.

Run: /usr/bin/python3 tools/golden/objectives/mlkd.py
"""
import numpy as np
import torch
import torch.nn.functional as F

from common import generator, logits, write_fixture


def kd_loss(logits_student, logits_teacher, temperature, reduce=True):
    log_pred_student = F.log_softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    if reduce:
        loss_kd = F.kl_div(log_pred_student, pred_teacher, reduction="none").sum(1).mean()
    else:
        loss_kd = F.kl_div(log_pred_student, pred_teacher, reduction="none").sum(1)
    loss_kd *= temperature**2
    return loss_kd


def cc_loss(logits_student, logits_teacher, temperature, reduce=True):
    batch_size, class_num = logits_teacher.shape
    pred_student = F.softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    student_matrix = torch.mm(pred_student.transpose(1, 0), pred_student)
    teacher_matrix = torch.mm(pred_teacher.transpose(1, 0), pred_teacher)
    if reduce:
        return ((teacher_matrix - student_matrix) ** 2).sum() / class_num
    return ((teacher_matrix - student_matrix) ** 2) / class_num


def bc_loss(logits_student, logits_teacher, temperature, reduce=True):
    batch_size, class_num = logits_teacher.shape
    pred_student = F.softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    student_matrix = torch.mm(pred_student, pred_student.transpose(1, 0))
    teacher_matrix = torch.mm(pred_teacher, pred_teacher.transpose(1, 0))
    if reduce:
        return ((teacher_matrix - student_matrix) ** 2).sum() / batch_size
    return ((teacher_matrix - student_matrix) ** 2) / batch_size


def masks(logits_teacher_weak):
    pred_teacher_weak = F.softmax(logits_teacher_weak.detach(), dim=1)
    confidence, _ = pred_teacher_weak.max(dim=1)
    confidence = confidence.detach()
    conf_thresh = np.percentile(confidence.cpu().numpy().flatten(), 50)
    mask = confidence.le(conf_thresh).bool()
    class_confidence = torch.sum(pred_teacher_weak, dim=0).detach()
    class_confidence_thresh = np.percentile(class_confidence.cpu().numpy().flatten(), 50)
    class_conf_mask = class_confidence.le(class_confidence_thresh).bool()
    return mask, class_conf_mask


def mlkd_terms(sw, ss, tw, ts, T, mode):
    mask, class_conf_mask = masks(tw)
    temps = (T, 3.0, 5.0, 2.0, 6.0)
    if mode == 'faithful':
        loss_kd_weak = sum((kd_loss(sw, tw, t) * mask).mean() for t in temps)
        loss_cc_weak = sum((cc_loss(sw, tw, t) * class_conf_mask).mean() for t in temps)
        loss_bc_weak = sum((bc_loss(sw, tw, t) * mask).mean() for t in temps)
    else:
        loss_kd_weak = sum((kd_loss(sw, tw, t, reduce=False) * mask).mean() for t in temps)
        loss_cc_weak = sum((cc_loss(sw, tw, t, reduce=False) * class_conf_mask).sum() for t in temps)
        loss_bc_weak = sum((bc_loss(sw, tw, t, reduce=False) * mask).sum() for t in temps)
    loss_kd_strong = (kd_loss(ss, ts, T) + kd_loss(ss, ts, 3.0) + kd_loss(ss, ts, 5.0)
                      + kd_loss(sw, tw, 2.0) + kd_loss(sw, tw, 6.0))
    return {'kd': loss_kd_weak + loss_kd_strong, 'cc': loss_cc_weak, 'bc': loss_bc_weak}


def main():
    for mode in ('faithful', 'per_sample'):
        for T in (1, 2, 4, 8):
            for batch in (16, 15):
                g = generator(400 + T + batch)
                inputs = {'student.logits': logits(g, batch, 20),
                          'teacher.logits': logits(g, batch, 20),
                          'student.logits_strong': logits(g, batch, 20),
                          'teacher.logits_strong': logits(g, batch, 20)}

                def terms(v, T=T, mode=mode):
                    return mlkd_terms(v['student.logits'], v['student.logits_strong'],
                                      v['teacher.logits'], v['teacher.logits_strong'], T, mode)

                write_fixture(f'mlkd_{mode}_T{T}_B{batch}', 'mlkd', {'T': T, 'mode': mode}, inputs,
                              lambda v, terms=terms: sum(terms(v).values()), parts_fn=terms)


if __name__ == '__main__':
    main()
