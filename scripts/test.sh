#!/usr/bin/env bash
# Set up (once) and run every test: unit, figures, CLI export, app API and the real-browser tests.
# Under CI=true a missing Chromium fails the browser and export tests instead of skipping them
# (tests/conftest.py, require_browser), so CI cannot pass without them.
# The last thing printed is pytest's own summary line, and the exit status is pytest's.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
pip install -q --disable-pip-version-check -c constraints.txt -r requirements-dev.txt -e .
# Static export (kaleido) and the browser tests use Debian's Chromium, Chinese text the Noto CJK
# fonts: packages.txt (what a Hugging Face Space installs too); install what is missing.
# Another apt/dpkg run (e.g. unattended-upgrades) may hold the dpkg lock: wait for it (10 min).
missing=()
for pkg in $(grep -v '^#' packages.txt); do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  log=/tmp/swinviz-apt-install.log
  apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
  (apt_get update -q && apt_get install -y -q "${missing[@]}") >"$log" 2>&1 \
    || echo "warning: could not install ${missing[*]} (see $log)" >&2
fi
if ! command -v chromium >/dev/null 2>&1; then
  if [ "${CI:-}" ] && [ "${CI,,}" = true ]; then
    echo "error: chromium is missing and CI=true: the browser and export tests will fail" >&2
  else
    echo "warning: chromium is missing: the browser and export tests will be skipped" >&2
  fi
fi
pip check
ruff check .
exec python -m pytest -q -rfEs "$@"
