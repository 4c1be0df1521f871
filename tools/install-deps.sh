#!/usr/bin/env bash
# Installs everything tutor needs to build and test on Debian 12, with apt-get. Quiet and quick
# when it is all there already.
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
