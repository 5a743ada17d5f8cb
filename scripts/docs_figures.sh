#!/usr/bin/env bash
# Regenerate docs/figures/ (random weights: the figures then do not depend on a download).
#   bash scripts/docs_figures.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python}
OUT=docs/figures
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PY" -m swinviz figures assets/cat.jpg --out "$TMP/stage1" --weights random --format png
"$PY" -m swinviz figures assets/cat.jpg --out "$TMP/seed" --preset 6x6 --format png \
    --kinds regions
"$PY" -m swinviz figures assets/cat.jpg --out "$TMP/stage3" --weights random --stage 3 --pair 2 \
    --format png --kinds attention,flow
"$PY" -m swinviz lecture assets/cat.jpg --out "$TMP/deck" --weights random
mkdir -p "$OUT"
cp "$TMP"/stage1/*.png "$OUT"/
cp "$TMP/seed/regions.png" "$OUT/seed-regions.png"
cp "$TMP/stage3/attention.png" "$OUT/stage3-pair2-attention.png"
cp "$TMP/stage3/flow.png" "$OUT/stage3-pair2-flow.png"
cp "$TMP/deck/cyclic-shift.gif" "$OUT/cyclic-shift.gif"
ls -l "$OUT"
