#!/usr/bin/env bash
# The scale-aware classification study of docs/studies.md ("Scale-aware criteria"): classical XY
# networks on the improved configuration (two embedding axes), five training seeds each, in three
# variants, evaluated under both criteria of src.analyze classify on classical and quantum XY files
# of L = 16 ... 128, beside the stiffness crossings of the same files:
#   plain      one network for every L, trained on L = 16, 32, 64 (TRAIN_SIZES)
#   rescaled   the same with inputs times L^(1/4) (data.rescale = eta at the KT point)
#   per_size   one network per L (SIZES), each trained on its own size
# and, as a check of the criteria where no logarithms intervene, the 2D Ising model (T_c exact): one
# network for every L on rescaled improved and correlation inputs (eta = 1/4), five seeds each, and one
# network per L on spin inputs.
# The inputs compared on classical XY (stage train_inputs, INPUT_SEEDS, sizes <= 64): spin (not
# rescalable), correlation and one-axis improved (files xy1_L*.h5, snapshots.axes = 1), the latter two
# rescaled like the two-axis improved of `rescaled`.
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
INPUT_SEEDS=${INPUT_SEEDS:-1 2 3}
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
    for model in ising xy quantum_xy; do
        prefix=${model/quantum_xy/qxy}
        for L in $SIZES; do
            [ -f "$OUT/${prefix}_L$L.h5" ] && continue
            run "sample_${prefix}_L$L" "$PY" -m src.sample "configs/study/${model}_sample.yaml" --quiet \
                --set "model.L=$L" --output "$OUT/${prefix}_L$L.h5"
        done
    done
    for L in $TRAIN_SIZES; do
        [ -f "$OUT/xy1_L$L.h5" ] && continue
        run "sample_xy1_L$L" "$PY" -m src.sample configs/study/xy_sample.yaml --quiet --set "model.L=$L" \
            --set snapshots.axes=1 --set "snapshots.representations=[improved]" --output "$OUT/xy1_L$L.h5"
    done
}

# train NAME SIZES SEED [KEY=VALUE...]: configs/study/train_$CONFIG.yaml on the $PREFIX files
train() {
    local name=$1 sizes=$2 seed=$3 set sets=() config=${CONFIG:-xy_improved} prefix=${PREFIX:-xy}
    shift 3
    for set in "$@"; do sets+=(--set "$set"); done
    [ -f "$OUT/train/$name/best.pt" ] && [ -f "$OUT/train/$name/.finished" ] && return
    # shellcheck disable=SC2046
    run "train_$name" "$PY" -m src.train "configs/study/train_$config.yaml" --quiet --resume \
        --set "data.files=$(yaml_list $(files "$prefix" "$sizes"))" --set "training.seed=$seed" "${sets[@]}" \
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

stage_train_ising() {
    local seed rep
    for rep in improved correlation; do
        for seed in $SEEDS; do
            CONFIG=ising_$rep PREFIX=ising train "ising_${rep}_rescaled_s$seed" "$TRAIN_SIZES" "$seed" data.rescale=0.25
        done
    done
}

# Ising spin inputs cannot be rescaled (no lattice of correlations); their scale-aware criterion is
# one network per L (Carrasquilla-Melko), five seeds each
stage_train_ising_spin() {
    local seed L
    for L in $SIZES; do
        for seed in $SEEDS; do CONFIG=ising_spin PREFIX=ising train "ising_spin_L${L}_s$seed" "$L" "$seed"; done
    done
}

stage_train_inputs() {
    local seed
    for seed in $INPUT_SEEDS; do
        CONFIG=xy_spin train "xy_spin_s$seed" "$TRAIN_SIZES" "$seed"
        CONFIG=xy_correlation train "xy_correlation_rescaled_s$seed" "$TRAIN_SIZES" "$seed" data.rescale=0.25
        PREFIX=xy1 train "xy1_improved_rescaled_s$seed" "$TRAIN_SIZES" "$seed" data.rescale=0.25
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

# evaluate NAME ARGS...: src.analyze classify ARGS into $OUT/classify/NAME, unless done already
# (delete the folder to redo it); a failure is logged and the study goes on
evaluate() {
    local name=$1
    shift
    [ -f "$OUT/classify/$name/crossings.csv" ] && return
    run "classify_$name" "$PY" -m src.analyze classify "$@" --criterion half pairs --out "$OUT/classify/$name" || true
}

# seeded NAME SEEDS: the model files NAME_s<seed>/best.pt
seeded() {
    local seed
    for seed in $2; do echo "$OUT/train/$1_s$seed/best.pt"; done
}

stage_classify() {
    local variant prefix rep name
    for variant in $VARIANTS; do
        for prefix in xy qxy; do
            # shellcheck disable=SC2046
            evaluate "${variant}_$prefix" $(networks "$variant") $(files "$prefix" "$SIZES") --form bkt
        done
    done
    for rep in improved correlation; do
        # shellcheck disable=SC2046
        evaluate "ising_${rep}_rescaled" $(seeded "ising_${rep}_rescaled" "$SEEDS") $(files ising "$SIZES") \
            --form power --nu 1
    done
    # shellcheck disable=SC2046
    evaluate ising_spin_per_size $(for seed in $SEEDS; do for L in $SIZES; do
        echo "$OUT/train/ising_spin_L${L}_s$seed/best.pt"
    done; done) $(files ising "$SIZES") --form power --nu 1
    for name in xy_spin xy_correlation_rescaled xy1_improved_rescaled; do
        # shellcheck disable=SC2046
        evaluate "inputs_$name" $(seeded "$name" "$INPUT_SEEDS") $(files "${name%%_*}" "$TRAIN_SIZES") --form bkt
    done
    # shellcheck disable=SC2046
    evaluate inputs_xy_improved_rescaled $(seeded rescaled "$INPUT_SEEDS") $(files xy "$TRAIN_SIZES") --form bkt
    for prefix in xy qxy; do
        # shellcheck disable=SC2046
        run "stiffness_$prefix" "$PY" -m src.analyze stiffness $(files "$prefix" "$SIZES") \
            --plot "$OUT/stiffness_$prefix.png"
    done
}

stage_table() {
    run table "$PY" tools/study_transfer_table.py "$OUT"
}

all="sample train_plain train_rescaled train_per_size train_ising train_ising_spin train_inputs classify table"
stages=${*:-$all}
for stage in $stages; do
    case " $all " in
    *" $stage "*) "stage_$stage" ;;
    *)
        echo "unknown stage '$stage' ($all)" >&2
        exit 2
        ;;
    esac
done
