#!/usr/bin/env bash
# Idempotent install of a single-node Slurm (slurm-wlm) and its authentication daemon (munge) on
# Debian, for the Slurm tests (tests/test_slurm.py) in CI and on a developer's machine. Installs
# only the packages that are missing and nothing else: the tests generate their own slurm.conf and
# start and stop the daemons themselves, so no service is configured or enabled here.
set -euo pipefail

need_pkgs=()
for p in slurm-wlm munge; do
  # dpkg-query rather than `command -v`: a half-removed package can leave binaries behind
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -eq 0 ]; then
  echo "setup-slurm: slurm-wlm and munge already installed"
  exit 0
fi

# apt needs root; a developer's machine has sudo, CI runs as root
SUDO=()
[ "$(id -u)" -ne 0 ] && SUDO=(sudo)
echo "setup-slurm: installing Debian packages: ${need_pkgs[*]}"
"${SUDO[@]}" apt-get update -qq
# noninteractive: the packages' postinst must not prompt in CI; no recommends keeps it small
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
echo "setup-slurm: done ($(slurmctld -V 2>/dev/null || echo 'slurmctld not found'))"
