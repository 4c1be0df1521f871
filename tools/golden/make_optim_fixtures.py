#!/usr/bin/python3
"""Golden values for tests/optim from PyTorch 1.13's torch.optim and clip_grad_norm_.

Run: /usr/bin/python3 tools/golden/make_optim_fixtures.py  (writes tests/fixtures/optim/*.txt)

Each fixture line is "name [d0,d1,...] v0 v1 ..." (row-major values, repr = full precision).
Optimizer cases: parameters p0 [2,3], p1 [4] (group 0) and p2 [3], p3 [2] (group 1; p3 never gets
a gradient) minimize at step k = 1..5 the loss sum(A_i * p_i^2 + (b_i + k * c_i) * p_i), whose
gradient the C++ test computes with tutor's autograd from the same A, b, c.
"""
import math
import os
import warnings

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "optim")
STEPS = 5


def line(name, t):
    t = torch.as_tensor(t, dtype=torch.float64)
    shape = ",".join(str(d) for d in t.shape)
    return f"{name} [{shape}] " + " ".join(repr(float(v)) for v in t.reshape(-1).tolist()) + "\n"


def problem():
    g = torch.Generator().manual_seed(1234)

    def r(*shape, lo=-1.0, hi=1.0):
        return torch.rand(*shape, generator=g, dtype=torch.float64) * (hi - lo) + lo

    shapes = [(2, 3), (4,), (3,), (2,)]
    init = [r(*s) for s in shapes]
    coef = [(r(*s, lo=0.2, hi=2.0), r(*s), r(*s, lo=-0.6, hi=0.6)) for s in shapes[:3]]
    return init, coef


def loss_of(params, coef, k):
    return sum(((a * p * p + (b + k * c) * p).sum() for p, (a, b, c) in zip(params, coef)))


OPTIMIZERS = {
    "sgd_plain": (torch.optim.SGD, dict(lr=0.1), dict(lr=0.05, weight_decay=0.01)),
    "sgd_momentum": (torch.optim.SGD, dict(lr=0.1, momentum=0.9), dict(lr=0.05)),
    "sgd_dampening": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.3),
                      dict(lr=0.05, momentum=0.5)),
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True),
                     dict(lr=0.05, weight_decay=0.02)),
    "sgd_weight_decay": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1),
                         dict(lr=0.2, weight_decay=0.0)),
    "adam": (torch.optim.Adam, dict(lr=0.1), dict(lr=0.2, weight_decay=0.1, betas=(0.8, 0.99))),
    "adam_amsgrad": (torch.optim.Adam, dict(lr=0.3, amsgrad=True, betas=(0.9, 0.6)),
                     dict(lr=0.2, eps=1e-3, weight_decay=0.05)),
    "adamw": (torch.optim.AdamW, dict(lr=0.1, weight_decay=0.05),
              dict(lr=0.3, weight_decay=0.2, amsgrad=True)),
}


def optimizer_fixture():
    init, coef = problem()
    out = []
    for i, p in enumerate(init):
        out.append(line(f"init.p{i}", p))
    for i, (a, b, c) in enumerate(coef):
        out += [line(f"A.p{i}", a), line(f"b.p{i}", b), line(f"c.p{i}", c)]
    for case, (cls, opts0, opts1) in OPTIMIZERS.items():
        params = [p.clone().requires_grad_() for p in init]
        groups = [dict(params=params[:2], **opts0), dict(params=params[2:], **opts1)]
        opt = cls(groups, **opts0)
        for k in range(1, STEPS + 1):
            opt.zero_grad()
            loss_of(params[:3], coef, k).backward()
            opt.step()
            for i, p in enumerate(params):
                out.append(line(f"{case}.step{k}.p{i}", p.detach()))
        for i, p in enumerate(params):
            for key, value in opt.state[p].items():
                if value is not None:  # SGD without momentum keeps momentum_buffer = None
                    out.append(line(f"{case}.state.{i}.{key}", value))
    return out


def schedule_fixture():
    S = torch.optim.lr_scheduler

    def sequential(opt):
        return S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.1, total_iters=3),
                                    S.CosineAnnealingLR(opt, T_max=8, eta_min=1e-4)],
                              milestones=[3])

    def sequential3(opt):
        return S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.5, end_factor=0.9,
                                               total_iters=4),
                                    S.StepLR(opt, step_size=2, gamma=0.5),
                                    S.CosineAnnealingLR(opt, T_max=5)],
                              milestones=[2, 7])

    cases = {
        "step": lambda opt: S.StepLR(opt, step_size=3, gamma=0.5),
        "multistep": lambda opt: S.MultiStepLR(opt, milestones=[9, 2, 5, 5], gamma=0.1),
        "cosine": lambda opt: S.CosineAnnealingLR(opt, T_max=10, eta_min=1e-3),
        "linear": lambda opt: S.LinearLR(opt, start_factor=0.25, total_iters=4),
        "sequential": sequential,
        "sequential3": sequential3,
    }
    out = []
    for case, make in cases.items():
        p0, p1 = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([dict(params=[p0], lr=0.1), dict(params=[p1], lr=0.02)], lr=0.1)
        sched = make(opt)
        lrs = [[g["lr"] for g in opt.param_groups]]
        for _ in range(24):
            opt.step()
            sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        for g in range(2):
            out.append(line(f"{case}.lr.g{g}", [row[g] for row in lrs]))
    return out


def clip_fixture():
    g = torch.Generator().manual_seed(99)
    grads = [torch.randn(3, 2, generator=g, dtype=torch.float64),
             torch.randn(5, generator=g, dtype=torch.float64) * 0.3]
    out = [line(f"grad.{i}", t) for i, t in enumerate(grads)]
    cases = {"l2_clipped": (1.0, 2.0), "l2_unclipped": (100.0, 2.0), "inf_clipped": (0.5, math.inf),
             "l1_clipped": (2.0, 1.0)}
    for case, (max_norm, norm_type) in cases.items():
        params = [torch.zeros_like(t, requires_grad=True) for t in grads]
        params.append(torch.zeros(2, requires_grad=True))  # no grad: skipped
        for p, t in zip(params, grads):
            p.grad = t.clone()
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        out.append(line(f"{case}.total", total))
        for i in range(2):
            out.append(line(f"{case}.grad.{i}", params[i].grad))
    return out


def main():
    # SequentialLR calls child.step(0), which PyTorch 1.13 warns about; the values are the point.
    warnings.simplefilter("ignore", UserWarning)
    os.makedirs(OUT, exist_ok=True)
    for name, make in [("optimizers", optimizer_fixture), ("schedules", schedule_fixture),
                       ("clip_grad_norm", clip_fixture)]:
        path = os.path.join(OUT, name + ".txt")
        with open(path, "w") as f:
            f.write(f"# made by tools/golden/make_optim_fixtures.py with torch {torch.__version__}\n")
            f.writelines(make())
        print("wrote", path)


if __name__ == "__main__":
    main()
