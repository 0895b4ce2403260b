# bench_side_by_side: runs `crossover-bench --compare` in its quickest form against the
# built crossover twice (with validation as installed, and with --no-validate) and a stand-in
# for the original that records its flags and writes nothing (record_flags.sh), then checks
# the tables: a column per binary, the ratio columns, numbers for both crossover runs,
# "failed" for the stand-in, the validation state of each, and that the stand-in was given
# only flags the original has. It never checks how fast.
#
#   cmake -DBENCH=crossover-bench -DCROSSOVER=crossover -DFAIL_BIN=record_flags.sh \
#         -DWORK_DIR=DIR -P check_side_by_side.cmake
cmake_minimum_required(VERSION 3.16)

foreach(var BENCH CROSSOVER FAIL_BIN WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "give -D${var}=...")
  endif()
endforeach()

set(flags_log "${WORK_DIR}/side_by_side_flags.log")
file(REMOVE "${flags_log}")
set(ENV{CROSSOVER_BENCH_FLAGS_LOG} "${flags_log}")
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
expect("\nRSS peak, updates MiB +${num} +${num} +failed +${num} +-\n" "row of the peak RSS during the updates" 2)
expect("\nwall p50, 1 vhost +${num} +${num} +failed +${num} +-\n" "--onetime row" 1)
expect("\n   C failed: " "reason C failed" 3)
# The legend says whether crossover validated: B was given --no-validate.
expect("\n  A: [^\n]*\n[^\n]*validation: (on|off)" "validation state of A" 1)
expect("\n  B: [^\n]*--no-validate\n[^\n]*validation: off\n" "B's validation off" 1)
expect("\n  C: [^\n]*\n +not crossover" "C not recognised as crossover" 1)

# The stand-in for the original got only the original's flags (and --version, which tells
# crossover from it): no --listen, no kubeconfig, nothing crossover added.
file(STRINGS "${flags_log}" starts)
list(LENGTH starts n)
if(n LESS 4)
  message(FATAL_ERROR "the stand-in was started ${n} times, expected --version, two watching "
                      "cases and --onetime")
endif()
set(original_flags --apiserver --token-file --insecure --namespace --output-dir --configmap
                   --trafficsplit --watch --onetime --version)
set(seen_trafficsplit OFF)
set(seen_onetime OFF)
foreach(line IN LISTS starts)
  separate_arguments(words UNIX_COMMAND "${line}")
  foreach(word IN LISTS words)
    if(word MATCHES "^-")
      if(NOT word IN_LIST original_flags)
        message(FATAL_ERROR "the stand-in for the original was given ${word}: ${line}")
      endif()
    endif()
  endforeach()
  if(line MATCHES "--trafficsplit vh-0")
    set(seen_trafficsplit ON)
  endif()
  if(line MATCHES "--onetime")
    set(seen_onetime ON)
  endif()
endforeach()
if(NOT seen_trafficsplit OR NOT seen_onetime)
  message(FATAL_ERROR "the stand-in never ran a canary case (--trafficsplit) or --onetime")
endif()
