#include "exporter/log/once.h"

namespace pgpulse::log {

bool Once::First(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (seen_.find(key) != seen_.end()) return false;
  seen_.emplace(key);
  return true;
}

void Once::Forget(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (auto found = seen_.find(key); found != seen_.end()) seen_.erase(found);
}

void Once::Clear() {
  std::lock_guard lock(mutex_);
  seen_.clear();
}

}  // namespace pgpulse::log
