#!/bin/sh
# Checks the top-level Dockerfile without a Docker engine: its shape, that every apt package it
# names exists, and a replay of its build stage in a clean directory (see dockerfile_test.py).
#   CROSSOVER_DOCKERFILE_FULL=1  build every target and run the install step as written
#   CROSSOVER_KEEP_TMP=1         keep the temporary directory for inspection
# Exit status 77 means the check could not run here (CTest reports it as skipped).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${CROSSOVER_SOURCE_DIR:=$(cd "$here/../.." && pwd)}"
export CROSSOVER_SOURCE_DIR
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not available"; exit 77; }
exec python3 "$here/dockerfile_test.py"
