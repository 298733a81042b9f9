#include "exporter/metrics/exposition.h"

#include <prometheus/text_serializer.h>

#include <sstream>
#include <stdexcept>

#include "exporter/metrics/utf8.h"

namespace pgpulse::metrics {
namespace {

prometheus::ClientMetric NewClientMetric(const Labels& labels) {
  prometheus::ClientMetric metric;
  for (const auto& [name, value] : labels) {
    // Label values come from config, from the server's ParameterStatus and from errors: make sure of UTF-8 here too.
    metric.label.push_back({name, value});
    ReplaceInvalidUtf8(metric.label.back().value);
  }
  return metric;
}

}  // namespace

prometheus::MetricFamily& Exposition::Family(const std::string& name, const std::string& help,
                                             prometheus::MetricType type) {
  auto [it, inserted] = index_.emplace(name, families_.size());
  if (inserted) {
    families_.push_back(prometheus::MetricFamily{name, help, type, {}});
  } else if (families_[it->second].type != type) {
    // Two sources disagreeing on a family's type would produce an exposition Prometheus rejects.
    throw std::logic_error("metric " + name + " used with two types");
  }
  return families_[it->second];
}

void Exposition::Gauge(const std::string& name, const std::string& help, const Labels& labels, double value) {
  auto sample = NewClientMetric(labels);
  sample.gauge.value = value;
  Family(name, help, prometheus::MetricType::Gauge).metric.push_back(std::move(sample));
}

void Exposition::Counter(const std::string& name, const std::string& help, const Labels& labels, double value) {
  auto sample = NewClientMetric(labels);
  sample.counter.value = value;
  Family(name, help, prometheus::MetricType::Counter).metric.push_back(std::move(sample));
}

void Exposition::Add(const Sample& sample, const Labels& extra) {
  Labels labels = sample.labels;
  labels.insert(extra.begin(), extra.end());
  if (sample.type == Type::kCounter) {
    Counter(sample.name, sample.help, labels, sample.value);
  } else {
    Gauge(sample.name, sample.help, labels, sample.value);
  }
}

std::string Exposition::Serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families_);
  return out.str();
}

}  // namespace pgpulse::metrics
