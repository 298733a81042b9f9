# Writes OUTPUT: a C++ file that holds every collector YAML file in COLLECTOR_DIR as a string, so the binary carries
# its built-in collectors. Run by the build (cmake -P) whenever one of the files changes.
file(GLOB files LIST_DIRECTORIES false RELATIVE "${COLLECTOR_DIR}" "${COLLECTOR_DIR}/*.yaml")
list(SORT files)
set(delimiter "pgpulse_yaml")
set(body "")
foreach(file IN LISTS files)
  file(READ "${COLLECTOR_DIR}/${file}" text)
  string(FIND "${text}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "collectors/${file} contains the raw-string delimiter )${delimiter}\"")
  endif()
  string(APPEND body "      {\"${file}\", R\"${delimiter}(${text})${delimiter}\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp" "// Generated from collectors/*.yaml by cmake/embed_collectors.cmake. Do not edit.
#include \"exporter/collector/embedded.h\"

namespace pgpulse::collector {

const std::vector<std::pair<std::string_view, std::string_view>>& EmbeddedCollectorFiles() {
  static const std::vector<std::pair<std::string_view, std::string_view>> files = {
${body}  };
  return files;
}

}  // namespace pgpulse::collector
")
# Only touch the output when it changed, so an unrelated YAML save does not rebuild the world.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
