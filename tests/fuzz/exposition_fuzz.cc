// Label values from the fuzzer (quotes, backslashes, newlines, invalid UTF-8) through both writers of the text
// exposition format: the fast one (text.h) and prometheus-cpp's TextSerializer (Exposition). Beyond crashes it checks
// what Prometheus relies on: the two write the same bytes, the output is valid UTF-8, every line is a comment or
// `name{labels} value`, every escape is one the format knows, and each label value reads back as what was written
// (after UTF-8 repair). The UTF-8 functions are also checked against a plain decoder written here.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/metrics/exposition.h"
#include "exporter/metrics/text.h"
#include "exporter/metrics/utf8.h"

namespace {

using pgpulse::metrics::Labels;
using pgpulse::metrics::Type;

[[noreturn]] void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "exposition fuzz: %s\n---\n%.*s\n---\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// A decoder written from the definition (Unicode 3.9, table 3-7), independent of utf8.cc's range tables.
bool ReferenceValidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = lead < 0x80 ? 1 : lead >> 5 == 0x6 ? 2 : lead >> 4 == 0xE ? 3 : lead >> 3 == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    std::uint32_t code = length == 1 ? lead : lead & (0xFFu >> (length + 1));
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next >> 6 != 0x2) return false;
      code = code << 6 | (next & 0x3Fu);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMin[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

std::size_t CountReplacements(std::string_view text) {
  std::size_t count = 0;
  for (auto at = text.find("\xEF\xBF\xBD"); at != std::string_view::npos; at = text.find("\xEF\xBF\xBD", at + 3)) {
    ++count;
  }
  return count;
}

void CheckUtf8Functions(const std::string& raw) {
  const bool valid = pgpulse::metrics::IsValidUtf8(raw);
  if (valid != ReferenceValidUtf8(raw)) Fail("IsValidUtf8 disagrees with the reference decoder", raw);
  std::string repaired = raw;
  const std::size_t replaced = pgpulse::metrics::ReplaceInvalidUtf8(repaired);
  if (valid && (replaced != 0 || repaired != raw)) Fail("ReplaceInvalidUtf8 changed valid text", raw);
  if (!valid && replaced == 0) Fail("ReplaceInvalidUtf8 left invalid text as it was", raw);
  if (!ReferenceValidUtf8(repaired)) Fail("ReplaceInvalidUtf8 left invalid UTF-8", raw);
  if (CountReplacements(repaired) != CountReplacements(raw) + replaced) Fail("replacement count is wrong", raw);
  // One U+FFFD per maximal subpart is at most one per byte.
  if (repaired.size() > raw.size() * 3) Fail("ReplaceInvalidUtf8 grew the text beyond 3 bytes per byte", raw);
}

bool IsNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

struct ParsedSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // values unescaped
  double value = 0;
};

// One sample line, strictly as the text format defines it; fails the run on anything else.
ParsedSample ParseSampleLine(std::string_view line) {
  ParsedSample sample;
  std::size_t i = 0;
  while (i < line.size() && IsNameChar(line[i], i == 0)) ++i;
  if (i == 0) Fail("sample line does not start with a metric name", line);
  sample.name = line.substr(0, i);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      const std::size_t start = i;
      while (i < line.size() && IsNameChar(line[i], i == start) && line[i] != ':') ++i;
      if (i == start) Fail("label without a name", line);
      std::string name(line.substr(start, i - start));
      if (line.substr(i, 2) != "=\"") Fail("label name not followed by =\"", line);
      i += 2;
      std::string value;
      while (true) {
        if (i >= line.size()) Fail("label value not closed", line);
        const char c = line[i++];
        if (c == '"') break;
        if (c != '\\') {
          value += c;
          continue;
        }
        if (i >= line.size()) Fail("escape at the end of the line", line);
        const char e = line[i++];
        if (e == 'n') {
          value += '\n';
        } else if (e == '\\' || e == '"') {
          value += e;
        } else {
          Fail("unknown escape in a label value", line);
        }
      }
      sample.labels.emplace_back(std::move(name), std::move(value));
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      Fail("label not followed by , or }", line);
    }
  }
  if (i >= line.size() || line[i] != ' ') Fail("no space before the value", line);
  const std::string value(line.substr(i + 1));
  char* end = nullptr;
  sample.value = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || value.find(' ') != std::string::npos) {
    Fail("value is not a number", line);
  }
  if (value != "Nan" && value != "+Inf" && value != "-Inf" && !std::isfinite(sample.value)) {
    Fail("non-finite value not written as Nan, +Inf or -Inf", line);
  }
  return sample;
}

struct Expected {
  std::string name;
  Labels labels;  // repaired values
  Labels raw;     // as given
  double value;
};

void CheckText(const std::string& text, const std::vector<Expected>& expected) {
  if (!ReferenceValidUtf8(text)) Fail("exposition is not valid UTF-8", text);
  if (!text.empty() && text.back() != '\n') Fail("exposition does not end with a newline", text);
  std::map<std::string, std::vector<const Expected*>> pending;  // per family, in order
  for (const auto& e : expected) pending[e.name].push_back(&e);
  std::map<std::string, std::size_t> seen;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    if (!line.empty() && line[0] == '#') Fail("comment that is neither HELP nor TYPE", line);
    const ParsedSample sample = ParseSampleLine(line);
    auto& list = pending[sample.name];
    const std::size_t index = seen[sample.name]++;
    if (index >= list.size()) Fail("more samples than were written", line);
    const Expected& want = *list[index];
    if (sample.labels != std::vector<std::pair<std::string, std::string>>(want.labels.begin(), want.labels.end())) {
      Fail("labels do not read back as written", line);
    }
    const bool same = std::isnan(want.value) ? std::isnan(sample.value)
                      : std::isinf(want.value)
                          ? sample.value == want.value
                          : std::fabs(sample.value - want.value) <= 1e-15 * std::fabs(want.value) + 1e-300;
    if (!same) Fail("value does not read back as written", line);
  }
  for (const auto& [name, list] : pending) {
    if (seen[name] != list.size()) Fail("samples are missing", text);
  }
}

double ConsumeValue(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
      return std::numeric_limits<double>::quiet_NaN();
    case 1:
      return in.ConsumeBool() ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    case 2:
      return -0.0;
    case 3:
      return static_cast<double>(in.ConsumeIntegral<std::int64_t>());
    default:
      return in.ConsumeFloatingPoint<double>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  CheckUtf8Functions(std::string(reinterpret_cast<const char*>(data), size));

  // Names and label names are checked by the loaders before they get here; the values are anybody's.
  static const char* const kNames[] = {"pg_up", "pg_stat_database_xact_commit_total", "pg_settings:value"};
  static const char* const kLabelNames[] = {"datname", "target", "usename", "a", "_x"};
  FuzzedDataProvider in(data, size);
  pgpulse::metrics::Exposition exposition;
  std::vector<Expected> expected;
  const int samples = in.ConsumeIntegralInRange(0, 8);
  for (int s = 0; s < samples; ++s) {
    const std::size_t name = in.ConsumeIntegralInRange<std::size_t>(0, 2);
    Labels labels;
    const int count = in.ConsumeIntegralInRange(0, 3);
    for (int l = 0; l < count; ++l)
      labels[kLabelNames[in.ConsumeIntegralInRange(0, 4)]] = in.ConsumeRandomLengthString(64);
    const double value = ConsumeValue(in);
    // The family's type follows its name, as a collector's would; Exposition refuses two types for one name.
    if (name == 1) {
      exposition.Counter(kNames[name], "Help.", labels, value);
    } else {
      exposition.Gauge(kNames[name], "Help.", labels, value);
    }
    Labels repaired = labels;
    for (auto& [label, label_value] : repaired) pgpulse::metrics::ReplaceInvalidUtf8(label_value);
    expected.push_back({kNames[name], std::move(repaired), std::move(labels), value});
  }

  // The fast writer, family by family in the order families first appeared, as Exposition groups them.
  std::string fast;
  std::vector<std::string> order;
  for (const auto& e : expected) {
    if (std::find(order.begin(), order.end(), e.name) == order.end()) order.push_back(e.name);
  }
  for (const auto& name : order) {
    fast += pgpulse::metrics::FamilyHeader(name, "Help.", name == kNames[1] ? Type::kCounter : Type::kGauge);
    for (const auto& e : expected) {
      if (e.name != name) continue;
      // The raw values again, not the repaired ones: the fast writer must repair them itself.
      std::vector<pgpulse::metrics::LabelRef> refs(e.raw.begin(), e.raw.end());
      pgpulse::metrics::AppendSample(fast, name, refs, e.value);
    }
  }
  CheckText(fast, expected);
  // TextSerializer writes values next to DBL_MAX as text past it (text.cc writes 17 digits there instead); the
  // engine only gives it its own per-scrape series, which never come near.
  const bool huge = std::any_of(expected.begin(), expected.end(),
                                [](const Expected& e) { return std::fabs(e.value) > 1.797693134862315e308; });
  if (!huge && fast != exposition.Serialize()) {
    Fail("the fast writer and TextSerializer differ", fast + "---\n" + exposition.Serialize());
  }
  return 0;
}
