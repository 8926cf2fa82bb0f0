#!/usr/bin/env bash
# The whole study (python -m src.pipeline) as Slurm jobs: every sampling run a jobs/sample.slurm
# job, every training run a jobs/train.slurm job held until the runs it reads have completed
# (afterok: a job requeued to resume still counts as one), and a last job, held until all of them
# have, that generates the inverse-RG configurations and writes <output>/report.md.
#
#   bash jobs/pipeline.sh [PIPELINE_CONFIG] [--set KEY=VALUE ...]   # default: configs/pipeline.yaml
#
# Extra sbatch options: SBATCH_ARGS for every job (e.g. "--account=abc"), SAMPLE_ARGS for the
# sampling jobs (e.g. "--ntasks=64"), TRAIN_ARGS for the training jobs (e.g. "--partition=gpu
# --gpus-per-node=4"). If a job fails, the ones after it never start: `scancel` them, fix, resubmit;
# finished runs are complete files and their jobs return at once.
set -euo pipefail

jobs_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$jobs_dir")
python=${PYTHON:-$root/.venv/bin/python}
[ -x "$python" ] || python=python3
config=$root/configs/pipeline.yaml
if [ $# -gt 0 ] && [[ $1 != -* ]]; then
  config=$(realpath "$1")
  shift
fi
cd "$root"  # the stages' paths are relative to the checkout, where every job starts
# word splitting intended: each holds several options
read -r -a every <<< "${SBATCH_ARGS:-}"
read -r -a sampling <<< "${SAMPLE_ARGS:-}"
read -r -a training <<< "${TRAIN_ARGS:-}"

# id <TAB> kind <TAB> the ids it waits for (comma-separated, or -) <TAB> its config
plan=$("$python" -m src.pipeline "$config" "$@" --plan)
declare -A job
all=()
while IFS=$'\t' read -r id kind after what; do
  held=()
  if [ "$after" != - ]; then
    ids=""
    for a in ${after//,/ }; do
      ids+=":${job[$a]}"
    done
    held=(--dependency="afterok$ids")
  fi
  case $kind in
    sample) submitted=$(sbatch --parsable "${every[@]}" "${sampling[@]}" "${held[@]}" "$jobs_dir/sample.slurm" "$what") ;;
    train) submitted=$(sbatch --parsable "${every[@]}" "${training[@]}" "${held[@]}" "$jobs_dir/train.slurm" "$what") ;;
    *) continue ;;  # generation runs in the last job
  esac
  # --parsable prints "jobid" or "jobid;cluster"; the dependency wants the id alone
  job[$id]=${submitted%%;*}
  all+=("${job[$id]}")
  echo "$kind $id: job ${job[$id]}"
done <<< "$plan"

finish=$(printf '%q ' "$python" -m src.pipeline "$config" "$@" --finish)
deps=$(IFS=:; echo "${all[*]}")
last=$(sbatch --parsable "${every[@]}" --dependency="afterok:$deps" --job-name=spinml-report \
  --output=spinml-report-%j.out --wrap "cd $(printf '%q' "$root") && $finish")
echo "generation and report: job ${last%%;*} (starts after all of the above)"
