#!/usr/bin/env bash
# Set up (once) and run the reference suite: tests/reference/, swinviz against timm and
# pytorch-grad-cam in .venv-ref (requirements-ref.txt says why a second environment).
# The exit status is pytest's.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv-ref ] || python3 -m venv .venv-ref
. .venv-ref/bin/activate
pip install -q --disable-pip-version-check -r requirements-ref.txt
pip install -q --disable-pip-version-check --no-deps -e .
pip check
# the fused C kernel is built for .venv's torch; here the other paths are checked
export SWINVIZ_CACHE_DIR="${SWINVIZ_CACHE_DIR:-$PWD/.venv-ref/swinviz-cache}"
exec python -m pytest -q -rfEs -p no:cacheprovider tests/reference "$@"
