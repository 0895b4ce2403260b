#!/bin/sh
# Runs grpc_js_xds_test.js with gRPC's xDS client for Node installed from npm
# into WORK (once; later runs reuse it). Prints "SKIPPED: ..." and exits 0
# only when npm or its registry cannot be reached (or the build has no Envoy
# protos); any other failure fails.
#
# Usage: run.sh CROSSOVER_BINARY PROTO_PATH WORK
set -eu
here=$(cd "$(dirname "$0")" && pwd)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
bin=$(abs "$1")
protos=$(abs "$2")
work=$(abs "$3")

if [ ! -f "$protos/envoy-api.pb" ]; then
    echo "SKIPPED: Envoy protos absent (the build could not fetch them)"
    exit 0
fi
mkdir -p "$work"
if ! cmp -s "$here/package.json" "$work/package.json" || [ ! -d "$work/node_modules/@grpc/grpc-js-xds" ]; then
    if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
        echo "SKIPPED: npm or node not installed"
        exit 0
    fi
    cp "$here/package.json" "$work/package.json"
    if ! (cd "$work" && npm install --no-audit --no-fund --loglevel=error >npm-install.log 2>&1); then
        if ! timeout 30 npm ping >/dev/null 2>&1; then
            echo "SKIPPED: the npm registry is unreachable"
            exit 0
        fi
        echo "npm install failed:" >&2
        cat "$work/npm-install.log" >&2
        exit 1
    fi
fi
NODE_PATH="$work/node_modules" exec node "$here/grpc_js_xds_test.js" "$bin" "$protos"
