# What `cmake --install` puts where (GNUInstallDirs), and the package other
# CMake projects find with find_package(palyra): palyra::transport and
# palyra::identity (with palyra::quic_core and palyra::common beneath them).
# Only these libraries are installed; the runtime, the journal and the gRPC
# fallback live inside the two executables and are not an API.
include(CMakePackageConfigHelpers)

set(PALYRA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/palyra)
set(PALYRA_EXPORTED_LIBRARIES palyra_common palyra_identity palyra_quic_core palyra_transport)
foreach(library IN LISTS PALYRA_EXPORTED_LIBRARIES)
  string(REPLACE "palyra_" "" export_name ${library})
  set_target_properties(${library} PROPERTIES EXPORT_NAME ${export_name})
  add_library(palyra::${export_name} ALIAS ${library})
endforeach()

install(TARGETS palyra palyrad RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${PALYRA_EXPORTED_LIBRARIES} EXPORT palyraTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The headers of the installed libraries only: those of the runtime, the
# journal and the fallback would name libraries that are not installed.
foreach(folder common identity transport)
  install(DIRECTORY include/palyra/${folder} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/palyra)
endforeach()

# The static libraries carry $<LINK_ONLY:PkgConfig::NGTCP2> and friends;
# palyraConfig.cmake recreates those targets on the consumer's side.
install(EXPORT palyraTargets NAMESPACE palyra:: DESTINATION ${PALYRA_CMAKE_DIR})
configure_package_config_file(packaging/palyraConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/palyraConfig.cmake
                              INSTALL_DESTINATION ${PALYRA_CMAKE_DIR})
# 0.x: a minor version may break the API, so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/palyraConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/palyraConfig.cmake
              ${PROJECT_BINARY_DIR}/palyraConfigVersion.cmake
        DESTINATION ${PALYRA_CMAKE_DIR})

# pkg-config, for builds that do not use CMake. @ONLY: ${...} stays for pkg-config.
file(RELATIVE_PATH PALYRA_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" PALYRA_PC_TO_PREFIX "${PALYRA_PC_TO_PREFIX}")
configure_file(packaging/palyra.pc.in ${PROJECT_BINARY_DIR}/palyra.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/palyra.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Operator files. The unit and the user it runs as go where Debian's systemd
# looks for packaged ones (/usr/lib/systemd/system and /usr/lib/sysusers.d
# with the package's /usr prefix). The unit names /usr/bin/palyrad: it is the
# package's unit; an install elsewhere adjusts ExecStart.
install(FILES packaging/systemd/palyrad.service DESTINATION lib/systemd/system)
install(FILES packaging/systemd/palyra.sysusers DESTINATION lib/sysusers.d RENAME palyra.conf)
install(FILES packaging/palyrad.toml.example DESTINATION ${CMAKE_INSTALL_DOCDIR})

include(cmake/PalyraManPages.cmake)
include(cmake/PalyraPackage.cmake)
