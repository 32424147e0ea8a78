# Compile flags for our own code (not for generated or third-party code).
set(PALYRA_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(PALYRA_WERROR)
  list(APPEND PALYRA_WARNINGS -Werror)
endif()

if(PALYRA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()

# palyra_apply_flags(target): our warnings + the public include directory
# (the source tree's while building, the installed one for the exported
# libraries: see cmake/PalyraInstall.cmake).
function(palyra_apply_flags target)
  target_compile_options(${target} PRIVATE ${PALYRA_WARNINGS})
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                              $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endfunction()

# palyra_test(name SOURCES... LIBS... LABELS... [INTEGRATION_SUITES suite...]):
# a GoogleTest binary registered with ctest, each TEST a ctest test labelled
# LABELS. The tests of INTEGRATION_SUITES (those that run the real binaries)
# are labelled integration instead, so one binary can hold a folder's unit
# tests and the integration tests that go with the same units.
function(palyra_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS;INTEGRATION_SUITES" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  palyra_apply_flags(${name})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    PALYRA_SOURCE_DIR="${PROJECT_SOURCE_DIR}" PALYRA_BINARY_DIR="${PROJECT_BINARY_DIR}")
  include(GoogleTest)
  if(T_INTEGRATION_SUITES)
    list(TRANSFORM T_INTEGRATION_SUITES APPEND ".*")
    list(JOIN T_INTEGRATION_SUITES ":" suites)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 TEST_FILTER "-${suites}"
                         PROPERTIES LABELS "${T_LABELS}")
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 TEST_FILTER "${suites}"
                         PROPERTIES LABELS integration)
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 30 PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()

if(PALYRA_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PALYRA_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# palyra_fuzz_target(name SOURCES... LIBS...): a libFuzzer binary fuzz/<name>;
# its seed corpus lives in fuzz/corpus/<name>/.
function(palyra_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  palyra_apply_flags(${name})
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()
