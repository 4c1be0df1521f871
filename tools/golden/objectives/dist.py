#!/usr/bin/python3
"""DIST fixtures: hunto/image_classification_sota lib/models/losses/dist_kd.py::DIST (6f7a70a,
the version with tau) for form=eps_on_product, and torchdistill losses/mid_level.py::DISTLoss
(3e4373c, F.cosine_similarity with eps) for form=clamp_norms, both transcribed as functions of
the logits.

Run: /usr/bin/python3 tools/golden/objectives/dist.py
"""
import torch
import torch.nn.functional as F

from common import generator, logits, write_fixture


# hunto dist_kd.py
def cosine_similarity(a, b, eps=1e-8):
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


def pearson_correlation(a, b, eps=1e-8):
    return cosine_similarity(a - a.mean(1).unsqueeze(1), b - b.mean(1).unsqueeze(1), eps)


def inter_class_relation(y_s, y_t):
    return 1 - pearson_correlation(y_s, y_t).mean()


def intra_class_relation(y_s, y_t):
    return inter_class_relation(y_s.transpose(0, 1), y_t.transpose(0, 1))


def dist_parts_author(z_s, z_t, tau):
    y_s = (z_s / tau).softmax(dim=1)
    y_t = (z_t / tau).softmax(dim=1)
    return tau**2 * inter_class_relation(y_s, y_t), tau**2 * intra_class_relation(y_s, y_t)


# torchdistill DISTLoss
def td_pearson_correlation(y_s, y_t, eps):
    return F.cosine_similarity(y_s - y_s.mean(1).unsqueeze(1), y_t - y_t.mean(1).unsqueeze(1),
                               eps=eps)


def td_inter_class_relation(y_s, y_t, eps):
    return 1 - td_pearson_correlation(y_s, y_t, eps).mean()


def td_intra_class_relation(y_s, y_t, eps):
    return td_inter_class_relation(y_s.transpose(0, 1), y_t.transpose(0, 1), eps)


def dist_parts_torchdistill(z_s, z_t, tau, eps=1e-8):
    y_s = (z_s / tau).softmax(dim=1)
    y_t = (z_t / tau).softmax(dim=1)
    return (tau**2 * td_inter_class_relation(y_s, y_t, eps),
            tau**2 * td_intra_class_relation(y_s, y_t, eps))


def main():
    for T in (1, 2, 4, 8):
        for form, fn in (('eps_on_product', dist_parts_author),
                         ('clamp_norms', dist_parts_torchdistill)):
            for beta, gamma, suffix in ((1.0, 1.0, ''), (2.0, 0.5, '_weighted')):
                g = generator(900 + T)
                inputs = {'student.logits': logits(g, 16, 20),
                          'teacher.logits': logits(g, 16, 20)}
                params = {'tau': T, 'beta': beta, 'gamma': gamma}
                if form != 'eps_on_product':
                    params['form'] = form

                def parts(v, fn=fn, T=T):
                    return fn(v['student.logits'], v['teacher.logits'], T)

                write_fixture(f'dist_T{T}_{form}{suffix}', 'dist', params, inputs,
                              lambda v, parts=parts, b=beta, c=gamma: (
                                  b * parts(v)[0] + c * parts(v)[1]),
                              parts_fn=lambda v, parts=parts: dict(zip(('inter', 'intra'),
                                                                       parts(v))))


if __name__ == '__main__':
    main()
