#!/usr/bin/python3
"""Golden fixtures for tests/models/test_resnet_parity.cpp, from PyTorch (Debian's python3-torch 1.13,
python3-torchvision 0.14; run with /usr/bin/python3). Both are written to tests/fixtures/models/ and
committed.

resnet8: the CIFAR ResNet of RepDistiller models/resnet.py (re-implemented below, as
shared/spec/models-and-transformer-kd.md §A2 and shared/spec/benchmarks.md define it for 1x28x28
inputs: global average pooling), 1 input channel, 10 classes, batch 8x1x28x28, seeded
initialization with perturbed BatchNorm running statistics (so that eval mode is not the identity
normalization). resnet8_parity.safetensors (~1.2 MB) holds (the recipe is parity_golden.py's)
  init.<key>        the full initial state_dict (parameters and buffers)
  input, labels     the batch [N, C, H, W] f32 and the class indices [N] i64
  logits_eval       eval-mode logits of the initial model
  logits_train      train-mode logits of the initial model (batch statistics)
  loss              cross-entropy of logits_train (mean), 0-dim
  grad.<name>       every parameter's gradient of that loss
  after.<key>       the BatchNorm buffers after that one train-mode forward
  sgd_losses        [10] train-mode losses on the same batch, before each of 10 steps of
                    SGD(lr 0.01, momentum 0.9); sgd_losses[0] == loss
  taps.<name>       eval-mode taps of the initial model on the first 2 samples (eval mode is per
                    sample; fewer samples keep the file small): stem_preact, stem, layerK_preact,
                    layerK, pooled

resnet18: torchvision.models.resnet18(num_classes=10), batch 4x3x48x48 (48 px so that layer4's
BatchNorm normalizes over 2x2 positions x 4 samples: at 32 px it would see 1x1 values per sample,
which with 2 samples it maps to +-1 whatever they are; and with these weights and 2 samples, 8
values per channel left the train-mode gradients of the early layers so ill-conditioned that
PyTorch's own f32 and f64 results differed by 300 times the bound, while at 4 samples they agree
to 1/70 of it). Its 11.2M weights and as many gradients would take 91 MB, so
resnet18_parity.safetensors (~0.8 MB) stores no weights and only part of the gradients:
  - the initial state_dict is a closed form of each key's name and each element's flat index that
    the C++ test computes identically (formula_state below; integer hashing, so both sides get
    the same bits): conv weights uniform in +-sqrt(6 / fan_in) (He), the fc weight and bias in
    +-1 / sqrt(fan_in) (nn.Linear's bound), BatchNorm weight 1 + 0.25 u, bias 0.1 u,
    running_mean 0.1 u, running_var 1 + 0.5 u, with u = formula_uniform(key, index) in [-1, 1);
    initsum.<key> holds each entry's f64 sum, so the test first proves it built the same weights;
  - grad.<name>      the full gradient of every parameter of at most FULL_GRAD_NUMEL elements (all
                     BatchNorm weights and biases, conv1, fc, layer2.0.downsample.0);
  - gradsample.<name>  for every larger parameter, its gradient at GRAD_SAMPLES flat indices
                     formula_index(name + '#sample', j, numel), j < GRAD_SAMPLES (each checked
                     against the elementwise bound, like a full gradient);
  - gradnorms.<name>   [L1, L2] norms (f64) of every parameter's gradient: the test bounds them by
                     what the elementwise bound implies (n atol + rtol L1, sqrt(n) atol + rtol L2);
  - input, labels, logits_eval, logits_train, loss, after.<key>, sgd_losses as for resnet8, and
    taps.<name> on the first sample only.

State dicts: tests/fixtures/models/state_dicts.txt lists, for every ResNet of the registry at its
default options (torchvision: 3 channels, 1000 classes; CIFAR: 3 channels, 100 classes),
"## NAME PARAMETER_COUNT" and then one "key [shape] dtype" line per state_dict entry, in order.

Usage (from the repository root):
  /usr/bin/python3 tools/golden/make_resnet_fixtures.py
"""
import argparse
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

FULL_GRAD_NUMEL = 10000
GRAD_SAMPLES = 1024


# ---- the CIFAR ResNet of RepDistiller models/resnet.py (mdistiller models/cifar/resnet.py) ----

class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, is_last=False):
        super().__init__()
        self.is_last = is_last
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        preact = out
        out = F.relu(out)
        return (out, preact) if self.is_last else out


class CifarResNet(nn.Module):
    def __init__(self, depth, num_filters, num_classes=10, in_channels=3):
        super().__init__()
        n = (depth - 2) // 6
        self.inplanes = num_filters[0]
        self.conv1 = nn.Conv2d(in_channels, num_filters[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(num_filters[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(num_filters[1], n)
        self.layer2 = self._make_layer(num_filters[2], n, stride=2)
        self.layer3 = self._make_layer(num_filters[3], n, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)  # AvgPool2d(8) in the reference (32x32 only)
        self.fc = nn.Linear(num_filters[3], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample, blocks == 1)]
        self.inplanes = planes
        for i in range(1, blocks):
            layers.append(BasicBlock(self.inplanes, planes, is_last=(i == blocks - 1)))
        return nn.Sequential(*layers)

    def forward(self, x, taps=None):
        taps = {} if taps is None else taps
        x = self.bn1(self.conv1(x))
        taps['stem_preact'] = x.clone()
        x = self.relu(x)
        taps['stem'] = x
        for k, layer in enumerate([self.layer1, self.layer2, self.layer3], 1):
            x, pre = layer(x)
            taps[f'layer{k}_preact'], taps[f'layer{k}'] = pre, x
        x = torch.flatten(self.avgpool(x), 1)
        taps['pooled'] = x
        return self.fc(x)


def torchvision_taps(model, x, taps):
    """torchvision's ResNet._forward_impl, keeping the taps; the last block's pre-ReLU sum is
    recomputed with the block's own layers."""
    x = model.bn1(model.conv1(x))
    taps['stem_preact'] = x.clone()
    x = model.relu(x)
    taps['stem'] = x.clone()
    x = model.maxpool(x)
    for k in range(1, 5):
        layer = getattr(model, f'layer{k}')
        for block in layer[:-1]:
            x = block(x)
        b = layer[-1]
        identity = x if b.downsample is None else b.downsample(x)
        pre = b.bn2(b.conv2(b.relu(b.bn1(b.conv1(x))))) + identity
        taps[f'layer{k}_preact'], x = pre, F.relu(pre)
        taps[f'layer{k}'] = x
    x = torch.flatten(model.avgpool(x), 1)
    taps['pooled'] = x
    return model.fc(x)


# ---- the closed-form resnet18 weights, computed identically by tests/models/test_resnet_parity.cpp ----

MASK32 = 0xFFFFFFFF


def mix32(x):
    """A 32-bit integer hash (two multiply-xorshift rounds) of an int64 tensor of values < 2^32;
    every intermediate stays below 2^59, so int64 arithmetic is exact."""
    x = (((x >> 16) ^ x) * 0x45D9F3B) & MASK32
    x = (((x >> 16) ^ x) * 0x45D9F3B) & MASK32
    return (x >> 16) ^ x


def fnv1a32(text):
    h = 2166136261
    for b in text.encode():
        h = ((h ^ b) * 16777619) & MASK32
    return h


def formula_hash(key, n):
    """mix32(mix32(i) ^ fnv1a32(key)) for i < n."""
    assert n < 2**32
    return mix32(mix32(torch.arange(n, dtype=torch.int64)) ^ fnv1a32(key))


def formula_uniform(key, n):
    """n f64 values in [-1, 1), exact: (hash - 2^31) / 2^31."""
    return (formula_hash(key, n).double() - 2.0**31) / 2.0**31


def formula_index(key, count, n):
    """count flat indices in [0, n)."""
    return formula_hash(key, count) % n


def formula_value(key, shape):
    n = 1
    for s in shape:
        n *= s
    if key.endswith('num_batches_tracked'):
        return torch.zeros(shape, dtype=torch.int64)
    u = formula_uniform(key, n)
    if key.endswith('running_mean'):
        v = u * 0.1
    elif key.endswith('running_var'):
        v = 1.0 + u * 0.5
    elif len(shape) == 4:
        v = u * math.sqrt(6.0 / (shape[1] * shape[2] * shape[3]))
    elif len(shape) == 2:
        v = u * (1.0 / math.sqrt(shape[1]))
    elif len(shape) == 1 and key.endswith('.weight'):
        v = 1.0 + u * 0.25
    elif len(shape) == 1 and key.endswith('.bias'):
        v = u * 0.1
    else:
        raise ValueError(f'no formula for {key} {shape}')
    return v.float().reshape(shape)


def formula_state(model):
    state = {k: formula_value(k, tuple(v.shape)) for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    return {f'initsum.{k}': v.double().sum() for k, v in state.items()}


def compact(out, model):
    """Replaces the full init.* and grad.* of golden() by the compact form of the docstring."""
    compacted = {k: v for k, v in out.items() if not k.startswith(('init.', 'grad.'))}
    for name, _ in model.named_parameters():
        g = out[f'grad.{name}']
        flat = g.flatten()
        if g.numel() <= FULL_GRAD_NUMEL:
            compacted[f'grad.{name}'] = g
        else:
            compacted[f'gradsample.{name}'] = flat[formula_index(name + '#sample', GRAD_SAMPLES,
                                                                 g.numel())]
        gd = flat.double()
        compacted[f'gradnorms.{name}'] = torch.stack([gd.abs().sum(), gd.square().sum().sqrt()])
    return compacted


from parity_golden import golden, write_state_listings  # noqa: E402
from safetensors_writer import save_safetensors  # noqa: E402


# ---- the recipe ----

def perturb_running_stats(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.num_features, generator=gen))
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)


def meta_for(description):
    return {'generator': 'tools/golden/make_resnet_fixtures.py',
            'torchvision': torchvision.__version__, 'model': description}


def cifar_taps(model, x, taps):
    return model(x, taps)


CIFAR_WIDTHS = {'': [16, 16, 32, 64], 'x4': [32, 64, 128, 256]}
CIFAR_MODELS = [(8, ''), (14, ''), (20, ''), (32, ''), (44, ''), (56, ''), (110, ''), (8, 'x4'),
                (32, 'x4')]


def write_resnet_listings(path):
    models = [(n, getattr(torchvision.models, n)()) for n in ('resnet18', 'resnet34', 'resnet50')]
    models += [(f'resnet{d}{x}', CifarResNet(d, CIFAR_WIDTHS[x], num_classes=100))
               for d, x in CIFAR_MODELS]
    write_state_listings(path, models)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='tests/fixtures/models', help='directory of the committed fixture')
    args = ap.parse_args()
    torch.set_num_threads(1)

    os.makedirs(args.out, exist_ok=True)
    write_resnet_listings(os.path.join(args.out, 'state_dicts.txt'))

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = CifarResNet(8, [16, 16, 32, 64], num_classes=10, in_channels=1)
    perturb_running_stats(model, gen)
    x = torch.randn(8, 1, 28, 28, generator=gen)
    labels = torch.randint(0, 10, (8,), generator=gen)
    out, meta = golden(model, cifar_taps, x, labels, meta_for(
        'resnet8 (RepDistiller CIFAR ResNet, global average pooling), in_channels 1, 10 classes'))
    save_safetensors(os.path.join(args.out, 'resnet8_parity.safetensors'), out, meta)

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(2)
    model = torchvision.models.resnet18(num_classes=10)
    initsums = formula_state(model)
    x = torch.randn(4, 3, 48, 48, generator=gen)
    labels = torch.randint(0, 10, (4,), generator=gen)
    out, meta = golden(model, torchvision_taps, x, labels,
                       meta_for('torchvision resnet18, 10 classes'), tap_samples=1)
    out = compact(out, model)
    out.update(initsums)
    meta['init'] = 'closed form: formula_state in tools/golden/make_resnet_fixtures.py'
    save_safetensors(os.path.join(args.out, 'resnet18_parity.safetensors'), out, meta)
    with torch.no_grad():
        print('resnet18 logits_eval', out['logits_eval'], 'loss', out['loss'].item(),
              'sgd_losses', out['sgd_losses'].tolist())
    return 0


if __name__ == '__main__':
    sys.exit(main())
