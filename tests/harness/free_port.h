// A free loopback port, for the servers tests start.
#ifndef PGPULSE_TESTS_HARNESS_FREE_PORT_H_
#define PGPULSE_TESTS_HARNESS_FREE_PORT_H_

#include <cstdint>

namespace pgpulse::testing {

// Binds 127.0.0.1:0 and reports the port the kernel chose. The port is free now, not reserved: a caller that loses
// the race to another process must retry with a new one.
uint16_t FreePort();

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_FREE_PORT_H_
