#include "exporter/app/status_facts.h"

#include <cstdlib>

namespace pgpulse::app {

namespace {

// Reads a label value in exposition escapes (\\, \", \n) up to its closing quote; false when malformed.
bool ReadQuoted(std::string_view line, std::size_t& at, std::string& value) {
  for (; at < line.size(); ++at) {
    const char c = line[at];
    if (c == '"') {
      ++at;
      return true;
    }
    if (c == '\\') {
      if (++at >= line.size()) return false;
      value += line[at] == 'n' ? '\n' : line[at];
    } else {
      value += c;
    }
  }
  return false;
}

std::optional<Sample> ParseSampleLine(std::string_view line) {
  if (line.empty() || line.front() == '#') return std::nullopt;
  Sample sample;
  std::size_t at = line.find_first_of("{ ");
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  if (line[at] == '{') {
    ++at;
    while (at < line.size() && line[at] != '}') {
      const auto eq = line.find("=\"", at);
      if (eq == std::string_view::npos) return std::nullopt;
      std::string name(line.substr(at, eq - at));
      at = eq + 2;
      std::string value;
      if (!ReadQuoted(line, at, value)) return std::nullopt;
      sample.labels[std::move(name)] = std::move(value);
      if (at < line.size() && line[at] == ',') ++at;
    }
    if (at >= line.size()) return std::nullopt;
    ++at;  // the '}'
  }
  // strtod reads the writer's "Nan", "+Inf" and "-Inf" as well as numbers.
  const std::string value(line.substr(at));
  char* end = nullptr;
  sample.value = std::strtod(value.c_str(), &end);
  if (end == value.c_str()) return std::nullopt;
  return sample;
}

const Family* Find(const Samples& samples, std::string_view name) {
  auto found = samples.find(name);
  return found != samples.end() && found->second.known ? &found->second : nullptr;
}

// The single value of a per-target family (a cluster-scope setting), when there is exactly one.
std::optional<double> Single(const Samples& samples, std::string_view name) {
  const auto* family = Find(samples, name);
  if (!family || family->samples.size() != 1) return std::nullopt;
  return family->samples.front().value;
}

std::string Label(const Sample& sample, const char* name) {
  auto found = sample.labels.find(name);
  return found != sample.labels.end() ? found->second : std::string();
}

// pg:connections_usable less pg:connections_used. A missing reserved_connections (before 16) counts as 0, as in the
// rule's "or ... * 0"; a missing max_connections or superuser_reserved_connections leaves the rule, and this, empty.
std::optional<Connections> ComputeConnections(const Samples& samples) {
  namespace m = fact_metrics;
  const auto max = Single(samples, m::kMaxConnections);
  const auto superuser = Single(samples, m::kSuperuserReserved);
  const auto* activity = Find(samples, m::kActivityCount);
  if (!max || !superuser || !activity || activity->samples.empty()) return std::nullopt;
  Connections connections;
  connections.usable = *max - *superuser - Single(samples, m::kReserved).value_or(0);
  for (const auto& sample : activity->samples) connections.used += sample.value;
  return connections;
}

}  // namespace

std::vector<Sample> ParseSampleLines(std::string_view text) {
  std::vector<Sample> samples;
  while (!text.empty()) {
    const auto end = text.find('\n');
    if (auto sample = ParseSampleLine(text.substr(0, end))) samples.push_back(std::move(*sample));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return samples;
}

Samples SamplesOf(const collector::Collected& collected, const std::vector<std::string_view>& names) {
  Samples samples;
  if (!collected.set) return samples;
  for (const auto& plan : collected.set->families) {
    bool wanted = false;
    for (auto name : names) wanted = wanted || name == plan.name;
    if (!wanted) continue;
    auto& family = samples[plan.name];
    for (const auto& [definition, column] : plan.sources) {
      const auto& def = collected.set->definitions[definition];
      const auto& results = collected.results[definition];
      // Ran (or was served from cache) and has an answer: a failed run with nothing cached knows nothing.
      auto status = collected.status.find(def.name);
      if (status != collected.status.end() && status->second.ran && !status->second.skip_reason &&
          (status->second.success || !results.empty())) {
        family.known = true;
      }
      for (const auto& result : results) {
        for (auto& sample : ParseSampleLines(result->lines[column])) family.samples.push_back(std::move(sample));
      }
    }
  }
  return samples;
}

const std::vector<std::string_view>& FactFamilies() {
  namespace m = fact_metrics;
  static const std::vector<std::string_view> names = {m::kIsReplica,          m::kPostmasterStart, m::kMaxConnections,
                                                      m::kSuperuserReserved,  m::kReserved,        m::kActivityCount,
                                                      m::kPasswordValidUntil, m::kFrozenXidAge};
  return names;
}

TargetFacts ComputeFacts(const Samples& samples, double now_unix_seconds) {
  namespace m = fact_metrics;
  TargetFacts facts;
  if (auto replica = Single(samples, m::kIsReplica)) facts.replica = *replica != 0;
  if (auto start = Single(samples, m::kPostmasterStart)) facts.uptime_seconds = now_unix_seconds - *start;
  facts.connections = ComputeConnections(samples);
  // pg:role_password_expiry_days, the nearest of the login roles' (only finite expiries are exported).
  if (const auto* roles = Find(samples, m::kPasswordValidUntil)) {
    facts.password_expiry_known = true;
    for (const auto& sample : roles->samples) {
      const double days = (sample.value - now_unix_seconds) / 86400;
      if (!facts.password_expiry || days < facts.password_expiry->days) {
        facts.password_expiry = PasswordExpiry{days, Label(sample, m::kRoleLabel)};
      }
    }
  }
  if (const auto* ages = Find(samples, m::kFrozenXidAge)) {
    for (const auto& sample : ages->samples) {
      if (!facts.oldest_xid || sample.value > facts.oldest_xid->age) {
        facts.oldest_xid = XidAge{sample.value, Label(sample, m::kDatabaseLabel)};
      }
    }
  }
  return facts;
}

}  // namespace pgpulse::app
