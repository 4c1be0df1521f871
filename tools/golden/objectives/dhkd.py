#!/usr/bin/python3
"""DHKD fixtures: penghui-yang/DHKD (c088f51) distiller_zoo/BinaryKLNorm.py and BinaryKL.py, the
auxiliary head of models/resnet.py (fc2: nn.Linear or models/classifier.py NonLinearClassifier),
transcribed; and helper/optimizer.py::OptimGradAlign on a tiny two-head model for
distill/gradient_alignment.h.

  BinaryKLNorm: s = clamp(sigmoid((z2 - zt) / T), eps, 1 - eps)
                loss = T^2 * (KL(log s, 1/2) + KL(log(1 - s), 1/2)).sum() / N
  dhkd loss = alpha * BinaryKLNorm(fc2(pooled), zt)

The MLP head's Dropout is set to 0 in the fixtures (a random mask cannot be matched); its
BatchNorm1d runs in train mode (batch statistics), as the reference's student does.

Run: /usr/bin/python3 tools/golden/objectives/dhkd.py
"""
import copy
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import KLDivLoss

from common import OUT, generator, labels, logits, write_fixture
from safetensors_writer import save_safetensors


class BinaryKLNorm(nn.Module):
    def __init__(self, temperature=2, eps=1e-8):
        super().__init__()
        self.eps = eps
        self.temperature = temperature
        self.criterion = KLDivLoss(reduction="none")

    def forward(self, student, teacher):
        N, _ = student.shape
        diff_st = torch.sigmoid((student - teacher) / self.temperature)
        diff_st = torch.clamp(diff_st, min=self.eps, max=1 - self.eps)
        target = torch.full_like(diff_st, 0.5)
        loss = self.criterion(torch.log(diff_st), target) + self.criterion(torch.log(1 - diff_st), 1 - target)
        return self.temperature ** 2 * loss.sum() / N


class BinaryKL(nn.Module):
    def __init__(self, temperature=2, eps=1e-8):
        super().__init__()
        self.eps = eps
        self.temperature = temperature
        self.criterion = KLDivLoss(reduction="none")

    def forward(self, student, teacher):
        N, _ = student.shape
        student = torch.sigmoid(student / self.temperature)
        teacher = torch.sigmoid(teacher / self.temperature)
        student = torch.clamp(student, min=self.eps, max=1 - self.eps)
        teacher = torch.clamp(teacher, min=self.eps, max=1 - self.eps)
        loss = self.criterion(torch.log(student), teacher) + self.criterion(torch.log(1 - student), 1 - teacher)
        return self.temperature ** 2 * loss.sum() / N


class NonLinearClassifier(nn.Module):
    def __init__(self, dim_in, n_label=10, p=0.1, hidden=200):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim_in, hidden),
            nn.Dropout(p=p),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, n_label),
        )

    def forward(self, x):
        return self.net(x)


class Holder(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.fc2 = head


def objective_fixtures():
    B, D, C, H = 16, 12, 20, 24
    for T in (1, 2, 4, 8):
        for head, loss_name in (('linear', 'binary_kl_norm'), ('mlp', 'binary_kl_norm'),
                                ('linear', 'binary_kl')):
            g = generator(300 + T)
            pooled = torch.randn(B, D, generator=g, dtype=torch.float64) * 2
            zt = logits(g, B, C)
            torch.manual_seed(400 + T)
            if head == 'linear':
                module = Holder(nn.Linear(D, C)).double()
            else:
                module = Holder(NonLinearClassifier(D, C, p=0.0, hidden=H)).double()
                with torch.no_grad():
                    bn = module.fc2.net[2]
                    bn.weight.uniform_(0.5, 1.5)
                    bn.bias.uniform_(-0.5, 0.5)
            module.train()
            crit = (BinaryKLNorm if loss_name == 'binary_kl_norm' else BinaryKL)(temperature=T)
            alpha = 0.5 if head == 'linear' else 1.0
            params = {'T': T, 'head': head, 'loss': loss_name, 'alpha': alpha}
            if head == 'mlp':
                params.update({'hidden': H, 'dropout': 0})
            name = f'dhkd_{head}_{loss_name}_T{T}'

            def loss_fn(v, module=module, crit=crit, alpha=alpha):
                return alpha * crit(module.fc2(v['student.pooled']), v['teacher.logits'])

            def parts_fn(v, module=module, crit=crit, loss_name=loss_name):
                return {loss_name: crit(module.fc2(v['student.pooled']), v['teacher.logits'])}

            # parts_fn runs after the loss; BatchNorm in train mode gives the same output again.
            write_fixture(name, 'dhkd', params, {'student.pooled': pooled, 'teacher.logits': zt},
                          loss_fn, parts_fn, module=module)


class OptimGradAlign():
    """helper/optimizer.py::OptimGradAlign, transcribed (the methods the step uses)."""

    def __init__(self, optimizer):
        self._optim = optimizer

    def ga_backward(self, objectives):
        grads, shapes, has_grads = self._pack_grad(objectives)
        pc_grad = self._project_conflicting(grads, has_grads)
        pc_grad = self._unflatten_grad(pc_grad, shapes[0])
        self._set_grad(pc_grad)

    def _project_conflicting(self, grads, has_grads, shapes=None):
        shared = torch.stack(has_grads).prod(0).bool()
        pc_grad, num_task = copy.deepcopy(grads), len(grads)
        for g_i in pc_grad:
            g_i_g_j = torch.dot(g_i, grads[0])
            if g_i_g_j < 0:
                g_i -= (g_i_g_j) * grads[0] / (grads[0].norm()**2)
        merged_grad = torch.zeros_like(grads[0]).to(grads[0].device)
        merged_grad[shared] = torch.stack([g[shared] for g in pc_grad]).sum(dim=0)
        merged_grad[~shared] = torch.stack([g[~shared] for g in pc_grad]).sum(dim=0)
        return merged_grad

    def _set_grad(self, grads):
        idx = 0
        for group in self._optim.param_groups:
            for p in group['params']:
                p.grad = grads[idx]
                idx += 1

    def _pack_grad(self, objectives):
        grads, shapes, has_grads = [], [], []
        for obj in objectives:
            self._optim.zero_grad(set_to_none=True)
            obj.backward(retain_graph=True)
            grad, shape, has_grad = self._retrieve_grad()
            grads.append(self._flatten_grad(grad, shape))
            has_grads.append(self._flatten_grad(has_grad, shape))
            shapes.append(shape)
        return grads, shapes, has_grads

    def _unflatten_grad(self, grads, shapes):
        unflatten_grad, idx = [], 0
        for shape in shapes:
            length = np.prod(shape)
            unflatten_grad.append(grads[idx:idx + length].view(shape).clone())
            idx += length
        return unflatten_grad

    def _flatten_grad(self, grads, shapes):
        return torch.cat([g.flatten() for g in grads])

    def _retrieve_grad(self):
        grad, shape, has_grad = [], [], []
        for group in self._optim.param_groups:
            for p in group['params']:
                if p.grad is None:
                    shape.append(p.shape)
                    grad.append(torch.zeros_like(p).to(p.device))
                    has_grad.append(torch.zeros_like(p).to(p.device))
                    continue
                shape.append(p.grad.shape)
                grad.append(p.grad.clone())
                has_grad.append(torch.ones_like(p).to(p.device))
        return grad, shape, has_grad


class TinyDualHead(nn.Module):
    """A backbone and the two heads of the reference's dual-head student (fc, fc2)."""

    def __init__(self, d_in, d, c):
        super().__init__()
        self.backbone = nn.Linear(d_in, d)
        self.fc = nn.Linear(d, c)
        self.fc2 = nn.Linear(d, c)
        self.unused = nn.Linear(2, 2)  # reached by neither loss: its grad becomes zeros

    def forward(self, x):
        h = F.relu(self.backbone(x))
        return h, self.fc(h), self.fc2(h)


def alignment_fixtures():
    B, D_IN, D, C, gamma, alpha, T = 8, 6, 8, 5, 1.0, 1.0, 2
    found = {}
    for seed in range(200):
        g = generator(1000 + seed)
        x = torch.randn(B, D_IN, generator=g, dtype=torch.float64)
        y = labels(g, B, C)
        zt = logits(g, B, C, scale=3.0)
        torch.manual_seed(2000 + seed)
        model = TinyDualHead(D_IN, D, C).double()
        opt = OptimGradAlign(torch.optim.SGD(model.parameters(), lr=0.1))
        h, z1, z2 = model(x)
        loss_cls = F.cross_entropy(z1, y)
        loss_kd = BinaryKLNorm(temperature=T)(z2, zt)
        g_ce = torch.autograd.grad(gamma * loss_cls, list(model.parameters()), retain_graph=True,
                                   allow_unused=True)
        g_kd = torch.autograd.grad(alpha * loss_kd, list(model.parameters()), retain_graph=True,
                                   allow_unused=True)
        dot = sum(float((a * b).sum()) for a, b in zip(g_ce, g_kd) if a is not None and b is not None)
        kind = 'conflict' if dot < 0 else 'agree'
        if kind in found:
            continue
        opt.ga_backward([gamma * loss_cls, alpha * loss_kd])
        out = {'input.x': x, 'input.labels': y, 'input.teacher_logits': zt,
               'dot': torch.tensor(dot, dtype=torch.float64)}
        for name, p in model.named_parameters():
            out[f'param.{name}'] = p.detach().clone()
            out[f'grad.{name}'] = p.grad.detach().clone()
        save_safetensors(os.path.join(OUT, f'gradient_alignment_{kind}.safetensors'), out,
                         {'gamma': str(gamma), 'alpha': str(alpha), 'T': str(T)})
        found[kind] = seed
        if len(found) == 2:
            break
    assert len(found) == 2, found


def main():
    objective_fixtures()
    alignment_fixtures()


if __name__ == '__main__':
    main()
