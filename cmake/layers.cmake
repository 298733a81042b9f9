# pgpulse_layer(<name> [extra sources...]): the library pgpulse_<name> for exporter/<name>/.
#
# Its include root, build/include/<name>, holds one entry: exporter/<name>, a symbolic link to the source folder.
# The library exports that root (and only that root) as its include directory, so "exporter/<name>/x.h" resolves
# for the layer itself and for whatever links it, and for nothing else. A header-only layer is an INTERFACE library.
function(pgpulse_layer name)
  set(root ${CMAKE_BINARY_DIR}/include/${name})
  file(MAKE_DIRECTORY ${root}/exporter)
  set(link ${root}/exporter/${name})
  set(target "")
  if(IS_SYMLINK ${link})
    file(READ_SYMLINK ${link} target)
  endif()
  if(NOT target STREQUAL ${CMAKE_SOURCE_DIR}/exporter/${name})
    file(REMOVE ${link})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/exporter/${name} ${link} SYMBOLIC)
  endif()
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/exporter/${name}/*.cc)
  list(APPEND sources ${ARGN})
  if(sources)
    add_library(pgpulse_${name} STATIC ${sources})
    target_include_directories(pgpulse_${name} PUBLIC ${root})
    target_compile_options(pgpulse_${name} PRIVATE ${PGPULSE_WARNINGS})
    target_link_libraries(pgpulse_${name} PRIVATE Threads::Threads)
  else()
    add_library(pgpulse_${name} INTERFACE)
    target_include_directories(pgpulse_${name} INTERFACE ${root})
  endif()
endfunction()
