#!/bin/sh
# Stands for the Go original in the bench_side_by_side test: records the command line it
# is given (one line per start) in $CROSSOVER_BENCH_FLAGS_LOG and writes no output, so the
# bench must report it as failed and may give it only the original's flags.
printf '%s\n' "$*" >>"${CROSSOVER_BENCH_FLAGS_LOG:?}"
exit 1
