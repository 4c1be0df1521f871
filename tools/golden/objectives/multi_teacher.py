#!/usr/bin/python3
"""Multi-teacher KD and Knowledge Concentration fixtures.

No public reference implementation exists (objectives.md §2.13 is [unverified]); these are
PyTorch TRANSCRIPTIONS OF THE FORMULAS as the catalog and distill/objectives/multi_teacher.cpp,
knowledge_concentration.cpp state them, not of a reference repository:

  multi_teacher average_kl: T^2 * KL_bm(sum_k w_k softmax(z_k / T) || softmax(z_s / T)), w normalized
  multi_teacher sum_kl:     sum_k w_k T^2 KL_bm(softmax(z_k / T) || softmax(z_s / T))
  knowledge_concentration:  (1/K) sum_k w_k T^2 KL_bm(softmax(z_k / T) || softmax(z_s[:, S_k] / T)),
                            w_k = K sg(L_k) / sum_j sg(L_j) (pace=relative_loss) or 1 (equal)

Run: /usr/bin/python3 tools/golden/objectives/multi_teacher.py
"""
import torch
import torch.nn.functional as F

from common import generator, logits, write_fixture


def kl_bm(log_s, p_t):
    return F.kl_div(log_s, p_t, reduction='batchmean')


def teacher_name(k):
    return 'teacher.logits' if k == 0 else f'teacher{k}.logits'


def multi_teacher(v, K, T, mode, w):
    log_s = F.log_softmax(v['student.logits'] / T, dim=1)
    probs = [F.softmax(v[teacher_name(k)] / T, dim=1) for k in range(K)]
    if mode == 'average_kl':
        w = [x / sum(w) for x in w]
        mix = sum(wk * p for wk, p in zip(w, probs))
        return kl_bm(log_s, mix) * T**2
    return sum(wk * T**2 * kl_bm(log_s, p) for wk, p in zip(w, probs))


def knowledge_concentration(v, subsets, T, pace):
    K = len(subsets)
    losses = []
    for k, s in enumerate(subsets):
        zt = v[teacher_name(k)]
        if zt.shape[1] != len(s):
            zt = zt[:, s]
        losses.append(T**2 * kl_bm(F.log_softmax(v['student.logits'][:, s] / T, dim=1),
                                   F.softmax(zt / T, dim=1)))
    if pace == 'equal':
        w = [1.0] * K
    else:
        total = sum(l.detach() for l in losses)
        w = [K * l.detach() / total for l in losses]
    return sum(wk * l for wk, l in zip(w, losses)) / K


def main():
    for T in (1, 2, 4, 8):
        for K, mode, weights in ((2, 'average_kl', None), (3, 'sum_kl', None),
                                 (3, 'average_kl', [0.5, 0.3, 0.2]), (2, 'sum_kl', [1.0, 0.5])):
            g = generator(300 + T)
            inputs = {'student.logits': logits(g, 16, 20)}
            for k in range(K):
                inputs[teacher_name(k)] = logits(g, 16, 20)
            w = weights or [1.0 / K] * K
            params = {'T': T, 'teachers': K, 'mode': mode}
            if weights:
                params['weights'] = ','.join(str(x) for x in weights)
            name = f'multi_teacher_{mode}_K{K}' + ('_w' if weights else '') + f'_T{T}'
            write_fixture(name, 'multi_teacher', params, inputs,
                          lambda v, K=K, T=T, mode=mode, w=w: multi_teacher(v, K, T, mode, w))
    for T in (1, 2, 4, 8):
        for pace in ('relative_loss', 'equal'):
            g = generator(400 + T)
            subsets = [[0, 1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12, 13], [14, 15, 16, 17, 18, 19]]
            # teacher 0 and 2 give logits over their subset only, teacher 1 over all classes.
            inputs = {'student.logits': logits(g, 16, 20), 'teacher.logits': logits(g, 16, 7),
                      'teacher1.logits': logits(g, 16, 20), 'teacher2.logits': logits(g, 16, 6)}
            params = {'T': T, 'teachers': 3, 'pace': pace}  # subsets=split gives the 7/7/6 blocks
            write_fixture(f'knowledge_concentration_{pace}_T{T}', 'knowledge_concentration',
                          params, inputs,
                          lambda v, T=T, pace=pace: knowledge_concentration(v, subsets, T, pace))
        g = generator(500 + T)
        subsets = [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9, 10, 11]]
        inputs = {'student.logits': logits(g, 16, 12), 'teacher.logits': logits(g, 16, 5),
                  'teacher1.logits': logits(g, 16, 7)}
        params = {'T': T, 'teachers': 2, 'subsets': '0,2,4,6,8;1,3,5,7,9-11'}
        write_fixture(f'knowledge_concentration_subsets_T{T}', 'knowledge_concentration', params,
                      inputs, lambda v, T=T: knowledge_concentration(v, subsets, T,
                                                                     'relative_loss'))


if __name__ == '__main__':
    main()
