# Every dependency comes from Debian 12's packages (scripts/bootstrap installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
# libngtcp2_crypto_gnutls.pc has no Requires:, so name all three.
pkg_check_modules(NGTCP2 REQUIRED IMPORTED_TARGET libngtcp2 libngtcp2_crypto_gnutls gnutls)
pkg_check_modules(GNUTLS REQUIRED IMPORTED_TARGET gnutls)
# GnuTLS's own cipher library, for one-block AES (the workers' connection IDs).
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
# sd_notify(3) for Type=notify units (palyrad only).
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
find_package(SQLite3 REQUIRED)
# The JetStream journal backend (cluster work). Found through pkg-config:
# Debian 12's cnats CMake package names a static library the package does
# not ship, so find_package(cnats CONFIG) stops with an error.
pkg_check_modules(NATS IMPORTED_TARGET libnats)
option(PALYRA_JETSTREAM "Build the NATS JetStream journal backend" ${NATS_FOUND})
if(PALYRA_JETSTREAM AND NOT NATS_FOUND)
  message(FATAL_ERROR "PALYRA_JETSTREAM needs libnats (libnats-dev); scripts/bootstrap installs it")
endif()
if(PALYRA_JETSTREAM)
  # The tests start a real nats-server; without one they skip and say so.
  find_program(PALYRA_NATS_SERVER nats-server)
endif()
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)  # palyrad's /metrics only
if(PALYRA_TESTS)
  find_package(GTest REQUIRED)
endif()
if(PALYRA_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Path of the quinn interoperability peer binary (scripts/build-peer); empty
# means the interop tests skip themselves and say so.
set(PALYRA_QUINN_PEER "" CACHE FILEPATH "quinn-peer binary for interoperability tests")
