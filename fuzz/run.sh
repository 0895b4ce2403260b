#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and
# runs each one for SECONDS seconds, one after the other, starting from the
# checked-in seeds and regression inputs. Fails on the first crash, leak,
# timeout or out-of-memory, leaving the reproducer in build-fuzz/artifacts/.
#
#   fuzz/run.sh 15                    # every target, 15 s each (the CI step)
#   fuzz/run.sh 600 template          # one target, ten minutes
#
# Environment: BUILD_DIR (default build-fuzz), JOBS (build parallelism, 2),
# FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
  echo "usage: fuzz/run.sh SECONDS [TARGET...]" >&2
  exit 2
fi
seconds=$1
shift
all=(pipeline_config watch_event json_reader kubeconfig quantity template smi_merge doc_tree manifest route_registry_route route_registry_journal endpointslice httproute envoy_resources envoy_validate_changes xds_request)
targets=("${@:-${all[@]}}")
build=${BUILD_DIR:-build-fuzz}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCROSSOVER_BUILD_FUZZERS=ON -DCROSSOVER_BUILD_TESTS=OFF -DCROSSOVER_WERROR=ON >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")

mkdir -p "$build/artifacts" "$build/corpus"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "${targets[@]}"; do
  echo "=== fuzz_$t: ${seconds}s"
  # New inputs go to a scratch corpus in the build dir; the seeds stay as checked in.
  mkdir -p "$build/corpus/$t"
  dirs=("$build/corpus/$t" "fuzz/seeds/$t")
  [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
  "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
    ${FUZZ_ARGS:-} "${dirs[@]}"
done
echo "=== all fuzz targets ran ${seconds}s without a finding"
