#!/usr/bin/python3
"""SinKD fixtures: 2018cx/SinKD loss.py::Sinkhorn (commit eb4b3da), transcribed.

  p_s = softmax(y_s / T), p_t = softmax(y_t / T)
  W = cdist(p_s, p_t, p=1); K = exp(-W / 0.1)
  20 times: K = K / K.sum(1, keepdim); K = K / K.sum(0, keepdim)
  loss = 0.001 * sum(K * W)

The reference stores its T argument but overrides it with 2; the fixtures pass T explicitly (T=2 is
the reference exactly, the others exercise tutor's T parameter with the same formula).

Run: /usr/bin/python3 tools/golden/objectives/sinkd.py
"""
import torch

from common import generator, logits, write_fixture


def sinkhorn_normalized(x, n_iters):
    for _ in range(n_iters):
        x = x / torch.sum(x, dim=1, keepdim=True)
        x = x / torch.sum(x, dim=0, keepdim=True)
    return x


def sinkhorn_loss(x, y, epsilon=0.1, n_iters=20):
    wxy = torch.cdist(x, y, p=1)
    k = torch.exp(-wxy / epsilon)
    p = sinkhorn_normalized(k, n_iters)
    return torch.sum(p * wxy)


def sinkd(y_s, y_t, T):
    p_s = torch.softmax(y_s / T, dim=1)
    p_t = torch.softmax(y_t / T, dim=1)
    return 0.001 * sinkhorn_loss(p_s, p_t)


def main():
    for T in (1, 2, 4, 8):
        g = generator(300 + T)
        inputs = {'student.logits': logits(g, 16, 20), 'teacher.logits': logits(g, 16, 20)}
        write_fixture(f'sinkd_T{T}', 'sinkd', {'T': T}, inputs,
                      lambda v, T=T: sinkd(v['student.logits'], v['teacher.logits'], T))


if __name__ == '__main__':
    main()
