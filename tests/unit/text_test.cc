// The fast text writer must write exactly what prometheus-cpp's TextSerializer writes for the same samples.
#include <gtest/gtest.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "exporter/metrics/exposition.h"
#include "exporter/metrics/text.h"

namespace pgpulse::metrics {
namespace {

std::string ByTextWriter(const std::string& name, Type type, const std::vector<std::pair<Labels, double>>& samples) {
  std::string out = FamilyHeader(name, "Some help, plain.", type);
  for (const auto& [labels, value] : samples) {
    std::vector<LabelRef> refs(labels.begin(), labels.end());
    AppendSample(out, name, refs, value);
  }
  return out;
}

std::string ByTextSerializer(const std::string& name, Type type,
                             const std::vector<std::pair<Labels, double>>& samples) {
  Exposition exposition;
  for (const auto& [labels, value] : samples) {
    if (type == Type::kCounter) {
      exposition.Counter(name, "Some help, plain.", labels, value);
    } else {
      exposition.Gauge(name, "Some help, plain.", labels, value);
    }
  }
  return exposition.Serialize();
}

TEST(TextTest, WritesWhatTextSerializerWrites) {
  const double values[] = {0,
                           -0.0,
                           1,
                           -5,
                           42.5,
                           0.1,
                           1.0 / 3,
                           1e-7,
                           123456789012345,
                           999999999999999,
                           1e15,
                           1e16,
                           9007199254740993.0,
                           -1e15 + 1,
                           1e20,
                           -123.456,
                           1.797693134862315e308,
                           std::numeric_limits<double>::denorm_min(),
                           std::nan(""),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
  std::vector<std::pair<Labels, double>> samples;
  for (double value : values) samples.push_back({{{"datname", "cafe"}, {"target", "a"}}, value});
  samples.push_back({{{"quote", "say \"hi\""}, {"slash", "C:\\dir\\"}, {"nl", "two\nlines"}}, 1});
  samples.push_back({{{"utf8", "caf\xc3\xa9 \xe2\x82\xac"}, {"empty", ""}}, 2});
  samples.push_back({{}, 3});
  for (Type type : {Type::kGauge, Type::kCounter}) {
    EXPECT_EQ(ByTextWriter("pg_some_metric", type, samples), ByTextSerializer("pg_some_metric", type, samples));
  }
}

// TextSerializer writes these as 1.797693134862316e+308, past the largest double: Prometheus reads that as a range
// error and drops the whole scrape.
TEST(TextTest, FiniteValuesReadBackFinite) {
  for (double value : {std::numeric_limits<double>::max(), std::nextafter(std::numeric_limits<double>::max(), 0.0),
                       1.7976931348623155e308, -std::numeric_limits<double>::max()}) {
    std::string out;
    AppendValue(out, value);
    errno = 0;
    const double read = std::strtod(out.c_str(), nullptr);
    EXPECT_EQ(errno, 0) << out;
    EXPECT_EQ(read, value) << out;
  }
}

TEST(TextTest, EscapesOnlyBackslashQuoteAndNewline) {
  std::string out;
  AppendEscapedLabelValue(out, "a\\b\"c\nd\te");
  EXPECT_EQ(out, "a\\\\b\\\"c\\nd\te");
}

}  // namespace
}  // namespace pgpulse::metrics
