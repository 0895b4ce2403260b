#!/usr/bin/env bash
# The README's quick start: the example pipeline writes Envoy files with the
# TrafficSplit's weights, checked against Envoy's API when its protos were
# fetched, swapped in behind `current`; a second run changes nothing. Without
# the protos it still writes the files, after one warning.
set -euo pipefail
bin=$1; src=$2
build=$(cd "$(dirname "$bin")/.." && pwd -P)
# Inside the build tree, so that the relocated copy below can use hard links.
out=$(mktemp -d "$build/quickstart-test.XXXXXX"); trap 'rm -rf "$out"' EXIT
export CROSSOVER_OUT=$out/runtime
"$bin" run "$src/examples/quickstart/pipeline.yaml" --onetime 2>"$out/log" || { cat "$out/log"; exit 1; }
cat "$out/log"
if [ -f "$build/share/crossover/envoy-protos/VERSION" ]; then
  grep -qF "checking xDS documents against Envoy's API from $build/share/crossover/envoy-protos" "$out/log" \
    || { echo "the quick start did not validate although the protos are in the build tree"; exit 1; }
else
  echo "Envoy protos absent from $build/share/crossover/envoy-protos: validation not exercised"
fi
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
# The README shows the version directories with `ls -la`: their names start with a dot, and
# a plain `ls -l` (what the tour used to say) lists only `current`.
case "$before" in .v-*) ;; *) echo "version directory '$before' does not start with a dot"; exit 1;; esac
ls -la "$out/runtime" | grep -qF "$before" || { echo "ls -la does not show $before"; exit 1; }
for cmd in "ls -la /tmp/crossover-quickstart /tmp/crossover-quickstart/current/" "ls -la /tmp/crossover-quickstart "; do
  grep -qF -- "$cmd" "$src/README.md" || { echo "README.md lacks '$cmd'"; exit 1; }
done
if grep -qE 'ls -l /tmp/crossover-quickstart( |$)' "$src/README.md"; then
  echo "README.md lists the output with ls -l, which hides the version directories"; exit 1
fi
# The example validates.
"$bin" validate "$src/examples/quickstart/pipeline.yaml"

# The same binary and plugins in a tree without Envoy's protos: one warning, files written.
mkdir -p "$out/bare/bin" "$out/bare/lib/crossover"
cp -l "$bin" "$out/bare/bin/" 2>/dev/null || cp "$bin" "$out/bare/bin/"
cp -rl "$build/lib/crossover/plugins" "$out/bare/lib/crossover/" 2>/dev/null ||
  cp -r "$build/lib/crossover/plugins" "$out/bare/lib/crossover/"
export CROSSOVER_OUT=$out/bare-runtime
"$out/bare/bin/crossover" run "$src/examples/quickstart/pipeline.yaml" --onetime 2>"$out/log" \
  || { cat "$out/log"; echo "the quick start failed without protos"; exit 1; }
cat "$out/log"
for f in lds.yaml rds.yaml cds.yaml; do
  test -s "$out/bare-runtime/current/$f" || { echo "missing $f without protos"; exit 1; }
done
warnings=$(grep -c "Envoy protos not found in '$out/bare/share/crossover/envoy-protos'" "$out/log" || true)
[ "$warnings" = 1 ] || { echo "expected one warning about the missing protos, got $warnings"; exit 1; }
echo "quick start ok"
