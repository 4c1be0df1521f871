#!/usr/bin/python3
"""DML fixtures: deep mutual learning (Zhang et al., CVPR 2018), the mimicry term of one network.

Transcribes eq. 10 of the paper for network k of a cohort of K:
  L_k = L_C(k) + 1/(K - 1) * sum_{l != k} KL(p_l || p_k)
with each peer's prediction p_l a constant, as the authors' TensorFlow code
(YingZhangDUT/Deep-Mutual-Learning, train_models.py at c3d6ff1: _tower_loss and kl_loss_compute)
differentiates network k's loss with respect to network k's variables only. The CE term is the
separate objective 'ce'. The authors' code sums the K - 1 KLs (average_peers=false here) and
guards the log with 1e-8: mean_b sum_c p2 * log(1e-8 + p2 / (p1 + 1e-8)) (kl_loss_compute,
transcribed below: fixtures dml_tf_*, eps=1e-8). The other fixtures hold the exact KL of the paper
(F.kl_div, batchmean, as PyTorch ports such as KD_Lib's DML compute it), at T in {1, 2, 4, 8}
with the T^2 of KD; the script prints how far the guarded form is from the exact one.

Run: /usr/bin/python3 tools/golden/objectives/dml.py
"""
import torch
import torch.nn.functional as F

from common import generator, logits, write_fixture


def kl_mimicry(z, z_peer, T):
    """batchmean KL(softmax(sg(z_peer) / T) || softmax(z / T)) * T^2."""
    return F.kl_div(F.log_softmax(z / T, dim=1), F.softmax(z_peer.detach() / T, dim=1),
                    reduction='batchmean') * T**2


def kl_loss_compute(logits1, logits2):
    """The authors' TensorFlow kl_loss_compute, transcribed (T = 1): KL(pred2 || pred1)."""
    pred1 = F.softmax(logits1, dim=1)
    pred2 = F.softmax(logits2, dim=1)
    return (pred2 * torch.log(1e-8 + pred2 / (pred1 + 1e-8))).sum(1).mean()


def dml_loss(v, T, peers, average):
    names = ['peer.logits'] + [f'peer{p}.logits' for p in range(1, peers)]
    kls = [kl_mimicry(v['student.logits'], v[n], T) for n in names]
    total = sum(kls)
    return total / peers if average else total


def dml_parts(v, T, peers):
    if peers == 1:
        return {}
    names = ['peer'] + [f'peer{p}' for p in range(1, peers)]
    return {n: kl_mimicry(v['student.logits'], v[n + '.logits'], T) for n in names}


def main():
    for T in (1, 2, 4, 8):
        for peers in (1, 2):
            for average in ((True, False) if peers > 1 else (True,)):
                g = generator(500 + 10 * T + peers)
                inputs = {'student.logits': logits(g, 16, 20)}
                for p in range(peers):
                    inputs['peer.logits' if p == 0 else f'peer{p}.logits'] = logits(g, 16, 20)
                params = {'T': T}
                if peers > 1:
                    params['peers'] = peers  # 1: left to the default, which counts the inputs
                if not average:
                    params['average_peers'] = 'false'
                name = f'dml_T{T}_peers{peers}' + ('' if average else '_sum')
                write_fixture(name, 'dml', params, inputs,
                              lambda v, T=T, peers=peers, average=average:
                              dml_loss(v, T, peers, average),
                              parts_fn=lambda v, T=T, peers=peers: dml_parts(v, T, peers))
                if T == 1 and average:
                    tf_fixture(peers, inputs)


def tf_fixture(peers, inputs):
    """The authors' loss for one network: the sum over its peers of kl_loss_compute."""
    def guarded(v):
        return sum(kl_loss_compute(v['student.logits'], v[k].detach())
                   for k in v if k.startswith('peer'))
    params = {'average_peers': 'false', 'eps': '1e-8'}
    write_fixture(f'dml_tf_peers{peers}', 'dml', params, inputs, guarded)
    exact = dml_loss(inputs, 1, peers, False)
    print(f'dml_tf_peers{peers}: the 1e-8-guarded KL differs by '
          f'{abs(guarded(inputs) - exact).item():.2e} from the exact one')


if __name__ == '__main__':
    main()
