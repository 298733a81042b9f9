// Freezing a shared server for the length of one test.
#ifndef PGPULSE_TESTS_HARNESS_SCOPED_FREEZE_H_
#define PGPULSE_TESTS_HARNESS_SCOPED_FREEZE_H_

#include "tests/harness/pg_server.h"

namespace pgpulse::testing {

// SIGSTOPs the server now and SIGCONTs it when the scope ends, even through a failed assertion, so one failure does
// not stall every later test on the shared cluster. Thawing early by hand is fine: Thaw() is idempotent.
class ScopedFreeze {
 public:
  explicit ScopedFreeze(PgServer& server) : server_(server) { server_.Freeze(); }
  ~ScopedFreeze() { server_.Thaw(); }
  ScopedFreeze(const ScopedFreeze&) = delete;
  ScopedFreeze& operator=(const ScopedFreeze&) = delete;

 private:
  PgServer& server_;
};

}  // namespace pgpulse::testing

#endif  // PGPULSE_TESTS_HARNESS_SCOPED_FREEZE_H_
