// Compiled as part of the http layer (with pgpulse_http's include path): an include that goes sideways, from http
// to pg, which http does not link. tests/CMakeLists.txt expects this to fail to compile, with "No such file".
#include "exporter/pg/connection.h"
