// Which process owns a listening TCP port.
#ifndef PGPULSE_TESTS_HARNESS_LISTENING_SOCKET_H_
#define PGPULSE_TESTS_HARNESS_LISTENING_SOCKET_H_

#include <sys/types.h>

#include <cstdint>

namespace pgpulse::testing {

// True if `pid` holds a socket listening on 127.0.0.1:port or 0.0.0.0:port (IPv4), per /proc. Lets a test tell its
// own server from another process that took the same "free" port first.
bool ProcessListensOn(pid_t pid, uint16_t port);

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_LISTENING_SOCKET_H_
