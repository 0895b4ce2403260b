#!/usr/bin/env bash
# `cmake --install` gives a relocatable tree whose bin/crossover finds its own
# plugins and runs the example from any working directory.
set -euo pipefail
build=$1; src=$2
prefix=$(mktemp -d); trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix/first" >/dev/null
# Relocatable: move the whole tree elsewhere after installing.
mv "$prefix/first" "$prefix/moved"
root=$prefix/moved
test -x "$root/bin/crossover"
ls "$root"/lib*/crossover/plugins/source_file.so "$root"/lib*/crossover/plugins/sink_symlink.so >/dev/null
test -f "$root/include/crossover/sdk.h"
test -f "$root/include/crossover_envoy/xds.h"
ls "$root"/lib*/cmake/crossover/crossoverConfig.cmake >/dev/null
cd /
export CROSSOVER_OUT=$prefix/out
"$root/bin/crossover" run "$src/examples/quickstart/pipeline.yaml" --onetime
test -s "$prefix/out/current/rds.yaml"
"$root/bin/crossover" plugins | grep -q "^sink symlink [0-9.]*  ($root/"
echo "install ok"
