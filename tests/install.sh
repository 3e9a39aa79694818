#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian machine: the real peers from apt
# (PostgreSQL, and later OpenIPMI, Prometheus, Alertmanager), a virtual environment in .venv
# with dcops and its test extras. Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# openssh-server: a real sshd on loopback stands in for a BMC's SSH serial console (tests/helpers/sshd.py)
# xorriso, mtools: what dcops remasters hybrid installer ISOs with (docs/provision.md); isolinux: the
# isolinux.bin and isohdpfx.bin of the RHEL-like stand-in ISO (tests/helpers/installer_iso.py)
APT_PACKAGES=(postgresql prometheus prometheus-alertmanager openipmi ipmitool chromium chromium-driver openssh-client
              openssh-server xorriso mtools isolinux)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The tests start their own sshd on loopback; the system one the package enables (on every
  # interface, port 22) is not wanted when this script installed it.
  if [[ " ${missing[*]} " == *" openssh-server "* ]] && command -v systemctl >/dev/null \
      && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now ssh.service >/dev/null 2>&1 || true
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# Some machines list package mirrors that do not exist; pip warns once per package about them.
quiet() { "$@" 2>&1 | { grep -v "^WARNING: Location '" || true; }; }
quiet .venv/bin/python -m pip install -q --upgrade pip
quiet .venv/bin/python -m pip install -q -e '.[test]'
