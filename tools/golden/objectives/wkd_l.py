#!/usr/bin/python3
"""WKD-L fixtures: JiamingLv/WKD mdistiller/distillers/WKD.py (catalog commit 214cf88) — sinkhorn,
wkd_logit_loss, wkd_logit_loss_with_speration and the cosine decay of WKD.forward_train — and
tools/generate_cost_matrix.py::linear_CKA_precenter with the COST_MATRIX_SHARPEN step of
WKD.__init__, transcribed. The WKD repository itself is not in the code store; the text read was
an identical copy of WKD.py and, for the tool, hanna6666/wassterin_dill (ff03a5d)
tools/generate_cost_matrix.py, a fork of WKD.

Differences from the reference, none of which changes the math: the f32 casts under autocast are
left out (the fixtures are f64), and the cost matrix is built on the CPU.

Writes wkd_l_T{1,2,4,8}.safetensors (epoch 1 of 240: no decay), wkd_l_T8_decay.safetensors
(0-based epoch 199 -> the reference's epoch 200 > e0 = 150) and wkd_cost_matrix.safetensors
(features [C, N, D] and the sharpened CKA cost matrix).

Run: /usr/bin/python3 tools/golden/objectives/wkd_l.py
"""
import math
import os

import torch
import torch.nn.functional as F

from common import OUT, generator, labels, logits, write_fixture
from safetensors_writer import save_safetensors


def sinkhorn(w1, w2, cost, reg=0.05, max_iter=10):
    bs, dim = w1.shape
    w1 = w1.unsqueeze(-1)
    w2 = w2.unsqueeze(-1)
    u = 1 / dim * torch.ones_like(w1, device=w1.device, dtype=w1.dtype)
    K = torch.exp(-cost / reg)
    Kt = K.transpose(2, 1)
    for _ in range(max_iter):
        v = w2 / (torch.bmm(Kt, u) + 1e-8)
        u = w1 / (torch.bmm(K, v) + 1e-8)
    return u.reshape(bs, -1, 1) * K * v.reshape(bs, 1, -1)


def wkd_logit_loss(logits_student, logits_teacher, temperature, cost_matrix, sinkhorn_lambda,
                   sinkhorn_iter):
    pred_student = F.softmax(logits_student / temperature, dim=-1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=-1)
    cost_matrix = F.relu(cost_matrix) + 1e-8
    flow = sinkhorn(pred_student, pred_teacher, cost_matrix, reg=sinkhorn_lambda,
                    max_iter=sinkhorn_iter)
    return (flow * cost_matrix).sum(-1).sum(-1).mean()


def wkd_terms(logits_student, logits_teacher, gt_label, temperature, gamma, cost_matrix,
              sinkhorn_lambda=0.05, sinkhorn_iter=10):
    label = gt_label.view(len(gt_label), 1)
    N, c = logits_student.shape
    s_i = F.log_softmax(logits_student, dim=1)
    t_i = F.softmax(logits_teacher, dim=1)
    s_t = torch.gather(s_i, 1, label)
    t_t = torch.gather(t_i, 1, label).detach()
    loss_t = - (t_t * s_t).mean()
    mask = torch.ones_like(logits_student).scatter_(1, label, 0).bool()
    logits_student = logits_student[mask].reshape(N, -1)
    logits_teacher = logits_teacher[mask].reshape(N, -1)
    cost_matrix = cost_matrix.repeat(N, 1, 1)
    gd_mask = mask.unsqueeze(1) * mask.unsqueeze(2)
    cost_matrix = cost_matrix[gd_mask].reshape(N, c - 1, c - 1)
    loss_wkd = wkd_logit_loss(logits_student, logits_teacher, temperature, cost_matrix,
                              sinkhorn_lambda, sinkhorn_iter)
    return {'target': loss_t, 'wasserstein': gamma * loss_wkd}


def decayed_gamma(gamma, epoch, decay_start_epoch, epochs):
    """WKD.forward_train; `epoch` is mdistiller's 1-based epoch."""
    if epoch > decay_start_epoch:
        return 0.5 * gamma * (1 + math.cos((epoch - decay_start_epoch)
                                           / (epochs - decay_start_epoch) * math.pi))
    return gamma


def linear_CKA_precenter(X, Y):
    X = X - X.mean(0, keepdim=True)
    Y = Y - Y.mean(0, keepdim=True)
    YTX = torch.mm(Y.transpose(0, 1), X)
    hsic = torch.norm(YTX, p='fro') ** 2
    XTX = torch.mm(X.transpose(0, 1), X)
    var1 = torch.norm(XTX, p='fro')
    YTY = torch.mm(Y.transpose(0, 1), Y)
    var2 = torch.norm(YTY, p='fro')
    return hsic / (var1 * var2)


def cost_matrix(class_feat, sharpen):
    num_class = class_feat.shape[0]
    dist = torch.zeros(num_class, num_class, dtype=class_feat.dtype)
    for i in range(num_class):
        for j in range(i, num_class):
            dist[i, j] = 1 - linear_CKA_precenter(class_feat[i], class_feat[j])
            dist[j, i] = dist[i, j]
    if sharpen != 0:
        dist = 1 - torch.exp(-sharpen * dist)
    return dist


def main():
    g = generator(500)
    classes = 20
    # Class features with a shared component so the CKA distances spread over (0, 1).
    base = torch.randn(1, 24, 6, generator=g, dtype=torch.float64)
    feats = base + 0.8 * torch.randn(classes, 24, 6, generator=g, dtype=torch.float64)
    M = cost_matrix(feats, 1.0)
    small = torch.randn(5, 9, 4, generator=g, dtype=torch.float64)
    save_safetensors(os.path.join(OUT, 'wkd_cost_matrix.safetensors'),
                     {'features': feats, 'cost_matrix': M, 'features_small': small,
                      'cost_matrix_small_unsharpened': cost_matrix(small, 0.0),
                      'cost_matrix_small_sharpen2': cost_matrix(small, 2.0)},
                     {'script': 'tools/golden/objectives/wkd_l.py'})
    cases = [(f'wkd_l_T{T}', T, 0, 240) for T in (1, 2, 4, 8)] + [('wkd_l_T8_decay', 8, 199, 240)]
    for name, T, epoch, epochs in cases:
        g = generator(510 + T + epoch)
        inputs = {'student.logits': logits(g, 16, classes),
                  'teacher.logits': logits(g, 16, classes),
                  'labels': labels(g, 16, classes), 'cost_matrix': M}
        gamma = decayed_gamma(600.0, epoch + 1, 150, epochs)

        def terms(v, T=T, gamma=gamma):
            return wkd_terms(v['student.logits'], v['teacher.logits'], v['labels'], T, gamma,
                             v['cost_matrix'], 0.05, 10)

        write_fixture(name, 'wkd_l', {'T': T}, inputs, lambda v, terms=terms: sum(terms(v).values()),
                      parts_fn=terms, context={'epoch': epoch, 'epochs': epochs},
                      constants=('cost_matrix',))


if __name__ == '__main__':
    main()
