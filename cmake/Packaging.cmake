# Debian package of crossover, built with CPack:
#
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build
#   (cd build && cpack -G DEB)          # -> build/crossover_<version>_amd64.deb
#
# The package holds everything `cmake --install` puts in the tree (binary, plugins, SDK headers,
# CMake package config) under /usr, plus the man page and the example pipeline. Its dependencies
# are computed by dpkg-shlibdeps (package dpkg-dev) from the libraries the binaries load.

# Man page: Debian installs man pages gzip-compressed.
set(crossover_man_src "${PROJECT_SOURCE_DIR}/packaging/crossover.1")
set(crossover_man_gz "${PROJECT_BINARY_DIR}/packaging/crossover.1.gz")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${crossover_man_src}")
file(MAKE_DIRECTORY "${PROJECT_BINARY_DIR}/packaging")
file(ARCHIVE_CREATE OUTPUT "${crossover_man_gz}" PATHS "${crossover_man_src}"
     FORMAT raw COMPRESSION GZip)
install(FILES "${crossover_man_gz}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT doc)

# Example pipeline and the README, under share/doc/crossover.
if(EXISTS "${PROJECT_SOURCE_DIR}/examples/quickstart")
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/examples/quickstart"
          DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples" COMPONENT doc)
endif()
foreach(doc README.md LICENSE)
  if(EXISTS "${PROJECT_SOURCE_DIR}/${doc}")
    install(FILES "${PROJECT_SOURCE_DIR}/${doc}" DESTINATION "${CMAKE_INSTALL_DOCDIR}" COMPONENT doc)
  endif()
endforeach()

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "crossover")
set(CPACK_PACKAGE_VENDOR "crossover")
set(CPACK_PACKAGE_CONTACT "crossover maintainers <crossover@localhost>")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Envoy configuration from Kubernetes ConfigMaps and SMI TrafficSplits")
set(CPACK_PACKAGE_DESCRIPTION
    "crossover turns Kubernetes ConfigMaps holding Envoy xDS files and SMI TrafficSplits into
files Envoy reads from disk, swapped atomically. It runs as an init container and
sidecar beside Envoy, or from a pipeline file of source, transform and sink plugins.
The package includes the plugin SDK headers and CMake package config for building
plugins out of tree.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")  # crossover_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Plugins live in a private directory, not a library path dpkg-shlibdeps searches for
# their dependencies; they need no shlibs entries of their own.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "envoy")
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")
# One package with every component (runtime, sdk, doc).
set(CPACK_DEB_COMPONENT_INSTALL OFF)
set(CPACK_SOURCE_GENERATOR "")

include(CPack)
