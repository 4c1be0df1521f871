#!/usr/bin/python3
"""The PyTorch side of `tutor bench ops --vs-pytorch`.

Usage: pytorch_ops.py WORKLOADS_JSON_FILE THREADS WARMUP REPEAT

Reads the workload list that tutor wrote (tools/cli/bench_workloads.h documents each op's dims),
runs each one as tutor does (forward under no_grad, or forward + backward with leaf gradients set
to None before each run; a conv or batch_norm with "channels_last": 1 takes its input and output
gradient in torch.channels_last memory), and prints one JSON object on stdout:
  {"torch": VERSION, "threads": T, "results": [{"name": ..., "run_ns": [int, ...]}, ...]}
Times are integer nanoseconds (time.perf_counter_ns) so tutor's strict JSON reader takes them.
The caller sets the environment (BLAS library, OPENBLAS_CORETYPE, GLIBC_TUNABLES).
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


def prepare(w, gen):
    d, grad = w["dims"], bool(w["backward"])

    def normal(*shape):
        return torch.randn(*shape, generator=gen).requires_grad_(grad)

    op = w["op"]
    if op == "conv2d":
        x, weight = normal(d[0], d[1], d[2], d[3]), normal(d[4], d[1], d[5], d[6])
        if w.get("channels_last"):
            x = x.detach().contiguous(memory_format=torch.channels_last).requires_grad_(grad)
        return [x, weight], lambda: F.conv2d(x, weight, None, d[7], d[8])
    if op == "matmul":
        a, b = normal(d[0], d[1]), normal(d[1], d[2])
        return [a, b], lambda: torch.matmul(a, b)
    if op in ("linear_gelu", "linear_then_gelu"):
        x, weight, bias = normal(d[0], d[1]), normal(d[2], d[1]), normal(d[2])
        return [x, weight, bias], lambda: F.gelu(F.linear(x, weight, bias))
    if op == "sdpa":
        q, k, v = normal(*d), normal(*d), normal(*d)
        scale = d[3] ** -0.5
        # torch 1.13 has no public F.scaled_dot_product_attention: the same composition.
        return [q, k, v], lambda: torch.softmax(q @ k.transpose(-2, -1) * scale, -1) @ v
    if op == "layer_norm":
        x, weight, bias = normal(d[0], d[1]), normal(d[1]), normal(d[1])
        return [x, weight, bias], lambda: F.layer_norm(x, (d[1],), weight, bias)
    if op == "batch_norm":
        x, weight, bias = normal(*d), normal(d[1]), normal(d[1])
        if w.get("channels_last"):
            x = x.detach().contiguous(memory_format=torch.channels_last).requires_grad_(grad)
        mean, var = torch.zeros(d[1]), torch.ones(d[1])
        return [x, weight, bias], lambda: F.batch_norm(x, mean, var, weight, bias, training=True)
    if op == "softmax":
        x = normal(d[0], d[1])
        return [x], lambda: torch.softmax(x, 1)
    if op == "cross_entropy":
        x = normal(d[0], d[1])
        target = torch.randint(0, d[1], (d[0],), generator=gen)
        return [x], lambda: F.cross_entropy(x, target)
    raise SystemExit(f"pytorch_ops.py: workload {w['name']}: unknown op {op}")


def time_runs(step, warmup, repeat):
    for _ in range(warmup):
        step()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        step()
        runs.append(time.perf_counter_ns() - start)
    return runs


def time_workload(w, warmup, repeat):
    gen = torch.Generator().manual_seed(0)
    leaves, forward = prepare(w, gen)
    if not w["backward"]:
        with torch.no_grad():
            return time_runs(forward, warmup, repeat)
    out = forward()
    grad_out = None if out.dim() == 0 else torch.randn(out.shape, generator=gen)
    if w.get("channels_last"):
        grad_out = grad_out.contiguous(memory_format=torch.channels_last)

    def step():
        for leaf in leaves:
            leaf.grad = None
        forward().backward(grad_out)

    return time_runs(step, warmup, repeat)


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    with open(sys.argv[1]) as f:
        workloads = json.load(f)
    threads, warmup, repeat = (int(v) for v in sys.argv[2:5])
    torch.set_num_threads(threads)
    results = [{"name": w["name"], "run_ns": time_workload(w, warmup, repeat)} for w in workloads]
    json.dump({"torch": torch.__version__, "threads": threads, "results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
