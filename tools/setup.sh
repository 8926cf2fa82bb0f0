#!/usr/bin/env bash
# Idempotent environment set-up for a fresh Debian 12 machine: OpenMPI, parallel HDF5,
# a .venv with mpi4py, the MPI build of h5py, the CPU build of torch and the project itself.
set -euo pipefail
cd "$(dirname "$0")/.."
# TORCH_INDEX: a wheel index for torch, e.g. https://download.pytorch.org/whl/cu128 for a CUDA build
# on a GPU node (docs/clusters.md); by default pip's own. Every version comes from tools/constraints.txt.
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
TORCH_INDEX=${TORCH_INDEX:-}
HDF5_DIR=${HDF5_DIR:-/usr/lib/x86_64-linux-gnu/hdf5/openmpi}

need_pkgs=()
for p in openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools pkg-config; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup: installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
install="$VENV/bin/python -m pip install -q -c tools/constraints.txt"
$install numpy mpi4py Cython pkgconfig "setuptools>=77" packaging wheel
if ! "$VENV/bin/python" -c "import h5py, sys; sys.exit(0 if h5py.get_config().mpi else 1)" 2>/dev/null; then
  echo "setup: building h5py against parallel HDF5 (a few minutes the first time)"
  CC=mpicc HDF5_MPI=ON HDF5_DIR="$HDF5_DIR" \
    $install --no-binary=h5py --no-build-isolation --force-reinstall --no-deps h5py
fi
"$VENV/bin/python" -c "import torch" 2>/dev/null || \
  $install ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} torch
$install -e ".[dev]"
touch "$VENV/.setup-done"
echo "setup: done ($("$VENV/bin/python" -c 'import h5py; print("h5py", h5py.__version__, "mpi", h5py.get_config().mpi)'))"
