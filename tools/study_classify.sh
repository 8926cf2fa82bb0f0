#!/usr/bin/env bash
# The phase-classification study of docs/studies.md, end to end, from the configs in configs/study/:
#   1. Ising (Swendsen-Wang): the periodic CNN on spin, improved and correlation; T_x(L) and T_c
#   2. classical XY (embedded clusters): the same three inputs; T_x(L) and T_BKT (ln^2 L form)
#   3. quantum XY (loop algorithm): the classical-XY `improved` network applied unchanged, and the
#      spin-stiffness criterion rho_s = 2T/pi on the same files
#   4. checks of the training: the improved networks with another seed, XY improved 30 epochs
#   5. the table of all of it ($OUT/table.md), with the wall time of every step ($OUT/times.tsv)
#
# Usage (from anywhere; runs in the repository root):
#   tools/study_classify.sh                  # all stages: sample train classify checks table
#   tools/study_classify.sh classify table   # only some stages, in the order given
# Environment (defaults in brackets):
#   OUT [results/study]   where the run files, models, classifications and logs go
#   ISING_L [16 32 64], XY_L [16 32 64], QXY_L [16 32 64]   lattice sizes (one run file each)
#   TRAIN_ISING_L, TRAIN_XY_L [the same as ISING_L, XY_L]   the sizes the networks are trained on
#   PY [.venv/bin/python]
# Finished steps are not redone: a run file that exists is kept, and training is started with
# --resume (nothing to do when all epochs are done); classification and the table are always
# rewritten (seconds). Everything runs single-threaded, one process at a time.
# Cost measured on one core of a shared 2-core machine at the default sizes: about 36 min, of
# which training is about 75 % (docs/studies.md lists every step). Production sizes, e.g.
#   OUT=results/study_L128 ISING_L="16 32 64 128" XY_L="16 32 64 128" QXY_L="16 32 64 128" \
#     TRAIN_ISING_L="16 32 64" TRAIN_XY_L="16 32 64" tools/study_classify.sh
# add up to about 10 min of sampling per model and classify L = 128 with the networks trained on
# L <= 64 (size-independent CNN); include 128 in TRAIN_*_L to train on it too (~5x per epoch).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
OUT=${OUT:-results/study}
ISING_L=${ISING_L:-16 32 64}
XY_L=${XY_L:-16 32 64}
QXY_L=${QXY_L:-16 32 64}
TRAIN_ISING_L=${TRAIN_ISING_L:-$ISING_L}
TRAIN_XY_L=${TRAIN_XY_L:-$XY_L}
# shellcheck source=tools/study_lib.sh
source tools/study_lib.sh

# files PREFIX "SIZES": the run files of those sizes, one per word
files() {
    local prefix=$1 sizes=$2 L
    # shellcheck disable=SC2086  # the sizes are a list of words
    for L in $sizes; do echo "$OUT/${prefix}_L$L.h5"; done
}

# yaml_list FILE...: [a, b, c] for --set data.files=...
yaml_list() {
    local IFS=,
    echo "[$*]" | sed 's/,/, /g'
}

sample() {
    local model=$1 prefix=$2 sizes=$3 L
    for L in $sizes; do
        local file="$OUT/${prefix}_L$L.h5"
        if [ -f "$file" ]; then
            echo "== sample_${prefix}_L$L: $file exists, kept"
            continue
        fi
        run "sample_${prefix}_L$L" "$PY" -m src.sample "configs/study/${model}_sample.yaml" --quiet \
            --set "model.L=$L" --output "$file"
    done
}

# train PREFIX REP "SIZES" [SUFFIX KEY=VALUE...]: the network of configs/study/train_PREFIX_REP.yaml
# in $OUT/train/PREFIX_REP, or with the config keys changed in $OUT/train/PREFIX_REP_SUFFIX
train() {
    local prefix=$1 rep=$2 sizes=$3 suffix=${4:-} epochs finished=0 set
    shift 3
    shift $(($# > 0))
    local config="configs/study/train_${prefix}_$rep.yaml" name="${prefix}_$rep${suffix:+_$suffix}"
    local metrics="$OUT/train/$name/metrics.csv" sets=()
    epochs=$(sed -n 's/^ *epochs: *\([0-9]*\).*/\1/p' "$config")
    for set in "$@"; do
        sets+=(--set "$set")
        [[ $set == training.epochs=* ]] && epochs=${set#training.epochs=}
    done
    [ -f "$metrics" ] && finished=$(($(wc -l <"$metrics") - 1))
    if [ "$finished" -ge "$epochs" ]; then
        echo "== train_$name: all $epochs epochs done in $OUT/train/$name, kept"
        return
    fi
    # shellcheck disable=SC2046
    run "train_$name" "$PY" -m src.train "$config" --quiet --resume "${sets[@]}" \
        --set "data.files=$(yaml_list $(files "$prefix" "$sizes"))" --output "$OUT/train/$name"
}

classify() {
    local model=$1 prefix=$2 sizes=$3 name=$4
    shift 4
    # shellcheck disable=SC2046
    run "classify_$name" "$PY" -m src.analyze classify "$OUT/train/$model/best.pt" $(files "$prefix" "$sizes") \
        --out "$OUT/classify/$name" "$@"
}

stage_sample() {
    sample ising ising "$ISING_L"
    sample xy xy "$XY_L"
    sample quantum_xy qxy "$QXY_L"
}

stage_train() {
    local rep
    for rep in improved spin correlation; do train ising "$rep" "$TRAIN_ISING_L"; done
    for rep in improved correlation spin; do train xy "$rep" "$TRAIN_XY_L"; done
}

stage_classify() {
    local rep
    for rep in improved spin correlation; do
        classify "ising_$rep" ising "$ISING_L" "ising_$rep" --form power --nu 1
    done
    for rep in improved correlation spin; do
        classify "xy_$rep" xy "$XY_L" "xy_$rep" --form bkt
    done
    classify xy_improved qxy "$QXY_L" qxy_transfer --form bkt
    mkdir -p "$OUT/stiffness"
    # shellcheck disable=SC2046
    run stiffness_qxy "$PY" -m src.analyze stiffness $(files qxy "$QXY_L") --plot "$OUT/stiffness/stiffness.png"
}

# the systematic errors that the bootstrap errors of T_x leave out, for the two networks of the
# extrapolations against the literature (Ising improved; classical XY improved with its transfer to
# the quantum files): the spread over training seeds (seed 2) and, for XY improved, whose validation
# loss still falls at epoch 10, a run of 30 epochs; each evaluated like the network it repeats
stage_checks() {
    train ising improved "$TRAIN_ISING_L" seed2 training.seed=2
    train xy improved "$TRAIN_XY_L" seed2 training.seed=2
    train xy improved "$TRAIN_XY_L" e30 training.epochs=30
    classify ising_improved_seed2 ising "$ISING_L" ising_improved_seed2 --form power --nu 1
    local name
    for name in xy_improved_seed2 xy_improved_e30; do
        classify "$name" xy "$XY_L" "$name" --form bkt
        classify "$name" qxy "$QXY_L" "qxy_transfer${name#xy_improved}" --form bkt
    done
}

# the tables of docs/studies.md from the outputs: validation accuracy (metrics.csv, at the epoch
# of best.pt, the lowest validation loss), T_x at every L and the extrapolation (summary.txt), and
# the stiffness crossings with their ln^2 L extrapolation
stage_table() {
    run table "$PY" - "$OUT" <<'EOF'
import csv
import re
import sys
from pathlib import Path

from src.analysis.fss import extrapolate
from src.analysis.stiffness import stiffness_curves
from src.stats.derived import format_value_error

out = Path(sys.argv[1])
lines = []


def best_epoch(name):
    path = out / "train" / name / "metrics.csv"
    if not path.exists():
        return None
    rows = list(csv.DictReader(open(path)))
    best = min(rows, key=lambda r: float(r["val_loss"]))
    seconds = sum(float(r["seconds"]) for r in rows)
    return best, len(rows), seconds


def crossings(name):
    path = out / "classify" / name / "summary.txt"
    if not path.exists():
        return None
    text = path.read_text()
    per_L = dict(re.findall(r"L =\s+(\d+): T_x = (\S+(?: \S+)?)\s+\(", text))
    fit = re.search(r"extrapolated T_(?:c|BKT) = (\S+)\s+\((.*); (.*)\)", text)
    return per_L, fit


def table(title, names, reference):
    rows = [(n, crossings(n)) for n in names]
    rows = [(n, c) for n, c in rows if c is not None]
    if not rows:
        return
    sizes = sorted({int(L) for _, (per_L, _) in rows for L in per_L})
    lines.extend(["", f"### {title}", ""])
    head = ["network / files", "val. accuracy (epoch)", *[f"T_x(L={L})" for L in sizes], "extrapolated", "fit"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for name, (per_L, fit) in rows:
        model = name.replace("qxy_transfer", "xy_improved")
        trained = best_epoch(model)
        accuracy = f"{float(trained[0]['val_accuracy']):.4f} ({trained[0]['epoch']}/{trained[1]})" if trained else "-"
        cells = [per_L.get(str(L), "-") for L in sizes]
        extrapolated = fit.group(1) if fit else "-"
        quality = fit.group(3) if fit else ""
        lines.append("| " + " | ".join([name, accuracy, *cells, extrapolated, quality]) + " |")
    lines.append(f"\nliterature: {reference}")


table(
    "Ising, T_x(L) = T_c + a/L",
    ["ising_spin", "ising_correlation", "ising_improved", "ising_improved_seed2"],
    "T_c = 2.269185",
)
table(
    "classical XY, T_x(L) = T_BKT + a/ln^2 L",
    ["xy_spin", "xy_correlation", "xy_improved", "xy_improved_seed2", "xy_improved_e30"],
    "T_BKT = 0.8929",
)
table(
    "quantum XY, networks of xy_improved, T_x(L) = T_BKT + a/ln^2 L",
    ["qxy_transfer", "qxy_transfer_seed2", "qxy_transfer_e30"],
    "T_BKT = 0.3427",
)

qfiles = sorted(out.glob("qxy_L*.h5"), key=lambda p: int(p.stem.split("_L")[1]))
if qfiles:
    curves = stiffness_curves(qfiles)
    lines.extend(["", "### quantum XY, rho_s(T; L) = 2T/pi", "", "| L | T* |", "|---|---|"])
    for c in curves:
        lines.append(f"| {c['L']} | {format_value_error(*c['crossing'])} |")
    if len(curves) >= 2:
        fit = extrapolate([c["L"] for c in curves], *zip(*(c["crossing"] for c in curves)), form="bkt")
        quality = f"chi2/dof = {fit.chi2:.2g}/{fit.dof}" if fit.dof else "exact through two sizes"
        lines.append(
            f"\nT*(L) = T_BKT + a/ln^2 L: T_BKT = {format_value_error(fit.T_c, fit.T_c_error)} ({quality});"
            " literature 0.3427"
        )

times = out / "times.tsv"
if times.exists():
    lines.extend(["", "### wall time of the steps (s)", "", "| step | seconds |", "|---|---|"])
    last = {}
    for row in csv.DictReader(open(times), delimiter="\t"):
        last[row["step"]] = row["seconds"]
    lines.extend(f"| {step} | {seconds} |" for step, seconds in last.items())

text = "\n".join(lines).lstrip() + "\n"
(out / "table.md").write_text(text)
print(text)
EOF
}

stages=${*:-sample train classify checks table}
for stage in $stages; do
    case $stage in
    sample | train | classify | checks | table) "stage_$stage" ;;
    *)
        echo "unknown stage '$stage' (sample, train, classify, checks, table)" >&2
        exit 2
        ;;
    esac
done
