#!/usr/bin/python3
"""The PyTorch side of `tutor bench --vs-pytorch`: one workload of shared/spec/benchmarks.md per
process, so the process's peak RSS is that workload's.

Usage: pytorch_workloads.py WORKLOAD_JSON THREADS WARMUP STEPS

WORKLOAD_JSON is the object tutor writes (tools/cli/bench_models.h):
  {"name", "step": "forward"|"train"|"kd", "model", "teacher", "batch", "channels", "size",
   "classes"}
Steps, as tutor runs them:
  forward  eval mode under no_grad
  train    train mode; CE; zero_grad; backward; SGD(lr 0.05, momentum 0.9, weight decay 5e-4)
  kd       teacher eval under no_grad, student train; 0.1 CE + 0.9 T^2 KL(batchmean), T = 4
Models: resnet8/resnet20 are tools/golden/make_resnet_fixtures.py's CifarResNet (tutor's
CIFAR ResNet) run without its taps; resnet18/resnet50 are torchvision's; vit_small28,
mixer_small28, deit_tiny and mixer_s16 come from tools/golden/transformer_models.py when that
file exists. Inputs are random normal, labels random, seed 0. zero_grad drops the gradients
(set_to_none=True), as tutor's does, rather than 1.13's default of zeroing them in place.

Prints one JSON object on stdout:
  {"torch": VERSION, "name": ..., "run_ns": [int, ...], "vmhwm_kb": int}
or, when the model is not available here, {"torch": VERSION, "name": ..., "error": REASON}.
Times are integer nanoseconds (time.perf_counter_ns) so tutor's strict JSON reader takes them.
The caller sets the environment (BLAS library, OPENBLAS_CORETYPE, GLIBC_TUNABLES).
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, '..', 'golden')
sys.path.insert(0, GOLDEN)
from make_resnet_fixtures import CifarResNet  # noqa: E402

CIFAR_DEPTHS = {'resnet8': 8, 'resnet14': 14, 'resnet20': 20, 'resnet32': 32, 'resnet44': 44,
                'resnet56': 56, 'resnet110': 110}
TRANSFORMERS = ('vit_small28', 'mixer_small28', 'deit_tiny', 'mixer_s16')
T, CE_WEIGHT, KD_WEIGHT = 4.0, 0.1, 0.9


class BenchCifarResNet(CifarResNet):
    """CifarResNet without the taps its fixture forward records (a clone of the stem among them),
    so PyTorch runs the plain network."""

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for layer in (self.layer1, self.layer2, self.layer3):
            x, _ = layer(x)  # the last block of a stage returns (out, preact)
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Unavailable(Exception):
    pass


def create_model(name, channels, classes):
    if name in CIFAR_DEPTHS:
        return BenchCifarResNet(CIFAR_DEPTHS[name], [16, 16, 32, 64], num_classes=classes,
                                in_channels=channels)
    if name in ('resnet18', 'resnet34', 'resnet50'):
        import torchvision
        if channels != 3:
            raise Unavailable(f'torchvision {name} takes 3 channels, not {channels}')
        return getattr(torchvision.models, name)(num_classes=classes)
    if name in TRANSFORMERS:
        if not os.path.exists(os.path.join(GOLDEN, 'transformer_models.py')):
            raise Unavailable(f'{name}: tools/golden/transformer_models.py does not exist yet')
        import transformer_models
        factory = getattr(transformer_models, name, None)
        if factory is None:
            raise Unavailable(f'{name}: tools/golden/transformer_models.py has no {name}()')
        return factory()
    raise Unavailable(f'unknown model {name}')


def time_runs(step, warmup, steps):
    for _ in range(warmup):
        step()
    runs = []
    for _ in range(steps):
        start = time.perf_counter_ns()
        step()
        runs.append(time.perf_counter_ns() - start)
    return runs


def make_step(w):
    torch.manual_seed(0)
    model = create_model(w['model'], w['channels'], w['classes'])
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(w['batch'], w['channels'], w['size'], w['size'], generator=gen)
    labels = torch.randint(0, w['classes'], (w['batch'],), generator=gen)
    if w['step'] == 'forward':
        model.eval()

        def forward():
            with torch.no_grad():
                model(x)
        return forward
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    if w['step'] == 'train':
        def train():
            loss = F.cross_entropy(model(x), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return train
    if w['step'] != 'kd':
        raise SystemExit(f"pytorch_workloads.py: {w['name']}: unknown step {w['step']}")
    teacher = create_model(w['teacher'], w['channels'], w['classes'])
    teacher.eval()

    def kd():
        with torch.no_grad():
            t = teacher(x)
        s = model(x)
        kl = F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction='batchmean')
        loss = CE_WEIGHT * F.cross_entropy(s, labels) + KD_WEIGHT * T * T * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return kd


def peak_rss_kb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return 0


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    w = json.loads(sys.argv[1])
    threads, warmup, steps = (int(v) for v in sys.argv[2:5])
    torch.set_num_threads(threads)
    result = {'torch': torch.__version__, 'name': w['name']}
    try:
        step = make_step(w)
    except Unavailable as e:
        result['error'] = f'unavailable: {e}'
    else:
        result['run_ns'] = time_runs(step, warmup, steps)
        result['vmhwm_kb'] = peak_rss_kb()
    json.dump(result, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
