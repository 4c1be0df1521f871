#!/usr/bin/python3
"""The PyTorch side of `tutor train`'s seconds per epoch: the same CIFAR-style ResNet
(tools/golden/make_resnet_fixtures.py's CifarResNet, equal to tutor's) trained on Fashion-MNIST
with the same recipe: SGD momentum 0.9, lr 0.05 cosine over the epochs, weight decay 5e-4,
batch 128, RandomCrop(28, padding=2), inputs x / 255 normalized with mean 0.2860, std 0.3530.

  /usr/bin/python3 tools/bench/pytorch_train_fmnist.py --model resnet20 --epochs 1 --threads 2

Prints one line per epoch (seconds for training plus the test pass, test accuracy). Run it in
the same session as tutor's command, on the same machine and threads; for PyTorch's strongest
configuration see shared/spec/benchmarks.md (GLIBC_TUNABLES, OpenBLAS).
"""
import argparse
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'golden'))
from make_resnet_fixtures import CifarResNet  # noqa: E402

DEPTHS = {'resnet8': 8, 'resnet14': 14, 'resnet20': 20, 'resnet32': 32, 'resnet44': 44,
          'resnet56': 56, 'resnet110': 110}


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, split):
    prefix = 'train' if split == 'train' else 't10k'
    x = read_idx(os.path.join(directory, f'{prefix}-images-idx3-ubyte.gz'))
    y = read_idx(os.path.join(directory, f'{prefix}-labels-idx1-ubyte.gz'))
    x = (torch.from_numpy(x.copy()).float().div_(255) - 0.2860) / 0.3530
    return x.unsqueeze(1), torch.from_numpy(y.astype(np.int64))


def random_crop(x, padding, gen):
    n, _, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=gen)
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='resnet20', choices=sorted(DEPTHS))
    ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--data-dir', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    xtr, ytr = load(args.data_dir, 'train')
    xte, yte = load(args.data_dir, 'test')
    model = CifarResNet(DEPTHS[args.model], [16, 16, 32, 64], num_classes=10, in_channels=1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    for epoch in range(args.epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(xtr), generator=gen)
        for b in range(math.ceil(len(xtr) / 128)):
            idx = order[b * 128:(b + 1) * 128]
            x = random_crop(xtr[idx], 2, gen)
            loss = F.cross_entropy(model(x), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for b in range(0, len(xte), 512):
                correct += (model(xte[b:b + 512]).argmax(1) == yte[b:b + 512]).sum().item()
        seconds = time.perf_counter() - start
        print(f'{args.model} epoch {epoch + 1}/{args.epochs}: {seconds:.1f} s, '
              f'test acc {100 * correct / len(xte):.2f}% (torch {torch.__version__}, '
              f'{args.threads} threads)', flush=True)


if __name__ == '__main__':
    main()
