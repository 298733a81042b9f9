#pragma once

#include <optional>
#include <string>
#include <vector>

#include "exporter/app/configuration.h"
#include "exporter/targets/target.h"

namespace pgpulse::app {

// What `pgpulse check` found about one target, from one refresh.
struct TargetCheck {
  std::string name;
  std::string dsn;         // redacted
  bool reachable = false;  // the server answered (a login pgpulse then refused counts: the server is there)
  std::string error;       // why not up; never holds a secret
  std::string user;
  std::string version;
  // Neither a superuser nor a member of one, unless the target sets allow_superuser; unknown when not logged in.
  std::optional<bool> role_safe;
  std::string role_note;  // why the role is unsafe, or what is worth knowing (allowed superuser, managed admin)
  std::optional<bool> pg_monitor;
  std::optional<bool> replica;  // known when up
  struct Extension {
    std::string name;
    std::optional<bool> present;  // in the target's own database; unknown when not connected
  };
  std::vector<Extension> extensions;  // those the enabled cluster collectors require
  struct Collector {
    std::string name;
    bool enabled = false;
    std::string reason;  // why off ("disabled in the config", a skip reason), or how it went ("ok", "failed")
  };
  std::vector<Collector> collectors;
  // Why the target is not healthy (not reachable, refused, role unsafe, no pg_monitor), or empty when it is.
  std::string Problem() const;
  bool healthy() const { return Problem().empty(); }
};

// Reads the check of a target from its refresh (`snapshot`, or nullopt when it did not end in time).
TargetCheck CheckTarget(const Configuration& configuration, const targets::Target& target,
                        const std::optional<targets::Snapshot>& snapshot);

// The report on stdout: a table per target, or one JSON document {"healthy": bool, "targets": [...]}.
std::string RenderCheckTable(const std::vector<TargetCheck>& checks);
std::string RenderCheckJson(const std::vector<TargetCheck>& checks);

}  // namespace pgpulse::app
