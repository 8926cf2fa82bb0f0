#!/usr/bin/env bash
# The inverse-RG (super-resolution) study of docs/studies_rg.md, end to end, from the configs
# configs/study/rg_*.yaml, for the Ising and the 3-state Potts model:
#   sample    Swendsen-Wang at L = 16 (generation start) and 32 (training pairs, and the Monte Carlo
#             reference of L = 32) with spins, FK bonds and improved; references at larger L
#   train     a spin-based and a graph-based (fk_bonds) network per model, pairs 16 -> 32 over all T
#   generate  from the L = 16 Monte Carlo snapshots, 16 -> 32 -> 64 (-> 128), every generation T
#   flow      python -m src.analyze flow: generated vs Monte Carlo at the same L and T, the flow
#             T -> T', its fixed points, the error table and the figures, one folder per model
#   onestep   one-step reproduction: an independent L = 32 run (seed 1032) of every T, each
#             configuration's block super-resolved once by both networks (superres --block --steps 1)
#             and compared with the configuration (python -m src.analyze onestep), one folder per model
#   exponents repeated enlargement at T_c: runs at the literature T_c (L = 16 the start, 400
#             snapshots; L = 32 ... 256 the Monte Carlo reference, 200 each), both networks applied
#             four times (16 -> 256), python -m src.analyze exponents (eta, gamma/nu), one folder per model
#   pertemp   control: one network per temperature (the design docs/rg.md recommends) at two
#             temperatures per model, one below and one above T_c, generated and compared the same way,
#             and one step from the blocks of the test run at that temperature (onestep_T/)
#   table     $OUT/table.md: spin vs graph side, fixed points against T_c, training, wall times
#   bench     python -m bench.superres (generation throughput) into $OUT/bench_superres.md
#
# Usage (from anywhere; runs in the repository root):
#   tools/study_inverse_rg.sh OUT                     # stages sample train generate flow onestep exponents pertemp table
#   tools/study_inverse_rg.sh OUT flow table          # only some stages, in the order given
#   tools/study_inverse_rg.sh OUT bench               # the throughput benchmark (not in the default)
# Environment (defaults in brackets):
#   PY [.venv/bin/python]
#   ISING_N [128], POTTS_N [125]   configurations generated per temperature (the first N snapshots
#                           of L = 16; the sampling configs store 250 and 125 per temperature)
#   ISING_REF_L [64 128]    Monte Carlo reference sizes beyond 32 (configs/study/rg_ising_reference.yaml)
#   ISING_STEPS [3]         generation steps from L = 16 (3: up to 128; needs a reference of every L)
#   POTTS_REF_L [64], POTTS_STEPS [2]   the same for the 3-state Potts model
#   ISING_GEN_T, POTTS_GEN_T            generation temperatures (every other one of the Monte Carlo grid)
#   ISING_PER_T [2.0 2.8], POTTS_PER_T [0.9 1.2], PER_T_EPOCHS [40]   the per-temperature control
#   ONESTEP_MEASURE [4000]  sweeps of the one-step test runs (snapshots every 40: 100 per T)
#   EXP_SIZES [32 64 128 256]  the Monte Carlo sizes at T_c and the generated ones (from L = 16)
# Every run file gets seed = L. Finished steps are not redone: an existing run file is kept,
# training starts with --resume (nothing to do when all epochs are done), a generated folder that
# holds its largest L is kept; flow and table are always rewritten (seconds). Everything runs
# single-threaded, one process at a time; the wall time of every step goes to $OUT/times.tsv and
# its output to $OUT/logs/<step>.log.
# Cost measured on one core of a shared 2-core machine (other jobs running) at the defaults: about
# 55 min, of which training to a plateau 19 min, the exponent chains to L = 256 17 min (mostly the
# 40 Edwards-Sokal sweeps of the graph side and the Potts spin network's 6 symmetry passes),
# generation 9 min, the per-temperature control 6 min, sampling 2 min, the one-step tests 2 min
# (docs/studies_rg.md); the bench stage adds 45 s. Production, e.g. Potts up to L = 128:
#   POTTS_REF_L="64 128" POTTS_STEPS=3 tools/study_inverse_rg.sh results/rg_study_big
set -euo pipefail
if [ $# -lt 1 ] || [[ $1 == -* ]]; then
    echo "usage: $0 OUT [sample|train|generate|flow|onestep|exponents|pertemp|table|bench ...]" >&2
    exit 2
fi
OUT=$(realpath -m "$1")
shift
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
ISING_N=${ISING_N:-128}
POTTS_N=${POTTS_N:-125}
ISING_REF_L=${ISING_REF_L:-64 128}
ISING_STEPS=${ISING_STEPS:-3}
POTTS_REF_L=${POTTS_REF_L:-64}
POTTS_STEPS=${POTTS_STEPS:-2}
ISING_GEN_T=${ISING_GEN_T:-1.8 1.9 2.0 2.1 2.2 2.3 2.4 2.5 2.6 2.7 2.8 2.9 3.0}
POTTS_GEN_T=${POTTS_GEN_T:-0.8 0.85 0.9 0.95 1.0 1.05 1.1 1.15 1.2 1.25 1.3}
ISING_PER_T=${ISING_PER_T:-2.0 2.8}
POTTS_PER_T=${POTTS_PER_T:-0.9 1.2}
PER_T_EPOCHS=${PER_T_EPOCHS:-40}
ONESTEP_MEASURE=${ONESTEP_MEASURE:-4000}
EXP_SIZES=${EXP_SIZES:-32 64 128 256}
# shellcheck source=tools/study_lib.sh
source tools/study_lib.sh

# sample MODEL CONFIG L: the run file $OUT/MODEL_L<L>.h5 of that config at that L, seed = L
sample() {
    local model=$1 config=$2 L=$3
    local file="$OUT/${model}_L$L.h5"
    if [ -f "$file" ]; then
        echo "== sample_${model}_L$L: $file exists, kept"
        return
    fi
    run "sample_${model}_L$L" "$PY" -m src.sample "configs/study/$config.yaml" --quiet \
        --set "model.L=$L" --set "seed=$L" --output "$file"
}

# train MODEL SIDE: configs/study/rg_MODEL_train_SIDE.yaml on $OUT/MODEL_L32.h5
train() {
    local model=$1 side=$2 epochs finished=0
    local config="configs/study/rg_${model}_train_$side.yaml" dir="$OUT/train/${model}_$side"
    epochs=$(sed -n 's/^ *epochs: *\([0-9]*\).*/\1/p' "$config")
    [ -f "$dir/metrics.csv" ] && finished=$(($(wc -l <"$dir/metrics.csv") - 1))
    if [ "$finished" -ge "$epochs" ]; then
        echo "== train_${model}_$side: all $epochs epochs done in $dir, kept"
        return
    fi
    run "train_${model}_$side" "$PY" -m src.train "$config" --quiet --resume \
        --set "data.files=[$OUT/${model}_L32.h5]" --output "$dir"
}

# generate MODEL SIDE STEPS N TEMPERATURES: from the first N snapshots of $OUT/MODEL_L16.h5
generate() {
    local model=$1 side=$2 steps=$3 n=$4 temperatures=$5
    local dir="$OUT/generated/${model}_$side"
    if [ -f "$dir/L$((16 << steps)).h5" ]; then
        echo "== generate_${model}_$side: $dir holds L = $((16 << steps)), kept"
        return
    fi
    # shellcheck disable=SC2086  # the temperatures are a list of words
    run "generate_${model}_$side" "$PY" -m src.analyze superres "$OUT/train/${model}_$side/best.pt" \
        "$OUT/${model}_L16.h5" --steps "$steps" --n "$n" --seed 1 --temperatures $temperatures \
        --out "$dir" --overwrite --quiet
}

# flow MODEL "REFERENCE SIZES": every Monte Carlo file of the model against both sides
flow() {
    local model=$1 sizes=$2 L files=()
    for L in 32 $sizes; do files+=("$OUT/${model}_L$L.h5"); done
    run "flow_$model" "$PY" -m src.analyze flow "${files[@]}" \
        --generated "spin=$OUT/generated/${model}_spin" --generated "graph=$OUT/generated/${model}_graph" \
        --out "$OUT/flow/$model"
}

stage_sample() {
    local L
    for L in 16 32; do sample ising rg_ising_sample "$L"; done
    for L in $ISING_REF_L; do sample ising rg_ising_reference "$L"; done
    for L in 16 32; do sample potts3 rg_potts3_sample "$L"; done
    for L in $POTTS_REF_L; do sample potts3 rg_potts3_reference "$L"; done
}

stage_train() {
    local model side
    for model in ising potts3; do
        for side in spin graph; do train "$model" "$side"; done
    done
}

stage_generate() {
    local side
    for side in spin graph; do generate ising "$side" "$ISING_STEPS" "$ISING_N" "$ISING_GEN_T"; done
    for side in spin graph; do generate potts3 "$side" "$POTTS_STEPS" "$POTTS_N" "$POTTS_GEN_T"; done
}

stage_flow() {
    flow ising "$ISING_REF_L"
    flow potts3 "$POTTS_REF_L"
}

# pertemp MODEL STEPS N "REFERENCE SIZES" "TEMPERATURES": per T and side, the training config of
# the study restricted to that T (PER_T_EPOCHS epochs: an epoch has 1/n_T of the pairs), generation
# at that T only, and one analyze flow over all of them (sides spin_T<T>, graph_T<T>)
pertemp() {
    local model=$1 steps=$2 n=$3 sizes=$4 temperatures=$5 T side dir gen L sides=() files=()
    for T in $temperatures; do
        for side in spin graph; do
            dir="$OUT/train_T/${model}_${side}_T$T"
            gen="$OUT/generated_T/${model}_${side}_T$T"
            if [ ! -f "$dir/last.pt" ] || [ "$(($(wc -l <"$dir/metrics.csv") - 1))" -lt "$PER_T_EPOCHS" ]; then
                run "train_${model}_${side}_T$T" "$PY" -m src.train "configs/study/rg_${model}_train_$side.yaml" \
                    --quiet --resume --set "data.files=[$OUT/${model}_L32.h5]" --set "data.temperatures=[$T]" \
                    --set "training.epochs=$PER_T_EPOCHS" --output "$dir"
            fi
            if [ ! -f "$gen/L$((16 << steps)).h5" ]; then
                run "generate_${model}_${side}_T$T" "$PY" -m src.analyze superres "$dir/best.pt" \
                    "$OUT/${model}_L16.h5" --steps "$steps" --n "$n" --seed 1 --temperatures "$T" \
                    --out "$gen" --overwrite --quiet
            fi
            sides+=(--generated "${side}_T$T=$gen")
            if [ ! -f "$OUT/onestep_generated_T/${model}_${side}_T$T/L32.h5" ]; then
                run "onestep_generate_${model}_${side}_T$T" "$PY" -m src.analyze superres "$dir/best.pt" \
                    "$OUT/${model}_L32_test.h5" --steps 1 --block --seed 1 --temperatures "$T" \
                    --out "$OUT/onestep_generated_T/${model}_${side}_T$T" --overwrite --quiet
            fi
        done
        run "onestep_${model}_T$T" "$PY" -m src.analyze onestep "$OUT/${model}_L32_test.h5" \
            --generated "spin_T$T=$OUT/onestep_generated_T/${model}_spin_T$T" \
            --generated "graph_T$T=$OUT/onestep_generated_T/${model}_graph_T$T" --out "$OUT/onestep_T/${model}_T$T"
    done
    for L in 32 $sizes; do files+=("$OUT/${model}_L$L.h5"); done
    run "flow_per_T_$model" "$PY" -m src.analyze flow "${files[@]}" "${sides[@]}" --out "$OUT/flow_T/$model"
}

stage_pertemp() {
    pertemp ising "$ISING_STEPS" "$ISING_N" "$ISING_REF_L" "$ISING_PER_T"
    pertemp potts3 "$POTTS_STEPS" "$POTTS_N" "$POTTS_REF_L" "$POTTS_PER_T"
}

# onestep MODEL CONFIG: the test run $OUT/MODEL_L32_test.h5, both sides one step from its blocks, the analysis
onestep() {
    local model=$1 config=$2 side sides=()
    local test="$OUT/${model}_L32_test.h5"
    if [ ! -f "$test" ]; then
        run "sample_${model}_L32_test" "$PY" -m src.sample "configs/study/$config.yaml" --quiet --set seed=1032 \
            --set "sweeps.measure=$ONESTEP_MEASURE" --set snapshots.every=40 \
            --set "snapshots.representations=[spin, fk_bonds]" --output "$test"
    fi
    for side in spin graph; do
        if [ ! -f "$OUT/onestep_generated/${model}_$side/L32.h5" ]; then
            run "onestep_generate_${model}_$side" "$PY" -m src.analyze superres "$OUT/train/${model}_$side/best.pt" \
                "$test" --steps 1 --block --seed 1 --out "$OUT/onestep_generated/${model}_$side" --overwrite --quiet
        fi
        sides+=(--generated "$side=$OUT/onestep_generated/${model}_$side")
    done
    run "onestep_$model" "$PY" -m src.analyze onestep "$test" "${sides[@]}" --out "$OUT/onestep/$model"
}

stage_onestep() {
    onestep ising rg_ising_sample
    onestep potts3 rg_potts3_sample
}

# exponents MODEL CONFIG T_C: Monte Carlo at T_c of L = 16 and EXP_SIZES, both networks 16 -> 256, the fit
exponents() {
    local model=$1 config=$2 tc=$3 L side files=() sides=() steps=0 measure
    for L in 16 $EXP_SIZES; do
        files+=("$OUT/${model}_tc_L$L.h5")
        [ -f "${files[-1]}" ] && continue
        measure=2000
        [ "$L" = 16 ] && measure=4000
        run "sample_${model}_tc_L$L" "$PY" -m src.sample "configs/study/$config.yaml" --quiet --set "model.L=$L" \
            --set "seed=$((2000 + L))" --set "temperatures=[$tc]" --set "sweeps.measure=$measure" \
            --set snapshots.every=10 --set "snapshots.representations=[spin, fk_bonds]" --output "${files[-1]}"
    done
    for L in $EXP_SIZES; do steps=$((steps + 1)); done
    for side in spin graph; do
        if [ ! -f "$OUT/exponents_generated/${model}_$side/L$((16 << steps)).h5" ]; then
            run "exponents_generate_${model}_$side" "$PY" -m src.analyze superres "$OUT/train/${model}_$side/best.pt" \
                "${files[0]}" --steps "$steps" --seed 1 --out "$OUT/exponents_generated/${model}_$side" --overwrite --quiet
        fi
        sides+=(--generated "$side=$OUT/exponents_generated/${model}_$side")
    done
    run "exponents_$model" "$PY" -m src.analyze exponents "${files[@]:1}" "${sides[@]}" --out "$OUT/exponents/$model"
}

stage_exponents() {
    exponents ising rg_ising_sample 2.269185
    exponents potts3 rg_potts3_sample 0.994973
}

stage_bench() {
    run bench_superres "$PY" -m bench.superres --markdown "$OUT/bench_superres.md"
}

# $OUT/table.md from the flow folders (errors.csv, comparison.csv), the training metrics and times.tsv:
#  1. the nearest-neighbour correlation g(1) = <(q delta - 1)/(q - 1)> = <delta(C_i, C_j)>, measured
#     on both sides with the lowest noise: from e of the spins on the spin side (Ising g = -e/2,
#     q-state Potts g = (q (-e/2) - 1)/(q - 1), J = 1), improved r=1 of the bonds on the graph side;
#     generated - Monte Carlo below and above T_c, its T', and the contraction of the flow
#     kappa = (T' - T_c)/(T - T_c) (least squares through the origin) beside the ideal inverse RG
#     2^(-k/nu) after k steps (nu = 1 Ising, 5/6 3-state Potts)
#  2. the error table of analyze flow (every observable), with the fixed points against T_c
#  3. training, 4. wall times
stage_table() {
    run table "$PY" - "$OUT" <<'EOF'
import csv
import math
import sys
from collections import defaultdict
from pathlib import Path

from src.stats.derived import format_value_error

out = Path(sys.argv[1])
TC = {"ising": 2.269185, "potts3": 0.994973}
Q = {"ising": 2, "potts3": 3}
NU = {"ising": 1.0, "potts3": 5 / 6}
L_START = 16
LABEL = {
    "energy": "e", "m_abs": "\\|m\\|", "m2": "m²", "susceptibility_connected": "χ'",
    "improved_nn": "improved r=1", "improved_half": "improved r=L/2",
}
lines = []


def num(x):
    return float(x) if x not in ("", None) else math.nan


def ve(v, e):
    return "-" if math.isnan(v) else (format_value_error(v, e) if e > 0 and not math.isnan(e) else f"{v:.4g}")


def g1(model, row, key):
    """g(1) of generated or Monte Carlo (key) and its error from a comparison row of e or improved r=1."""
    v, e = num(row[key]), num(row[key + "_error"])
    if row["observable"] == "improved_nn":
        return v, e
    q = Q[model]  # e = -2 <delta> (Potts), -2 <s s'> (Ising), per site with two bonds
    scale = 0.5 if q == 2 else q / (2 * (q - 1))
    return (-v / 2 if q == 2 else (q * (-v / 2) - 1) / (q - 1)), scale * e


for model in ("ising", "potts3"):
    folder = out / "flow" / model
    if not (folder / "errors.csv").exists():
        continue
    rows = list(csv.DictReader(open(folder / "comparison.csv")))
    nn = [r for r in rows if (r["side"], r["observable"]) in (("spin", "energy"), ("graph", "improved_nn"))]
    Tc = TC[model]
    lines += ["", f"## {model}: nearest-neighbour correlation g(1), generated − Monte Carlo", ""]
    lines += [
        "g(1) = ⟨(qδ − 1)/(q − 1)⟩ = ⟨δ(C_i, C_j)⟩: from e on the spin side, from improved r=1 on the",
        "graph side; mean |Δg| and mean z² over the generation temperatures below and above"
        f" T_c = {Tc};",
        "T' − T from the same quantity; κ = (T' − T_c)/(T − T_c) (least squares through",
        f"the origin), ideal κ = 2^(−k/ν) after k steps from L = {L_START} (ν = {NU[model]:.4g}).",
        "",
        "| L | side | mean \\|Δg\\| T < T_c | mean \\|Δg\\| T > T_c | mean z² T < T_c | mean z² T > T_c "
        "| mean \\|T' − T\\| T < T_c | mean \\|T' − T\\| T > T_c | κ T < T_c | κ T > T_c | ideal κ |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups = defaultdict(list)
    for r in nn:
        if num(r["z"]) == num(r["z"]):  # inside the Monte Carlo range
            groups[int(r["L"]), r["side"]].append(r)
    for (L, side), rs in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] != "spin")):
        cells = []
        for stat in ("dg", "z2", "dT"):
            for below in (True, False):
                sel = [r for r in rs if (float(r["T"]) < Tc) == below]
                if stat == "dg":
                    vals = [abs(g1(model, r, "generated")[0] - g1(model, r, "mc")[0]) for r in sel]
                elif stat == "z2":
                    vals = [num(r["z"]) ** 2 for r in sel]
                else:
                    vals = [abs(num(r["T_prime"]) - float(r["T"])) for r in sel if not math.isnan(num(r["T_prime"]))]
                    outside = len(sel) - len(vals)
                mean = sum(vals) / len(vals) if vals else math.nan
                cell = f"{mean:.4f}" if stat != "z2" else f"{mean:.3g}"
                if stat == "dT" and outside:
                    cell += f" ({outside} T' outside)"
                cells.append(cell)
        for below in (True, False):  # kappa: slope of T' - T_c against T - T_c through the origin
            xy = [(float(r["T"]) - Tc, num(r["T_prime"]) - Tc) for r in rs if (float(r["T"]) < Tc) == below]
            xy = [(x, y) for x, y in xy if not math.isnan(y)]
            sxx = sum(x * x for x, _ in xy)
            cells.append(f"{sum(x * y for x, y in xy) / sxx:.3f}" if sxx else "-")
        steps = (L // L_START).bit_length() - 1
        cells.append(f"{2 ** (-steps / NU[model]):.3f}")
        lines.append(f"| {L} | {side} | " + " | ".join(cells) + " |")
    lines += ["", "Per temperature (g(1) generated vs Monte Carlo, T' of g(1)):", ""]
    sizes = sorted({int(r["L"]) for r in nn})
    for L in sizes:
        lines += [f"L = {L}:", "", "| T | g(1) MC | spin: g(1) (z) | spin: T' | graph: g(1) (z) | graph: T' |",
                  "|---|---|---|---|---|---|"]
        temps = sorted({float(r["T"]) for r in nn if int(r["L"]) == L})
        for T in temps:
            by = {r["side"]: r for r in nn if int(r["L"]) == L and float(r["T"]) == T}
            ref = by.get("graph") or by.get("spin")
            cells = [f"{T:g}", ve(*g1(model, ref, "mc"))]
            for side in ("spin", "graph"):
                r = by.get(side)
                if r is None:
                    cells += ["-", "-"]
                    continue
                z = num(r["z"]) * (-1 if r["observable"] == "energy" else 1)  # g(1) falls as e rises
                cells.append(ve(*g1(model, r, "generated")) + ("" if math.isnan(z) else f" ({z:+.1f}σ)"))
                tp = num(r["T_prime"])
                cells.append(ve(tp, num(r["T_prime_error"])) if not math.isnan(tp) else (r["note"] or "-"))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")

    monotonic = [n for n in LABEL if n != "susceptibility_connected" and any(r["observable"] == n for r in rows)]
    lines += [f"## {model}: contraction of the flow per observable", "",
              "κ = (T' − T_c)/(T − T_c), least squares through the origin over the generation temperatures"
              " below | above T_c", f"(T' outside the Monte Carlo range left out); ideal inverse RG 2^(−k/ν).", "",
              "| L | side | " + " | ".join(LABEL[n] for n in monotonic) + " | ideal |",
              "|---|---|" + "---|" * len(monotonic) + "---|"]
    for L in sorted({int(r["L"]) for r in rows}):
        for side in ("spin", "graph"):
            cells = []
            for n in monotonic:
                sel = [r for r in rows if r["side"] == side and int(r["L"]) == L and r["observable"] == n]
                halves = []
                for below in (True, False):
                    xy = [(float(r["T"]) - Tc, num(r["T_prime"]) - Tc) for r in sel if (float(r["T"]) < Tc) == below]
                    xy = [(x, y) for x, y in xy if not math.isnan(y)]
                    sxx = sum(x * x for x, _ in xy)
                    halves.append(f"{sum(x * y for x, y in xy) / sxx:.2f}" if sxx else "-")
                cells.append(" \\| ".join(halves) if sel else "-")
            ideal = 2 ** (-((L // L_START).bit_length() - 1) / NU[model])
            lines.append(f"| {L} | {side} | " + " | ".join(cells) + f" | {ideal:.3f} |")
    lines.append("")
    lines += [f"## {model}: error table of analyze flow (every observable) and fixed points", ""]
    lines += [
        "| L | side | observable | n_T | mean \\|rel. error\\| | mean z² | max \\|z\\| | T* | (T* − T_c)/σ |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    errors = list(csv.DictReader(open(folder / "errors.csv")))
    errors.sort(key=lambda r: (int(r["L"]), r["side"] != "spin"))
    for r in errors:
        tf, tfe = num(r["T_fixed"]), num(r["T_fixed_error"])
        dev = f"{(tf - Tc) / tfe:+.1f}" if tfe > 0 else "-"
        rel = num(r["mean_abs_relative"])
        lines.append(
            f"| {r['L']} | {r['side']} | {LABEL.get(r['observable'], r['observable'])} | {r['n_T']} | "
            f"{100 * rel:.3g} % | {num(r['mean_z2']):.3g} | {num(r['max_abs_z']):.3g} | "
            f"{ve(tf, tfe) if not math.isnan(tf) else 'none'} | {dev} |"
        )
    lines.append(f"\nT_c = {Tc}; figures: {folder}/observables_{model}.png, {folder}/flow_{model}.png")

    control = out / "flow_T" / model / "comparison.csv"
    if control.exists():  # one network per temperature against the one network of every temperature
        per_t = [r for r in csv.DictReader(open(control))]
        all_t = {(r["side"], r["L"], r["T"], r["observable"]): r for r in rows}
        names = [n for n in LABEL if any(r["observable"] == n for r in per_t)]
        lines += ["", f"## {model}: one network per temperature (control) against the network of all temperatures",
                  "", "Generated − Monte Carlo at T, relative (z); T' from g(1) (e on the spin side, improved r=1 on"
                  " the graph side).", "",
                  "| T | L | network | " + " | ".join(LABEL[n] for n in names) + " | T' of g(1) |",
                  "|---|---|---|" + "---|" * len(names) + "---|"]
        keys = sorted({(float(r["T"]), int(r["L"]), r["side"]) for r in per_t})
        for T, L, label in sorted(keys, key=lambda k: (k[0], k[1], not k[2].startswith("spin"))):
            side = label.split("_T")[0]
            for name, source in ((f"{side}, T = {T:g} only", "per_t"), (f"{side}, all T", "all_t")):
                cells, tprime = [], "-"
                for n in names:
                    if source == "per_t":
                        r = next((r for r in per_t if r["side"] == label and int(r["L"]) == L
                                  and float(r["T"]) == T and r["observable"] == n), None)
                    else:
                        r = next((v for k, v in all_t.items() if k[0] == side and int(k[1]) == L
                                  and float(k[2]) == T and k[3] == n), None)
                    if r is None or math.isnan(num(r["z"])):
                        cells.append("-")
                        continue
                    cells.append(f"{100 * num(r['relative']):+.3g} % ({num(r['z']):+.1f})")
                    if (side, n) in (("spin", "energy"), ("graph", "improved_nn")):
                        tp = num(r["T_prime"])
                        tprime = ve(tp, num(r["T_prime_error"])) if not math.isnan(tp) else (r["note"] or "-")
                lines.append(f"| {T:g} | {L} | {name} | " + " | ".join(cells) + f" | {tprime} |")
        lines.append(f"\nfigures: {out}/flow_T/{model}/")

lines += ["", "## Training (best.pt: the epoch of lowest validation loss)", "",
          "| network | epochs | best epoch | val. loss | val. accuracy | train seconds |", "|---|---|---|---|---|---|"]
for path in sorted((out / "train").glob("*/metrics.csv")) + sorted((out / "train_T").glob("*/metrics.csv")):
    rs = list(csv.DictReader(open(path)))
    best = min(rs, key=lambda r: float(r["val_loss"]))
    seconds = sum(float(r["seconds"]) for r in rs)
    lines.append(f"| {path.parent.name} | {len(rs)} | {best['epoch']} | {float(best['val_loss']):.4f} | "
                 f"{float(best['val_accuracy']):.4f} | {seconds:.0f} |")

times = out / "times.tsv"
if times.exists():
    last = {}
    for row in csv.DictReader(open(times), delimiter="\t"):
        last[row["step"]] = row["seconds"]
    last.pop("table", None)
    lines += ["", "## Wall time of the steps (s)", "", "| step | seconds |", "|---|---|"]
    lines += [f"| {step} | {seconds} |" for step, seconds in last.items()]
    lines.append(f"| total | {sum(float(s) for s in last.values()):.0f} |")

text = "\n".join(lines).lstrip() + "\n"
(out / "table.md").write_text(text)
print(text)
EOF
}

stages=${*:-sample train generate flow onestep exponents pertemp table}
for stage in $stages; do
    case $stage in
    sample | train | generate | flow | onestep | exponents | pertemp | table | bench) "stage_$stage" ;;
    *)
        echo "unknown stage '$stage' (sample, train, generate, flow, onestep, exponents, pertemp, table, bench)" >&2
        exit 2
        ;;
    esac
done
