# SPDX-License-Identifier: MPL-2.0
# Runs at every build: writes version.h with the current git commit, touching it only on change.
execute_process(COMMAND git rev-parse HEAD WORKING_DIRECTORY "${SRC_DIR}"
                OUTPUT_VARIABLE SIGIL_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0 OR SIGIL_GIT_COMMIT STREQUAL "")
  set(SIGIL_GIT_COMMIT "unknown")
endif()
execute_process(COMMAND git log -1 --format=%cI WORKING_DIRECTORY "${SRC_DIR}"
                OUTPUT_VARIABLE SIGIL_BUILD_TIME OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0)
  set(SIGIL_BUILD_TIME "unknown")
endif()
configure_file("${IN_FILE}" "${OUT_FILE}.tmp" @ONLY)
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT_FILE}.tmp" "${OUT_FILE}")
