#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <string>
#include <vector>

namespace pgpulse::metrics {

using Labels = std::map<std::string, std::string>;

enum class Type { kGauge, kCounter };

// One sample with its family's metadata, as collectors produce them.
struct Sample {
  std::string name;
  std::string help;
  Type type = Type::kGauge;
  Labels labels;
  double value = 0;
};

// Collects the samples of one scrape into metric families (one per name, whatever the order samples arrive in)
// and renders them with prometheus-cpp's TextSerializer, which escapes every label value.
class Exposition {
 public:
  void Gauge(const std::string& name, const std::string& help, const Labels& labels, double value);
  void Counter(const std::string& name, const std::string& help, const Labels& labels, double value);
  // Adds `extra` labels (the target's) to the sample's own.
  void Add(const Sample& sample, const Labels& extra);

  std::string Serialize() const;
  const std::vector<prometheus::MetricFamily>& families() const { return families_; }

 private:
  prometheus::MetricFamily& Family(const std::string& name, const std::string& help, prometheus::MetricType type);

  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, std::size_t> index_;
};

// The content type of the text format that TextSerializer writes.
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace pgpulse::metrics
