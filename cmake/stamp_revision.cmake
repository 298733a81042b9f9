# Writes version.h with the source tree's git revision. Runs at every build, so that an incremental build never
# reports the revision of the last configure; configure_file rewrites the header only when its content changes, so
# an unchanged revision recompiles nothing. A tree without .git (a tarball) reports "unknown".
execute_process(
  COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE PGPULSE_REVISION
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT PGPULSE_REVISION)
  set(PGPULSE_REVISION unknown)
endif()
configure_file(${INPUT} ${OUTPUT} @ONLY)
