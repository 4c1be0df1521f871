#!/usr/bin/python3
"""DIST+ fixtures: torchdistill losses/mid_level.py::DISTPlusLoss (3e4373c) and the DISTLoss it
extends, transcribed as functions of the logits and feature maps (io_dict plumbing removed),
with the channel term's sign as coded (+iota * correlation).

Run: /usr/bin/python3 tools/golden/objectives/dist_plus.py
"""
import torch
import torch.nn.functional as F

from common import generator, logits, write_fixture


def pearson_correlation(y_s, y_t, eps):
    return F.cosine_similarity(y_s - y_s.mean(1).unsqueeze(1), y_t - y_t.mean(1).unsqueeze(1),
                               eps=eps)


def inter_class_relation(y_s, y_t, eps):
    return 1 - pearson_correlation(y_s, y_t, eps).mean()


def intra_class_relation(y_s, y_t, eps):
    return inter_class_relation(y_s.transpose(0, 1), y_t.transpose(0, 1), eps)


def channel_relation(f_s, f_t, eps):
    c_mean_f_s = torch.mean(f_s, dim=1, keepdim=True)
    c_mean_f_t = torch.mean(f_t, dim=1, keepdim=True)
    c_centered_f_s = f_s - c_mean_f_s
    c_centered_f_t = f_t - c_mean_f_t
    numerator = torch.sum(c_centered_f_s * c_centered_f_t, dim=1)
    denominator = torch.sqrt(torch.sum(c_centered_f_s ** 2, dim=1)
                             * torch.sum(c_centered_f_t ** 2, dim=1))
    return (numerator / (denominator + eps)).mean()


def spatial_relation(f_s, f_t, eps):
    aggregated_f_s = torch.sum(f_s, dim=1).flatten(1)
    aggregated_f_t = torch.sum(f_t, dim=1).flatten(1)
    return inter_class_relation(aggregated_f_s.transpose(0, 1), aggregated_f_t.transpose(0, 1),
                                eps)


def parts(v, tap, tau, eps=1e-8):
    y_s = (v['student.logits'] / tau).softmax(dim=1)
    y_t = (v['teacher.logits'] / tau).softmax(dim=1)
    f_s, f_t = v[f'student.{tap}'], v[f'teacher.{tap}']
    return {'inter': tau**2 * inter_class_relation(y_s, y_t, eps),
            'intra': tau**2 * intra_class_relation(y_s, y_t, eps),
            'channel': channel_relation(f_s, f_t, eps),
            'spatial': spatial_relation(f_s, f_t, eps)}


def loss(v, tap, tau, beta, gamma, iota, kappa):
    p = parts(v, tap, tau)
    return beta * p['inter'] + gamma * p['intra'] + iota * p['channel'] + kappa * p['spatial']


def main():
    for T in (1, 2, 4, 8):
        for tap, weights in (('layer3', (1.0, 1.0, 1.0, 1.0)), ('layer4', (2.0, 2.0, 1.0, 1.0)),
                             ('layer3', (1.0, 0.5, 0.25, 2.0))):
            g = generator(1100 + T)
            inputs = {'student.logits': logits(g, 8, 12), 'teacher.logits': logits(g, 8, 12),
                      f'student.{tap}': torch.randn(8, 6, 3, 4, generator=g, dtype=torch.float64),
                      f'teacher.{tap}': torch.randn(8, 6, 3, 4, generator=g, dtype=torch.float64)}
            beta, gamma, iota, kappa = weights
            params = {'tau': T, 'beta': beta, 'gamma': gamma, 'iota': iota, 'kappa': kappa}
            if tap != 'layer3':
                params['tap'] = tap
            name = f'dist_plus_T{T}_{tap}' + ('_weighted' if iota != 1.0 else '')
            write_fixture(name, 'dist_plus', params, inputs,
                          lambda v, tap=tap, T=T, w=weights: loss(v, tap, T, *w),
                          parts_fn=lambda v, tap=tap, T=T: parts(v, tap, T))


if __name__ == '__main__':
    main()
