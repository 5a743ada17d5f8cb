#!/usr/bin/env bash
# Set up (once) and run every test: unit, figures, CLI export, app API and the real-browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
pip install -q --disable-pip-version-check -r requirements-dev.txt -e .
# Static export (kaleido) and the browser tests use Debian's Chromium; install it when missing.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -q && apt-get install -y -q chromium) >/tmp/swinviz-chromium-install.log 2>&1 \
    || echo "warning: could not install chromium (see /tmp/swinviz-chromium-install.log)"
fi
pip check
ruff check .
python -m pytest -q -rs "$@"
