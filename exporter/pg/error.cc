#include "exporter/pg/error.h"

namespace pgpulse::pg {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kAuth:
      return "auth";
    case ErrorKind::kRefused:
      return "refused";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kBroken:
      return "broken";
    case ErrorKind::kQuery:
      return "query";
  }
  return "unknown";
}

}  // namespace pgpulse::pg
