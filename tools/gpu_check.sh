#!/usr/bin/env bash
# The checks that need a CUDA device, in one go, for a GPU node: the CuPy sampling backend against
# exact results (array level and through the driver), training and super-resolution on CUDA, and
# the GPU benchmarks. Logs and markdown tables go to OUT (default gpu-check/).
#
#     tools/gpu_check.sh [OUT]          PYTHON=... to use another interpreter (default: .venv, python3)
#
# Each stage has a time limit of its own and a failing stage does not stop the next; the exit
# status is that of the first failing stage.
set -u
cd "$(dirname "$0")/.."
out=${1:-gpu-check}
mkdir -p "$out"
python=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
export PYTHONUNBUFFERED=1
status=0

stage() {  # stage NAME SECONDS COMMAND...: run it, log to OUT/NAME.log, remember the first failure
    local name=$1 limit=$2
    shift 2
    echo "== $name ($(date +%T))"
    timeout "$limit" "$@" 2>&1 | tee "$out/$name.log"
    local rc=${PIPESTATUS[0]}
    echo "== $name: exit $rc"
    [ "$status" -ne 0 ] || status=$rc
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
pytest=("$python" -m pytest -q -p no:cacheprovider --color=no -ra)
stage sampling_tests "${GPU_TEST_SECONDS:-900}" "${pytest[@]}" tests/test_array_backend.py tests/test_gpu.py -k "cupy or gpu"
stage bench_gpu "${GPU_BENCH_SECONDS:-300}" "$python" -m bench.gpu --seconds 1 --markdown "$out/bench_gpu.md"
stage training_tests "${GPU_TRAIN_SECONDS:-300}" "${pytest[@]}" tests/test_train.py tests/test_superres_train.py \
    -k "learns or two_lattice or follow or generated"
stage bench_superres 120 "$python" -m bench.superres --seconds 1 --markdown "$out/bench_superres.md"
stage bench_train 900 "$python" -m bench.train --markdown "$out/bench_train.md"
exit "$status"
