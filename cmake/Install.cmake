include(CMakePackageConfigHelpers)

install(DIRECTORY core/include/crossover DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT sdk)
install(TARGETS crossover_sdk EXPORT crossoverTargets)
install(EXPORT crossoverTargets NAMESPACE crossover:: FILE crossoverTargets.cmake
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/crossover" COMPONENT sdk)

configure_package_config_file(cmake/crossoverConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/crossoverConfig.cmake"
  INSTALL_DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/crossover"
  PATH_VARS CROSSOVER_PLUGIN_SUBDIR)
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/crossoverConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/crossoverConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/crossoverConfigVersion.cmake"
  cmake/CrossoverPlugin.cmake
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/crossover" COMPONENT sdk)
