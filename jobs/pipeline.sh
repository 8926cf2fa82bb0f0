#!/usr/bin/env bash
# Sampling, then training on its output: submits jobs/sample.slurm SAMPLE_CONFIG and
# jobs/train.slurm TRAIN_CONFIG, the second held until the first has completed successfully
# (afterok: a sampling job that is requeued to resume still counts as one job, and training waits
# for its final attempt; if sampling fails, training never starts: `scancel` it).
#
#   bash jobs/pipeline.sh SAMPLE_CONFIG TRAIN_CONFIG       # from the repository root
#
# Extra sbatch options for both jobs can be given in SBATCH_ARGS, e.g. SBATCH_ARGS="--account=abc".
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: bash jobs/pipeline.sh SAMPLE_CONFIG TRAIN_CONFIG" >&2
  exit 2
fi
jobs_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# word splitting intended: SBATCH_ARGS holds several options
read -r -a extra <<< "${SBATCH_ARGS:-}"

# --parsable prints "jobid" or "jobid;cluster"; the dependency wants the id alone
sample_id=$(sbatch --parsable "${extra[@]}" "$jobs_dir/sample.slurm" "$1")
sample_id=${sample_id%%;*}
train_id=$(sbatch --parsable "${extra[@]}" --dependency="afterok:$sample_id" "$jobs_dir/train.slurm" "$2")
train_id=${train_id%%;*}

echo "sampling job: $sample_id"
echo "training job: $train_id (starts after $sample_id completes)"
