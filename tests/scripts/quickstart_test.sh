#!/usr/bin/env bash
# The README's quick start: the example pipeline writes Envoy files with the
# TrafficSplit's weights, swapped in behind `current`; a second run changes nothing.
set -euo pipefail
bin=$1; src=$2
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
export CROSSOVER_OUT=$out/runtime
"$bin" run "$src/examples/quickstart/pipeline.yaml" --onetime
test -L "$out/runtime/current" || { echo "current is not a symlink"; exit 1; }
for f in lds.yaml rds.yaml cds.yaml; do
  test -s "$out/runtime/current/$f" || { echo "missing $f"; exit 1; }
done
grep -A1 -- '- name: podinfo-primary' "$out/runtime/current/rds.yaml" | grep -q 'weight: 90' \
  || { echo "primary weight is not 90"; cat "$out/runtime/current/rds.yaml"; exit 1; }
grep -A1 -- '- name: podinfo-canary' "$out/runtime/current/rds.yaml" | grep -q 'weight: 10' \
  || { echo "canary weight is not 10"; exit 1; }
before=$(readlink "$out/runtime/current")
"$bin" run "$src/examples/quickstart/pipeline.yaml" --onetime
after=$(readlink "$out/runtime/current")
[ "$before" = "$after" ] || { echo "identical input produced a new version: $before -> $after"; exit 1; }
# The example validates.
"$bin" validate "$src/examples/quickstart/pipeline.yaml"
echo "quick start ok"
