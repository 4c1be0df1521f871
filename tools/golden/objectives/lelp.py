#!/usr/bin/python3
"""LELP fixtures (Loo et al. 2024, arXiv 2409.20449; objectives.md §2.14 [unverified]).

No public reference code exists: this is a PyTorch TRANSCRIPTION OF THE RECIPE as the catalog
states it, with the assumptions of distill/lelp.h (they are tutor's, not the paper's):
  P = I - pinv(W) W; per class c: u = P h of its samples, mu_c = mean(u), top-k eigenvectors v_cj
  of cov(u) (unbiased) with the largest-magnitude component positive, s_cj = sqrt(max(lambda, 1e-12));
  z_sub[c*k + j] = z_c + log_softmax_j(<v_cj, P h - mu_c> / s_cj);
  loss = kd_weight * T^2 * KL_bm(softmax(z_sub / T) || softmax(z_s / T))
         + ce_weight * CE(logsumexp_j z_s[c*k + j], y).

Writes lelp_fit.safetensors (inputs and expected outputs of lelp_fit) and lelp_T{1,2,4,8}
objective fixtures whose projection buffers are saved as param.<name>.

Run: /usr/bin/python3 tools/golden/objectives/lelp.py
"""
import os

import torch
import torch.nn.functional as F

from common import OUT, generator, labels, logits, write_fixture, save_safetensors


def lelp_fit(h, y, W, k):
    D = h.shape[1]
    C = W.shape[0]
    P = torch.eye(D, dtype=h.dtype) - torch.linalg.pinv(W) @ W
    U = h @ P
    means, dirs, scales = [], [], []
    for c in range(C):
        u = U[y == c]
        mu = u.mean(0)
        cen = u - mu
        cov = cen.T @ cen / (u.shape[0] - 1)
        evals, evecs = torch.linalg.eigh(cov)
        vs, ss = [], []
        for j in range(k):
            v = evecs[:, D - 1 - j]
            if v[v.abs().argmax()] < 0:
                v = -v
            vs.append(v)
            ss.append(evals[D - 1 - j].clamp(min=1e-12).sqrt())
        means.append(mu)
        dirs.append(torch.stack(vs))
        scales.append(torch.stack(ss))
    return {'null_projector': P, 'means': torch.stack(means), 'directions': torch.stack(dirs),
            'scales': torch.stack(scales)}


def subclass_logits(proj, zt, h):
    u = h @ proj['null_projector']
    cen = u[:, None, :] - proj['means'][None]
    coords = (cen[:, :, None, :] * proj['directions'][None]).sum(3)
    split = F.log_softmax(coords / proj['scales'][None], dim=2)
    return (zt[:, :, None] + split).reshape(zt.shape[0], -1)


def lelp_loss(v, proj, T, k, kd_w, ce_w):
    zs, zt, h, y = v['student.logits'], v['teacher.logits'], v['teacher.pooled'], v['labels']
    sub = subclass_logits(proj, zt, h).detach()
    kd = T**2 * F.kl_div(F.log_softmax(zs / T, dim=1), F.softmax(sub / T, dim=1),
                         reduction='batchmean')
    class_logits = torch.logsumexp(zs.reshape(zs.shape[0], -1, k), dim=2)
    ce = F.cross_entropy(class_logits, y)
    return kd_w * kd + ce_w * ce, {'kd': kd, 'ce': ce}


def main():
    g = generator(900)
    C, D, k, N = 4, 10, 3, 48
    W = torch.randn(C, D, generator=g, dtype=torch.float64)
    y_fit = torch.arange(N) % C
    centers = torch.randn(C, D, generator=g, dtype=torch.float64) * 2
    # anisotropic class clouds so the principal directions are well separated
    spread = torch.linspace(2.0, 0.2, D, dtype=torch.float64)
    h_fit = centers[y_fit] + torch.randn(N, D, generator=g, dtype=torch.float64) * spread
    proj = lelp_fit(h_fit, y_fit, W, k)
    tensors = {'embeddings': h_fit, 'labels': y_fit, 'classifier_weight': W}
    tensors.update({f'expected.{n}': t for n, t in proj.items()})
    save_safetensors(os.path.join(OUT, 'lelp_fit.safetensors'), tensors, {'k': str(k)})
    print('wrote lelp_fit')
    for T in (1, 2, 4, 8):
        for kd_w, ce_w in ((1.0, 1.0), (0.7, 0.3)):
            gi = generator(910 + T)
            B = 16
            yb = labels(gi, B, C)
            h = centers[yb] + torch.randn(B, D, generator=gi, dtype=torch.float64) * spread
            inputs = {'student.logits': logits(gi, B, C * k), 'teacher.logits': h @ W.T,
                      'teacher.pooled': h, 'labels': yb}
            params = {'T': T, 'k': k, 'kd_weight': kd_w, 'ce_weight': ce_w}
            name = f'lelp_T{T}' + ('' if kd_w == 1.0 else '_weighted')
            write_fixture(name, 'lelp', params, inputs,
                          lambda v, T=T, kd_w=kd_w, ce_w=ce_w: lelp_loss(v, proj, T, k, kd_w, ce_w)[0],
                          parts_fn=lambda v, T=T: lelp_loss(v, proj, T, k, 1.0, 1.0)[1],
                          buffers=proj)


if __name__ == '__main__':
    main()
