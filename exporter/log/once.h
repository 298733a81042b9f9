#pragma once

#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace pgpulse::log {

// "Log this only once": a problem that repeats at every scrape, poll or visit is logged when it first appears, not
// every time, or it would drown the log. Each owner keeps its own Once (per target, per process), keyed by the
// problem; forgetting a key when the problem goes away lets it be logged again if it comes back.
class Once {
 public:
  // True the first time `key` is seen since it was last forgotten: the caller logs then.
  bool First(std::string_view key);
  // The problem under `key` went away.
  void Forget(std::string_view key);
  // Every problem went away.
  void Clear();

 private:
  std::mutex mutex_;  // a process-wide Once may be used from the config check as well as from the event loop
  std::set<std::string, std::less<>> seen_;
};

}  // namespace pgpulse::log
