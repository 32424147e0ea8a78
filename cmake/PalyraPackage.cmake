# `cpack -G DEB`: one Debian package with everything `cmake --install` puts
# in place. Its Depends come from dpkg-shlibdeps (dpkg-dev) reading what the
# binaries link against, so they name the Debian packages actually used
# (libngtcp2, libgnutls30, libgrpc++, ...) at the versions built against.
set(CPACK_PACKAGE_NAME palyra)
set(CPACK_PACKAGE_VENDOR "Palyra")
set(CPACK_PACKAGE_CONTACT "Palyra maintainers <palyra@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "QUIC gateway with mutual TLS: the palyrad daemon, the palyra CLI and the transport library")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The static libraries, headers and CMake package are for building against
# palyra; what they link (libngtcp2-dev, ...) is suggested, not required.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "libngtcp2-dev, libngtcp2-crypto-gnutls-dev, libgnutls28-dev, nettle-dev, libfmt-dev, pkg-config")
# The `palyra` user the unit runs as exists before anyone starts it.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/debian/postinst)
include(CPack)
