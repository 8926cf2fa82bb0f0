#!/usr/bin/env bash
# The scale-aware classification study of docs/studies.md ("Scale-aware criteria"): classical XY
# networks on the improved configuration (two embedding axes), five training seeds each, in three
# variants, evaluated under both criteria of src.analyze classify on classical and quantum XY files
# of L = 16 ... 128, beside the stiffness crossings of the same files:
#   plain      one network for every L, trained on L = 16, 32, 64 (TRAIN_SIZES)
#   rescaled   the same with inputs times L^(1/4) (data.rescale = eta at the KT point)
#   per_size   one network per L (SIZES), each trained on its own size
# Usage (runs in the repository root):
#   tools/study_transfer.sh                          # sample train classify table
#   tools/study_transfer.sh train_rescaled classify  # some stages only
# Environment: OUT [results/study13], SIZES [16 32 64 128], TRAIN_SIZES [16 32 64],
#   SEEDS [1 2 3 4 5], PY [.venv/bin/python]. Finished run files and networks are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
OUT=${OUT:-results/study13}
SIZES=${SIZES:-16 32 64 128}
TRAIN_SIZES=${TRAIN_SIZES:-16 32 64}
SEEDS=${SEEDS:-1 2 3 4 5}
VARIANTS="plain rescaled per_size"
# shellcheck source=tools/study_lib.sh
source tools/study_lib.sh

# files PREFIX "SIZES": the run files of those sizes
files() {
    local prefix=$1 L
    for L in $2; do echo "$OUT/${prefix}_L$L.h5"; done
}

yaml_list() {
    local IFS=,
    echo "[$*]"
}

stage_sample() {
    local model prefix L
    for model in xy quantum_xy; do
        prefix=${model/quantum_xy/qxy}
        for L in $SIZES; do
            [ -f "$OUT/${prefix}_L$L.h5" ] && continue
            run "sample_${prefix}_L$L" "$PY" -m src.sample "configs/study/${model}_sample.yaml" --quiet \
                --set "model.L=$L" --output "$OUT/${prefix}_L$L.h5"
        done
    done
}

# train NAME SIZES SEED [KEY=VALUE...]: configs/study/train_xy_improved.yaml on those sizes
train() {
    local name=$1 sizes=$2 seed=$3 set sets=()
    shift 3
    for set in "$@"; do sets+=(--set "$set"); done
    [ -f "$OUT/train/$name/best.pt" ] && [ -f "$OUT/train/$name/.finished" ] && return
    # shellcheck disable=SC2046
    run "train_$name" "$PY" -m src.train configs/study/train_xy_improved.yaml --quiet --resume \
        --set "data.files=$(yaml_list $(files xy "$sizes"))" --set "training.seed=$seed" "${sets[@]}" \
        --output "$OUT/train/$name"
    touch "$OUT/train/$name/.finished"
}

stage_train_plain() {
    local seed
    for seed in $SEEDS; do train "plain_s$seed" "$TRAIN_SIZES" "$seed"; done
}

stage_train_rescaled() {
    local seed
    for seed in $SEEDS; do train "rescaled_s$seed" "$TRAIN_SIZES" "$seed" data.rescale=0.25; done
}

stage_train_per_size() {
    local seed L
    for L in $SIZES; do
        for seed in $SEEDS; do train "per_size_L${L}_s$seed" "$L" "$seed"; done
    done
}

# networks VARIANT: the model files of a variant
networks() {
    local seed L
    for seed in $SEEDS; do
        if [ "$1" = per_size ]; then
            for L in $SIZES; do echo "$OUT/train/per_size_L${L}_s$seed/best.pt"; done
        else
            echo "$OUT/train/$1_s$seed/best.pt"
        fi
    done
}

stage_classify() {
    local variant criterion prefix
    for variant in $VARIANTS; do
        for criterion in half pairs; do
            for prefix in xy qxy; do
                # shellcheck disable=SC2046
                run "classify_${variant}_${criterion}_$prefix" "$PY" -m src.analyze classify \
                    $(networks "$variant") $(files "$prefix" "$SIZES") --criterion "$criterion" --form bkt \
                    --out "$OUT/classify/${variant}_${criterion}_$prefix" || true
            done
        done
    done
    for prefix in xy qxy; do
        # shellcheck disable=SC2046
        run "stiffness_$prefix" "$PY" -m src.analyze stiffness $(files "$prefix" "$SIZES") \
            --plot "$OUT/stiffness_$prefix.png"
    done
}

stage_table() {
    run table "$PY" tools/study_transfer_table.py "$OUT"
}

stages=${*:-sample train_plain train_rescaled train_per_size classify table}
for stage in $stages; do
    case $stage in
    sample | train_plain | train_rescaled | train_per_size | classify | table) "stage_$stage" ;;
    *)
        echo "unknown stage '$stage' (sample, train_plain, train_rescaled, train_per_size, classify, table)" >&2
        exit 2
        ;;
    esac
done
