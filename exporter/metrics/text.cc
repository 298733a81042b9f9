#include "exporter/metrics/text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "exporter/metrics/utf8.h"

namespace pgpulse::metrics {
namespace {

// The largest double whose %.16g text does not round past DBL_MAX (1.7976931348623157e308).
constexpr double kLargestSixteenDigits = 1.797693134862315e308;

}  // namespace

std::string FamilyHeader(const std::string& name, const std::string& help, Type type) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + (type == Type::kCounter ? " counter\n" : " gauge\n");
}

void AppendEscapedLabelValue(std::string& out, std::string_view value) {
  // The collectors replace (and count) invalid UTF-8 before this; this is the last line of defence for the rest.
  std::string repaired;
  if (!IsValidUtf8(value)) {
    repaired = value;
    ReplaceInvalidUtf8(repaired);
    value = repaired;
  }
  std::size_t plain = 0;  // copy runs of ordinary characters in one go
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(value.substr(plain, i - plain));
    out += '\\';
    out += c == '\n' ? 'n' : c;
    plain = i + 1;
  }
  out.append(value.substr(plain));
}

void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "Nan";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
    return;
  }
  char buffer[32];
  // Most values are whole numbers (counters, sizes): below 1e15, %.16g prints them as plain integers, and
  // to_chars does the same an order of magnitude faster. -0 keeps its sign under %g, so it takes the slow path.
  if (std::fabs(value) < 1e15 && value == std::trunc(value) && !(value == 0 && std::signbit(value))) {
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(value));
    out.append(buffer, end);
    return;
  }
  int length = std::snprintf(buffer, sizeof buffer, "%.16g", value);
  // Within a hair of the largest double, 16 digits round up past it: "1.797693134862316e+308" reads back as
  // infinity, which Prometheus' parser refuses (a range error), failing the whole scrape. 17 digits read back
  // exactly. Found by tests/fuzz/exposition_fuzz.cc.
  if (std::fabs(value) > kLargestSixteenDigits) length = std::snprintf(buffer, sizeof buffer, "%.17g", value);
  out.append(buffer, static_cast<std::size_t>(length));
}

void AppendSample(std::string& out, std::string_view name, const std::vector<LabelRef>& labels, double value) {
  out.append(name);
  if (!labels.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [label, label_value] : labels) {
      if (!first) out += ',';
      first = false;
      out.append(label);
      out += "=\"";
      AppendEscapedLabelValue(out, label_value);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  AppendValue(out, value);
  out += '\n';
}

}  // namespace pgpulse::metrics
