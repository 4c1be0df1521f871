#!/usr/bin/python3
"""SSKD fixtures: torchdistill torchdistill/losses/mid_level.py::SSKDLoss and AuxSSKDLoss
(01038e7), transcribed
(a refactoring of xuguodong03/SSKD student.py), with the io dicts replaced by named inputs:
student.logits / teacher.logits (the linear outputs), student.ss_feat / teacher.ss_feat (the
ss-module outputs), labels = targets of the n normal images. Batch = 4n rows, row 4i normal.

One deviation, in `rank_select(..., stable=True)`: the reference orders the integer ranks with
torch.argsort(ranks), which is not stable for 17+ rows on CPU (objectives.md §10), so which tied
wrong rows are kept is sort-dependent; tutor keeps the lower-indexed ones. Fixtures with n = 4
(12 rank rows, sorted stably by the reference too) use the reference's call unchanged.

Run: /usr/bin/python3 tools/golden/objectives/sskd.py
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.functional import cosine_similarity

from common import generator, labels, logits, write_fixture


def compute_cosine_similarities(ss_module_outputs, normal_indices, aug_indices,
                                three_forth_batch_size, one_forth_batch_size):
    normal_feat = ss_module_outputs[normal_indices]
    aug_feat = ss_module_outputs[aug_indices]
    normal_feat = normal_feat.unsqueeze(2).expand(-1, -1, three_forth_batch_size).transpose(0, 2)
    aug_feat = aug_feat.unsqueeze(2).expand(-1, -1, one_forth_batch_size)
    return cosine_similarity(aug_feat, normal_feat, dim=1)


def rank_select(scores, aug_targets, three_forth_batch_size, ratio, stable):
    ranks = torch.argsort(scores, dim=1, descending=True)
    ranks = torch.argmax(torch.eq(ranks, aug_targets.unsqueeze(1)).long(), dim=1)
    indices = torch.argsort(ranks, stable=True) if stable else torch.argsort(ranks)
    tmp = torch.nonzero(ranks, as_tuple=True)[0]
    wrong_num = tmp.numel()
    correct_num = three_forth_batch_size - wrong_num
    wrong_keep = int(wrong_num * ratio)
    indices = indices[:correct_num + wrong_keep]
    return torch.sort(indices)[0]


def sskd_terms(v, kl_temp, ss_temp, tf_temp, ss_ratio, tf_ratio, stable):
    student_linear_outputs = v['student.logits']
    teacher_linear_outputs = v['teacher.logits']
    targets = v['labels']
    kldiv_loss = nn.KLDivLoss(reduction='batchmean')
    batch_size = student_linear_outputs.shape[0]
    three_forth_batch_size = int(batch_size * 3 / 4)
    one_forth_batch_size = batch_size - three_forth_batch_size
    normal_indices = (torch.arange(batch_size) % 4 == 0)
    aug_indices = (torch.arange(batch_size) % 4 != 0)
    ce_loss = F.cross_entropy(student_linear_outputs[normal_indices], targets)
    kl_loss = kldiv_loss(torch.log_softmax(student_linear_outputs[normal_indices] / kl_temp, dim=1),
                         torch.softmax(teacher_linear_outputs[normal_indices] / kl_temp, dim=1))
    kl_loss *= (kl_temp ** 2)

    aug_knowledges = torch.softmax(teacher_linear_outputs[aug_indices] / tf_temp, dim=1)
    aug_targets = targets.unsqueeze(1).expand(-1, 3).contiguous().view(-1)
    aug_targets = aug_targets[:three_forth_batch_size].long()
    distill_index_tf = rank_select(aug_knowledges, aug_targets, three_forth_batch_size, tf_ratio,
                                   stable)

    s_cos = compute_cosine_similarities(v['student.ss_feat'], normal_indices, aug_indices,
                                        three_forth_batch_size, one_forth_batch_size)
    t_cos = compute_cosine_similarities(v['teacher.ss_feat'], normal_indices, aug_indices,
                                        three_forth_batch_size, one_forth_batch_size).detach()
    aug_targets = torch.arange(one_forth_batch_size).unsqueeze(1).expand(-1, 3).contiguous().view(-1)
    aug_targets = aug_targets[:three_forth_batch_size].long()
    distill_index_ss = rank_select(t_cos, aug_targets, three_forth_batch_size, ss_ratio, stable)

    ss_loss = kldiv_loss(torch.log_softmax(s_cos[distill_index_ss] / ss_temp, dim=1),
                         torch.softmax(t_cos[distill_index_ss] / ss_temp, dim=1))
    ss_loss *= (ss_temp ** 2)
    log_aug_outputs = torch.log_softmax(student_linear_outputs[aug_indices] / tf_temp, dim=1)
    tf_loss = kldiv_loss(log_aug_outputs[distill_index_tf], aug_knowledges[distill_index_tf])
    tf_loss *= (tf_temp ** 2)
    return {'ce': ce_loss, 'kd': kl_loss, 'ss': ss_loss, 'tf': tf_loss}


def sskd_loss(v, weights, **kw):
    t = sskd_terms(v, **kw)
    total = 0
    for w, loss in zip(weights, [t['ce'], t['kd'], t['ss'], t['tf']]):
        total += w * loss
    return total


def aux_sskd_loss(ss_module_outputs):
    """AuxSSKDLoss.forward with the teacher io dict replaced by the ss-module outputs."""
    batch_size = ss_module_outputs.shape[0]
    three_forth_batch_size = int(batch_size * 3 / 4)
    one_forth_batch_size = batch_size - three_forth_batch_size
    normal_indices = (torch.arange(batch_size) % 4 == 0)
    aug_indices = (torch.arange(batch_size) % 4 != 0)
    normal_rep = ss_module_outputs[normal_indices]
    aug_rep = ss_module_outputs[aug_indices]
    normal_rep = normal_rep.unsqueeze(2).expand(-1, -1, three_forth_batch_size).transpose(0, 2)
    aug_rep = aug_rep.unsqueeze(2).expand(-1, -1, one_forth_batch_size)
    cos_similarities = cosine_similarity(aug_rep, normal_rep, dim=1)
    targets = torch.arange(one_forth_batch_size).unsqueeze(1).expand(-1, 3).contiguous().view(-1)
    targets = targets[:three_forth_batch_size].long()
    return nn.CrossEntropyLoss(reduction='mean')(cos_similarities, targets)


def main():
    for n in (4, 8):
        g = generator(850 + n)
        base = torch.randn(n, 12, generator=g, dtype=torch.float64)
        f = base.repeat_interleave(4, 0) + torch.randn(4 * n, 12, generator=g, dtype=torch.float64)
        write_fixture(f'sskd_aux_n{n}', 'sskd_aux', {}, {'student.ss_feat': f},
                      lambda v: aux_sskd_loss(v['student.ss_feat']))
    configs = [
        # name, n images, kl_temp, ss_temp, tf_temp, ss_ratio, tf_ratio, weights
        ('default', 8, 4.0, 0.5, 4.0, 0.75, 1.0, [1.0, 0.9, 10.0, 2.7]),
        ('T1', 8, 1.0, 0.5, 1.0, 0.75, 0.5, [1.0, 0.9, 10.0, 2.7]),
        ('T2', 8, 2.0, 1.0, 2.0, 0.5, 0.75, [0.5, 1.0, 2.0, 1.0]),
        ('T8', 8, 8.0, 0.5, 8.0, 0.25, 0.3, [1.0, 0.9, 10.0, 2.7]),
        ('small_T4', 4, 4.0, 0.5, 4.0, 0.75, 0.5, [1.0, 0.9, 10.0, 2.7]),
    ]
    for name, n, kl_t, ss_t, tf_t, ss_r, tf_r, w in configs:
        g = generator(800 + n + int(kl_t))
        B, C, D = 4 * n, 20, 12
        # Teacher ss features: each rotation near its image's normal view plus noise, so that some
        # rows rank their own image first and some do not.
        base = torch.randn(n, D, generator=g, dtype=torch.float64)
        ft = base.repeat_interleave(4, 0) + 1.2 * torch.randn(B, D, generator=g, dtype=torch.float64)
        fs = torch.randn(B, D, generator=g, dtype=torch.float64)
        y = labels(g, n, C)
        zt = logits(g, B, C)
        zt[torch.arange(B), y.repeat_interleave(4)] += 4.0  # a teacher right on most rows
        inputs = {'student.logits': logits(g, B, C), 'teacher.logits': zt,
                  'student.ss_feat': fs, 'teacher.ss_feat': ft, 'labels': y}
        params = {'kl_temp': kl_t, 'ss_temp': ss_t, 'tf_temp': tf_t, 'ss_ratio': ss_r,
                  'tf_ratio': tf_r, 'loss_weights': ','.join(str(x) for x in w)}
        kw = dict(kl_temp=kl_t, ss_temp=ss_t, tf_temp=tf_t, ss_ratio=ss_r, tf_ratio=tf_r,
                  stable=(n > 4))
        write_fixture(f'sskd_{name}', 'sskd', params, inputs,
                      lambda v, w=w, kw=kw: sskd_loss(v, w, **kw),
                      parts_fn=lambda v, kw=kw: sskd_terms(v, **kw))


if __name__ == '__main__':
    main()
