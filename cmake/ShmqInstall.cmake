# install() rules and an exported package so that find_package(shmq) works for users.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS shmq EXPORT shmqTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/shmq DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT shmqTargets NAMESPACE shmq:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shmq)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/shmqConfig.cmake.in
  ${PROJECT_BINARY_DIR}/shmqConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shmq)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/shmqConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/shmqConfig.cmake ${PROJECT_BINARY_DIR}/shmqConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shmq)
