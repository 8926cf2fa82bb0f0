# shellcheck shell=bash
# What the study scripts share (sourced after they set OUT): one thread per process, the logs
# folder, and run(), which keeps every step's output and wall time.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1
mkdir -p "$OUT/logs"
TIMES=$OUT/times.tsv
[ -f "$TIMES" ] || printf 'finished\tstep\tseconds\tcommand\n' >"$TIMES"

# run NAME COMMAND...: the command with its output in $OUT/logs/NAME.log (and on the terminal),
# its wall time appended to $TIMES
run() {
    local name=$1 start end
    shift
    echo "== $name: $*"
    start=$(date +%s.%N)
    "$@" 2>&1 | tee "$OUT/logs/$name.log"
    end=$(date +%s.%N)
    printf '%s\t%s\t%.1f\t%s\n' "$(date -Is)" "$name" "$(echo "$end - $start" | bc)" "$*" >>"$TIMES"
}
