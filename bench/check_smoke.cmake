# bench_smoke: runs crossover-bench in its quickest form (--quick: 1 and 100 virtual hosts, 1
# and 10 TrafficSplits) so that it keeps working, and checks --updates-csv: one well-formed line
# per update of each kind (4 canary steps per case, 2 writes of every TrafficSplit where there
# are 10, 3 ConfigMap updates per case), some with crossover's own part. The bench itself fails
# when an update never reaches the output. It never checks how fast.
#
#   cmake -DBENCH=crossover-bench -DWORK_DIR=DIR -P check_smoke.cmake
cmake_minimum_required(VERSION 3.16)

foreach(var BENCH WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "give -D${var}=...")
  endif()
endforeach()

set(updates_csv "${WORK_DIR}/bench_smoke_updates.csv")
file(REMOVE "${updates_csv}")
execute_process(
  COMMAND "${BENCH}" --quick --updates 4 --bursts 2 --csv "${WORK_DIR}/bench_smoke.csv"
          --updates-csv "${updates_csv}"
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULT_VARIABLE rc
  TIMEOUT 280)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "crossover-bench --quick exited with ${rc}:\n${err}")
endif()

file(STRINGS "${updates_csv}" lines)
list(POP_FRONT lines header)
if(NOT header STREQUAL "case,vhosts,splits,binary,update,e2e_ms,own_ms,rss_after_mib")
  message(FATAL_ERROR "--updates-csv: header '${header}'")
endif()
set(num "[0-9]+\\.[0-9]+")
set(canary 0)
set(burst 0)
set(configmap 0)
set(with_own 0)
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^\"([^\"]+)\",(1|100),(1|10),crossover,[1-4],${num},(${num})?,${num}$")
    message(FATAL_ERROR "--updates-csv: malformed line: ${line}")
  endif()
  if(CMAKE_MATCH_4)
    math(EXPR with_own "${with_own} + 1")
  endif()
  if(CMAKE_MATCH_1 STREQUAL "canary steps")
    math(EXPR canary "${canary} + 1")
  elseif(CMAKE_MATCH_1 STREQUAL "every TrafficSplit in one write" AND CMAKE_MATCH_3 STREQUAL "10")
    math(EXPR burst "${burst} + 1")
  elseif(CMAKE_MATCH_1 STREQUAL "ConfigMap updates")
    math(EXPR configmap "${configmap} + 1")
  else()
    message(FATAL_ERROR "--updates-csv: unexpected case in ${line}")
  endif()
endforeach()
# Three cases: 1 x 1, 100 x 1, 100 x 10.
if(NOT canary EQUAL 12 OR NOT burst EQUAL 2 OR NOT configmap EQUAL 9 OR with_own EQUAL 0)
  message(FATAL_ERROR "--updates-csv: ${canary} canary steps (expected 12), ${burst} writes of "
                      "every TrafficSplit (2), ${configmap} ConfigMap updates (9), ${with_own} "
                      "with crossover's own part (some)")
endif()
