#!/usr/bin/env bash
# The main command: installs the dependencies, builds the `tutor` CLI and runs the Fashion-MNIST
# distillation demo (distill/recipes/fmnist-demo.yaml): a resnet8 student with 100 labels alone,
# and taught by a teacher on 5900 unlabeled images with KD and with DIST.
#   tools/demo.sh [build-dir] [extra tutor distill flags...]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
shift || true

tools/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$(nproc)" --target tutor_bin
# OpenMP threads sleep instead of spinning while they wait: on a machine whose cores are shared,
# spinning made runs several times slower.
OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}" \
  "$build/tools/tutor" distill --recipe distill/recipes/fmnist-demo.yaml --threads "$(nproc)" \
  --out "$build/demo" "$@"
