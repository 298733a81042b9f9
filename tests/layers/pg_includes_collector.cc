// Compiled as part of the pg layer (with pgpulse_pg's include path): an include that goes up, from pg to
// collector. tests/CMakeLists.txt expects this to fail to compile, with "No such file".
#include "exporter/collector/definition.h"
