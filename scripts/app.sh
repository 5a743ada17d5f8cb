#!/usr/bin/env bash
# Set up (once) and run the app: python app.py on http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
pip install -q --disable-pip-version-check -c constraints.txt -r requirements.txt -e .
exec python app.py "$@"
