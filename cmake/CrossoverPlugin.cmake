# crossover_add_plugin(<target> SOURCES <files...> [LIBRARIES <libs...>] [VERSION <x.y.z>])
#
# Builds one plugin as a MODULE named <target>.so into the plugin directory of
# the build tree (and installs it into lib/crossover/plugins). Only the entry
# point is exported: everything else has hidden visibility. VERSION (default:
# the enclosing project's version) is what `crossover plugins` shows.
function(crossover_add_plugin target)
  cmake_parse_arguments(ARG "" "VERSION" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  if(NOT ARG_VERSION)
    set(ARG_VERSION "${PROJECT_VERSION}")
  endif()
  if(ARG_VERSION)
    target_compile_definitions(${target} PRIVATE "CROSSOVER_PLUGIN_VERSION=\"${ARG_VERSION}\"")
  endif()
  target_link_libraries(${target} PRIVATE crossover::sdk ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${CROSSOVER_PLUGIN_OUTPUT_DIR}")
  # crossover loads plugins with RTLD_LAZY (the libraries they use bind on demand); -z now
  # makes the plugin's own symbols bind at load, so one that is missing fails the load.
  target_link_options(${target} PRIVATE "LINKER:--no-undefined" "LINKER:-z,now")
  install(TARGETS ${target} LIBRARY DESTINATION "${CROSSOVER_PLUGIN_SUBDIR}" COMPONENT runtime)
  set_property(GLOBAL APPEND PROPERTY CROSSOVER_PLUGIN_TARGETS ${target})
endfunction()

# crossover_add_test(<name> SOURCES <files...> [LIBRARIES <libs...>] [LABELS <labels...>])
# A Boost.Test executable registered with CTest. Tests find the build tree's
# binary and plugins through the environment CTest gives them.
function(crossover_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBRARIES;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE crossover::sdk Boost::unit_test_framework Threads::Threads
                        ${ARG_LIBRARIES})
  target_compile_definitions(${name} PRIVATE BOOST_TEST_DYN_LINK)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${ARG_TIMEOUT}
    LABELS "${ARG_LABELS}"
    ENVIRONMENT "CROSSOVER_BIN=${CMAKE_BINARY_DIR}/bin/crossover;CROSSOVER_PLUGIN_DIR=${CROSSOVER_PLUGIN_OUTPUT_DIR};CROSSOVER_SOURCE_DIR=${PROJECT_SOURCE_DIR};CROSSOVER_FIXTURES=${PROJECT_SOURCE_DIR}/tests/fixtures;CROSSOVER_BUILD_DIR=${CMAKE_BINARY_DIR}")
  if(TARGET crossover)
    add_dependencies(${name} crossover)
  endif()
endfunction()
