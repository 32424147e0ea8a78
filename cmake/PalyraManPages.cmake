# Man pages for palyra(1) and palyrad(8), generated from their --help at build
# time with help2man, so they never drift from the binaries. Without help2man
# they are skipped, and the build says so.
find_program(PALYRA_HELP2MAN help2man)
if(NOT PALYRA_HELP2MAN)
  message(STATUS "help2man not found: the palyra and palyrad man pages are skipped")
  return()
endif()

# palyra_man_page(target section description): <target>.<section> from
# `<target> --help`. --version-string because `palyra --version` needs a
# subcommand; --no-info because there is no Texinfo manual to point to.
function(palyra_man_page target section description)
  set(page ${PROJECT_BINARY_DIR}/man/${target}.${section})
  add_custom_command(
    OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${PALYRA_HELP2MAN} --no-info --no-discard-stderr --section=${section}
            --version-string=${PROJECT_VERSION} --name=${description}
            --output=${page} $<TARGET_FILE:${target}>
    DEPENDS ${target}
    COMMENT "Generating the ${target}(${section}) man page")
  add_custom_target(${target}_man_page ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endfunction()

palyra_man_page(palyra 1 "the Palyra command line: identities, enrollment and node calls")
palyra_man_page(palyrad 8 "the Palyra daemon: node calls over QUIC with mutual TLS")
