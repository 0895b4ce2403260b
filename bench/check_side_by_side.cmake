# bench_side_by_side: runs `crossover-bench --compare` in its quickest form against the
# built crossover twice (with validation as installed, and with --no-validate) and a binary
# that writes nothing (/bin/true), then checks the tables: a column per binary, the ratio
# columns, numbers for both crossover runs, "failed" for the one that writes nothing, and
# the validation state of each. It never checks how fast.
#
#   cmake -DBENCH=crossover-bench -DCROSSOVER=crossover -DFAIL_BIN=/bin/true -P check_side_by_side.cmake
foreach(var BENCH CROSSOVER FAIL_BIN)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "give -D${var}=...")
  endif()
endforeach()

execute_process(
  COMMAND "${BENCH}" --quick --sizes 1 --updates 3 --idle 0.3 --onetime-runs 1 --timeout 30
          --compare "${CROSSOVER}" --compare "${CROSSOVER} --no-validate" --compare "${FAIL_BIN}"
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULT_VARIABLE rc
  TIMEOUT 240)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "crossover-bench --compare exited with ${rc}:\n${err}")
endif()

function(expect regex what)
  string(REGEX MATCHALL "${regex}" found "${out}")
  list(LENGTH found n)
  if(n LESS ${ARGN})
    message(FATAL_ERROR "expected ${ARGN} x ${what} (/${regex}/), found ${n}")
  endif()
endfunction()

set(num "[0-9]+\\.[0-9]+")
# Three tables (ConfigMap updates, canary steps, --onetime), each with the binaries' columns
# and the ratios to the first.
expect("\nmetric +A +B +C +B/A +C/A\n" "table header with columns A, B, C, B/A, C/A" 3)
# Both crossover runs measured every update; the ratio column holds a number.
expect("\ne2e p50 +${num} +${num} +failed +${num} +-\n" "e2e p50 row: A, B, ratio; C failed" 2)
expect("\nRSS steady MiB +${num} +${num} +failed +${num} +-\n" "steady RSS row" 2)
expect("\nwall p50, 1 vhost +${num} +${num} +failed +${num} +-\n" "--onetime row" 1)
expect("\n   C failed: " "reason C failed" 3)
# The legend says whether crossover validated: B was given --no-validate.
expect("\n  A: [^\n]*\n[^\n]*validation: (on|off)" "validation state of A" 1)
expect("\n  B: [^\n]*--no-validate\n[^\n]*validation: off\n" "B's validation off" 1)
expect("\n  C: [^\n]*\n +not crossover" "C not recognised as crossover" 1)
