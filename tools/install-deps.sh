#!/usr/bin/env bash
# Installs everything tutor needs to build and test on Debian 12, with apt-get. Quiet and quick
# when it is all there already. `--peer` also installs the PyTorch peer that `tutor bench
# --vs-pytorch` and the golden-fixture scripts run (never needed to build, test or run tutor).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libfmt-dev      # formatting (GCC 12 has no std::format)
  doctest-dev     # the test framework
  zlib1g-dev      # gzip'd IDX files
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers  # oneDNN 2.6 (its CMake config needs OpenCL)
  libeigen3-dev   # generic CPU linear algebra
  libstb-dev      # PNG/JPEG decoding
  libyaml-cpp-dev # distillation recipes
  dataset-fashion-mnist  # the default dataset, in /usr/share/datasets/fashion-mnist
)
if [ "${1:-}" = "--peer" ]; then
  # PyTorch 1.13 and the OpenMP OpenBLAS of its strongest configuration here
  # (../shared/spec/benchmarks.md); run with /usr/bin/python3.
  packages+=(python3-torch python3-torchvision libopenblas0-openmp)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
