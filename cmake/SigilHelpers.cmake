# SPDX-License-Identifier: MPL-2.0
# sym_add_test(): one CTest executable per module, built on the in-tree harness.
#   sym_add_test(NAME test_symfile SOURCES a.c b.c LIBS sym LABELS unit [ENV K=V ...]
#                [ARGS ...] [TIMEOUT s])
# Tests exit 77 when an optional input (the public corpus) is absent: reported as skipped.
# sym_add_fuzzer(): a libFuzzer target when SYM_FUZZ=ON; otherwise a replay executable that runs
# the stored corpus under the normal build (label fuzz-regression).
function(sym_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ENV;ARGS;INCLUDES" ${ARGN})
  if(NOT SYM_BUILD_TESTS)
    return()
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE sym_test_harness ${T_LIBS})
  if(T_INCLUDES)
    target_include_directories(${T_NAME} PRIVATE ${T_INCLUDES})
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" SKIP_RETURN_CODE 77
    TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "SIGIL_CORPUS_DIR=${SIGIL_CORPUS_DIR};SIGIL_SOURCE_DIR=${CMAKE_SOURCE_DIR};${T_ENV}")
endfunction()

function(sym_add_fuzzer)
  cmake_parse_arguments(F "" "NAME" "SOURCES;LIBS" ${ARGN})
  if(SYM_FUZZ)
    add_executable(fuzz_${F_NAME} ${F_SOURCES})
    target_compile_options(fuzz_${F_NAME} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${F_NAME} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_${F_NAME} PRIVATE ${F_LIBS})
  elseif(SYM_BUILD_TESTS)
    add_executable(replay_${F_NAME} ${F_SOURCES} ${CMAKE_SOURCE_DIR}/tests/fuzz/standalone_main.c)
    target_link_libraries(replay_${F_NAME} PRIVATE ${F_LIBS})
    add_test(NAME fuzz_replay_${F_NAME}
      COMMAND replay_${F_NAME} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${F_NAME})
    set_tests_properties(fuzz_replay_${F_NAME} PROPERTIES LABELS "fuzz-regression")
  endif()
endfunction()
