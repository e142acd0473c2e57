# SPDX-License-Identifier: MPL-2.0
# Embeds migrations/NNNN_name.sql into a C source so the sigil binary carries its own schema.
# Fails the build when the numbering is not contiguous from 1.
file(GLOB files "${MIGRATIONS_DIR}/*.sql")
list(SORT files)
set(body "")
set(expected 1)
foreach(f ${files})
  get_filename_component(base "${f}" NAME_WE)
  if(NOT base MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)$")
    message(FATAL_ERROR "migration file name must be NNNN_snake_name.sql: ${f}")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  set(name "${CMAKE_MATCH_2}")
  if(NOT version EQUAL expected)
    message(FATAL_ERROR "migrations must be numbered contiguously: expected ${expected}, got ${base}")
  endif()
  math(EXPR expected "${expected} + 1")
  file(READ "${f}" sql)
  string(REPLACE "\\" "\\\\" sql "${sql}")
  string(REPLACE "\"" "\\\"" sql "${sql}")
  string(REPLACE "\n" "\\n\"\n    \"" sql "${sql}")
  string(APPEND body "    {${version}, \"${name}\",\n    \"${sql}\"},\n")
endforeach()
file(WRITE "${OUT_FILE}.tmp" "/* Generated from the migrations folder at build time; do not edit. */
#include \"db/migrate.h\"

const struct db_migration db_migrations[] = {
${body}};
const size_t db_n_migrations = sizeof(db_migrations) / sizeof(db_migrations[0]);
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT_FILE}.tmp" "${OUT_FILE}")
