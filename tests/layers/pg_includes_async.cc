// Compiled as part of the pg layer (with pgpulse_pg's include path): pg may include its own headers and those of
// the layer below it, async. tests/CMakeLists.txt expects this to compile.
#include "exporter/async/deadline.h"
#include "exporter/pg/connection.h"
