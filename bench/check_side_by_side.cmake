# bench_side_by_side: runs `crossover-bench --compare` in its quickest form against the
# built crossover twice (with validation as installed, and with --no-validate) and a stand-in
# for the original that records its flags and writes nothing (record_flags.sh), then checks
# the tables: a column per binary, the ratio columns, numbers for both crossover runs,
# "failed" for the stand-in, the validation state of each, that the stand-in was given only
# flags the original has, the library floor's rows, the --smaps tables and the two CSV files
# (--csv, --updates-csv). It never checks how fast.
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
set(csv "${WORK_DIR}/side_by_side.csv")
set(updates_csv "${WORK_DIR}/side_by_side_updates.csv")
file(REMOVE "${flags_log}" "${csv}" "${updates_csv}")
set(ENV{CROSSOVER_BENCH_FLAGS_LOG} "${flags_log}")
execute_process(
  COMMAND "${BENCH}" --quick --sizes 1 --updates 3 --idle 0.3 --onetime-runs 1 --timeout 30
          --compare "${CROSSOVER}" --compare "${CROSSOVER} --no-validate" --compare "${FAIL_BIN}"
          --smaps --csv "${csv}" --updates-csv "${updates_csv}"
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

# The library floor next to each crossover run, what is left to crossover, and the legend
# saying the floor is a lower bound; none for C (not crossover).
expect("\nlibrary floor MiB +${num} +${num} +- +${num} +-\n" "library floor row" 2)
expect("\nlibrary floor: file pages MiB +${num} +${num} +- +${num} +-\n" "floor's file pages" 2)
expect("\ncrossover's own \\(RSS - floor\\) MiB +${num} +${num} +- +${num} +-\n"
       "crossover's own row" 2)
expect("The floor is a LOWER BOUND" "the floor called a lower bound" 1)
# --smaps: crossover's and its floor's steady RSS by mapping, for A and B.
expect("\n== memory by mapping, MiB: [^\n]*\n[^\n]*\nmapping +A +A floor +B +B floor\n"
       "memory-by-mapping table" 2)
foreach(row "libcrypto \\(file\\)" "libstdc\\+\\+ \\(file\\)" "the program and its plugins \\(file\\)"
            "heap \\(anonymous\\)" "total \\(VmRSS\\)")
  expect("\n${row} +${num} +${num} +${num} +${num}\n" "memory-by-mapping row ${row}" 2)
endforeach()

# --csv: a number for each of A's and B's floor rows, and RSS - floor = crossover's own
# (figures in hundredths of a MiB). The bench prints four significant figures, so a figure of
# 100 MiB or more (a sanitizer's build) has one decimal and the difference is checked to 0.1.
function(hundredths text out)
  set(value "")
  if(text MATCHES "^(-?)([0-9]+)(\\.([0-9]+))?$")
    set(negative "${CMAKE_MATCH_1}")
    string(SUBSTRING "${CMAKE_MATCH_4}00" 0 2 decimals)
    math(EXPR value "${CMAKE_MATCH_2} * 100 + 1${decimals} - 100")
    if(negative)
      math(EXPR value "-${value}")
    endif()
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()
file(STRINGS "${csv}" csv_lines)
set(floors 0)
foreach(line IN LISTS csv_lines)
  if(line MATCHES "^(\"[^\"]+\",1,[01]),\"library floor MiB\",([AB]),[^,]+,([0-9.]+)$")
    math(EXPR floors "${floors} + 1")
    set(prefix "${CMAKE_MATCH_1},")
    set(bin "${CMAKE_MATCH_2}")
    set(key "${prefix}${bin}")
    hundredths("${CMAKE_MATCH_3}" floor)
    set(rss "")
    set(own "")
    foreach(other IN LISTS csv_lines)
      string(FIND "${other}" "${prefix}" at)
      if(NOT at EQUAL 0)
        continue()
      endif()
      if(other MATCHES ",\"RSS steady MiB\",${bin},[^,]+,([0-9.]+)$")
        hundredths("${CMAKE_MATCH_1}" rss)
      elseif(other MATCHES ",\"crossover's own \\(RSS - floor\\) MiB\",${bin},[^,]+,(-?[0-9.]+)$")
        hundredths("${CMAKE_MATCH_1}" own)
      endif()
    endforeach()
    if(rss STREQUAL "" OR own STREQUAL "" OR floor STREQUAL "" OR floor LESS 100)
      message(FATAL_ERROR "--csv: ${key}: steady RSS '${rss}', floor '${floor}', own '${own}' "
                          "(hundredths of a MiB): missing, or a floor under 1 MiB")
    endif()
    set(tolerance 1)
    if(rss GREATER_EQUAL 10000 OR own GREATER_EQUAL 10000)
      set(tolerance 10)
    endif()
    math(EXPR diff "${rss} - ${floor} - ${own}")
    if(diff GREATER tolerance OR diff LESS -${tolerance})
      message(FATAL_ERROR "--csv: ${key}: RSS ${rss} - floor ${floor} is not own ${own}")
    endif()
  endif()
endforeach()
if(NOT floors EQUAL 4)
  message(FATAL_ERROR "--csv: expected 4 library floor lines (A, B x 2 cases), found ${floors}")
endif()
if(NOT csv_lines MATCHES "\"smaps: libcrypto \\(file\\) MiB\",B floor,")
  message(FATAL_ERROR "--csv: no memory-by-mapping lines")
endif()

# --updates-csv: one line per update of A and B (C never started), 3 updates x 2 cases each,
# every field well formed; crossover logs its own part, so some lines carry it.
file(STRINGS "${updates_csv}" update_lines)
list(POP_FRONT update_lines header)
if(NOT header STREQUAL "case,vhosts,splits,binary,update,e2e_ms,own_ms,rss_after_mib")
  message(FATAL_ERROR "--updates-csv: header '${header}'")
endif()
set(keys "")
set(with_own 0)
foreach(line IN LISTS update_lines)
  if(NOT line MATCHES "^\"[^\"]+\",1,([01]),([AB]),([1-3]),${num},(${num})?,${num}$")
    message(FATAL_ERROR "--updates-csv: malformed line: ${line}")
  endif()
  list(APPEND keys "${CMAKE_MATCH_1}-${CMAKE_MATCH_2}-${CMAKE_MATCH_3}")
  if(CMAKE_MATCH_4)
    math(EXPR with_own "${with_own} + 1")
  endif()
endforeach()
list(SORT keys)
set(expected 0-A-1 0-A-2 0-A-3 0-B-1 0-B-2 0-B-3 1-A-1 1-A-2 1-A-3 1-B-1 1-B-2 1-B-3)
if(NOT keys STREQUAL expected OR with_own EQUAL 0)
  message(FATAL_ERROR "--updates-csv: updates ${keys}, expected ${expected}; ${with_own} with "
                      "crossover's own part")
endif()

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
