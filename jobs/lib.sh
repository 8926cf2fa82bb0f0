# shellcheck shell=bash
# What the Slurm job scripts (jobs/sample.slurm, jobs/train.slurm) share; each sources this file
# once it has found the checkout, after setting `script` to its own name (for messages).
#
# Sourcing sets ROOT (the checkout), PYTHON (the checkout's .venv unless PYTHON is set) and
# PYTHONPATH. Then:
#   run_forwarding CMD...   runs CMD and waits for it; when the job gets SIGUSR1 (Slurm's warning
#                           before the time limit), SIGTERM or SIGINT (cancellation), sends CMD
#                           SIGUSR1 ("checkpoint and stop"). Sets `status` (CMD's exit status),
#                           `signalled` (the last signal the job got, empty if none) and `cancelled`.
#   finish CHECKPOINTED     reports how the run ended and exits with `status`; when CHECKPOINTED is
#                           not empty (the run stopped after writing its checkpoint) and the job was
#                           not cancelled, requeues the job so that the next attempt continues it.
: "${script:?set script (the job script name, for messages) before sourcing jobs/lib.sh}"

log() { echo "$script: $(date '+%F %T') $*"; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PYTHON:-}" ] && [ -f "$ROOT/.venv/bin/activate" ]; then
  # the activate script reads unset variables
  set +u
  # shellcheck disable=SC1091
  source "$ROOT/.venv/bin/activate"
  set -u
fi
# an absolute path: ranks on other nodes must not depend on their PATH
python=${PYTHON:-python3}
PYTHON=$(command -v "$python") || {
  echo "$script: no $python found; run make setup or set PYTHON" >&2
  exit 2
}
# `python -m src.sample` or `src.train` from any working folder, also without an installed package
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

child="" signalled="" cancelled="" pending="" status=0

# shellcheck disable=SC2317  # called from the traps in run_forwarding, which shellcheck 0.9 does not follow
forward() {
  # shellcheck disable=SC2034  # signalled is for the job scripts
  signalled=$1 pending=$1
  # TERM/INT mean the job is being cancelled (scancel, the hard time limit): checkpoint, no requeue
  [ "$1" = USR1 ] || cancelled=$1
  log "got SIG$1: asking the run to checkpoint"
  [ -z "$child" ] || kill -s USR1 "$child" 2>/dev/null || true
}

run_forwarding() {
  log "job ${SLURM_JOB_ID:-none} attempt $((${SLURM_RESTART_COUNT:-0} + 1)) on" \
    "${SLURM_JOB_NODELIST:-$(hostname)}: $*"
  # traps first: untrapped, SIGUSR1 would end this shell without a word
  trap 'forward USR1' USR1
  trap 'forward TERM' TERM
  trap 'forward INT' INT
  # CMD runs in the background so that this shell can take signals while it runs: bash runs a trap
  # only between commands, and `wait` is interruptible where a foreground job is not.
  "$@" &
  child=$!
  # a signal that came while CMD was being started
  [ -z "$pending" ] || kill -s USR1 "$child" 2>/dev/null || true
  status=0
  wait "$child" || status=$?
  # A trapped signal cuts `wait` short with 128 + signum while the run is still writing its
  # checkpoint: wait again for the run's own exit status. A second `wait` that finds nothing left
  # (127) means the status already read was the run's.
  local again
  while [ "$status" -gt 128 ] && [ -n "$pending" ]; do
    pending=""
    again=0
    wait "$child" || again=$?
    [ "$again" -eq 127 ] && break
    status=$again
  done
}

finish() {
  if [ "$status" -eq 0 ]; then
    log "run complete"
  elif [ -n "$cancelled" ]; then
    # the launcher was sent SIGTERM too, so its status need not say that the run checkpointed
    log "stopped by SIG$cancelled (exit status $status); not requeued." \
      "Resubmit the same command to continue from the last checkpoint"
  elif [ -n "$1" ]; then
    if [ -z "${SLURM_JOB_ID:-}" ]; then
      log "checkpointed; run the same command again to continue"
    else
      log "checkpointed; requeueing job $SLURM_JOB_ID to continue"
      # Slurm ends this attempt (this shell included) as soon as the requeue is accepted; the next
      # attempt starts from the top of the job script, with --resume.
      scontrol requeue "$SLURM_JOB_ID" || log "requeue refused; resubmit the same command to continue"
    fi
  else
    log "run failed with exit status $status"
  fi
  exit "$status"
}
