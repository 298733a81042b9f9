#include "tests/harness/metrics_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace pgpulse::testing {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// A cursor over one line; every Expect/Read throws std::invalid_argument with the line for context.
class LineParser {
 public:
  LineParser(std::string_view line, size_t line_number) : line_(line), line_number_(line_number) {}

  Sample Parse() {
    Sample sample;
    sample.name = ReadName(/*allow_colon=*/true);
    SkipBlanks();
    if (Peek() == '{') ReadLabels(sample.labels);
    SkipBlanks();
    sample.value = ReadValue();
    return sample;  // anything after the value (timestamp, exemplar) is not needed by tests
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw std::invalid_argument("exposition line " + std::to_string(line_number_) + ": " + what + " at column " +
                                std::to_string(pos_ + 1) + ": " + std::string(line_));
  }
  char Peek() const { return pos_ < line_.size() ? line_[pos_] : '\0'; }
  void SkipBlanks() {
    while (Peek() == ' ' || Peek() == '\t') ++pos_;
  }
  void Expect(char c) {
    if (Peek() != c) Fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  std::string ReadName(bool allow_colon) {
    const size_t start = pos_;
    if (!IsNameStart(Peek()) || (!allow_colon && Peek() == ':')) Fail("expected a name");
    while (IsNameChar(Peek()) && (allow_colon || Peek() != ':')) ++pos_;
    return std::string(line_.substr(start, pos_ - start));
  }

  void ReadLabels(std::map<std::string, std::string>& labels) {
    Expect('{');
    while (true) {
      SkipBlanks();
      if (Peek() == '}') break;
      std::string name = ReadName(/*allow_colon=*/false);
      SkipBlanks();
      Expect('=');
      SkipBlanks();
      labels[std::move(name)] = ReadQuoted();
      SkipBlanks();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() != '}') Fail("expected ',' or '}'");
    }
    Expect('}');
  }

  std::string ReadQuoted() {
    Expect('"');
    std::string value;
    while (true) {
      const char c = Peek();
      if (c == '\0' && pos_ >= line_.size()) Fail("unterminated label value");
      ++pos_;
      if (c == '"') return value;
      if (c != '\\') {
        value += c;
        continue;
      }
      const char escaped = Peek();
      if (pos_ >= line_.size()) Fail("unterminated escape");
      ++pos_;
      if (escaped == 'n') {
        value += '\n';
      } else if (escaped == '\\' || escaped == '"') {
        value += escaped;
      } else {
        value += '\\';  // not an escape the format defines: keep it verbatim
        value += escaped;
      }
    }
  }

  double ReadValue() {
    const size_t start = pos_;
    while (pos_ < line_.size() && Peek() != ' ' && Peek() != '\t') ++pos_;
    std::string_view token = line_.substr(start, pos_ - start);
    if (token.empty()) Fail("missing value");
    if (token == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (token == "+Inf" || token == "Inf") return std::numeric_limits<double>::infinity();
    if (token == "-Inf") return -std::numeric_limits<double>::infinity();
    // from_chars is locale-independent (strtod is not) but rejects a leading '+'.
    if (token.front() == '+') token.remove_prefix(1);
    double value = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (error != std::errc() || end != token.data() + token.size()) Fail("bad value '" + std::string(token) + "'");
    return value;
  }

  std::string_view line_;
  size_t line_number_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<Sample> ParseSamples(const std::string& exposition) {
  std::vector<Sample> samples;
  std::string_view rest = exposition;
  for (size_t line_number = 1; !rest.empty(); ++line_number) {
    const size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    samples.push_back(LineParser(line.substr(first), line_number).Parse());
  }
  return samples;
}

std::optional<double> MetricValue(const std::string& exposition, const std::string& name,
                                  const std::map<std::string, std::string>& labels) {
  for (const Sample& sample : ParseSamples(exposition)) {
    if (sample.name != name) continue;
    const bool matches = std::all_of(labels.begin(), labels.end(), [&](const auto& wanted) {
      const auto it = sample.labels.find(wanted.first);
      return it != sample.labels.end() && it->second == wanted.second;
    });
    if (matches) return sample.value;
  }
  return std::nullopt;
}

size_t CountSamples(const std::string& exposition, const std::string& name) {
  const std::vector<Sample> samples = ParseSamples(exposition);
  return static_cast<size_t>(
      std::count_if(samples.begin(), samples.end(), [&](const Sample& sample) { return sample.name == name; }));
}

CommandResult PromtoolCheckMetrics(const std::string& exposition) {
  return RunCommandWithInput({"/usr/bin/promtool", "check", "metrics"}, exposition);
}

}  // namespace pgpulse::testing
