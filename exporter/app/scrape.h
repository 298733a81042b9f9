#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <vector>

#include "exporter/app/own_series.h"
#include "exporter/http/server.h"
#include "exporter/targets/target.h"

namespace pgpulse::app {

// One scrape of /metrics (every target) or /probe (one): plans its deadline from Prometheus' timeout header,
// starts or joins each target's refresh (singleflight: concurrent scrapes share one), waits for them until the
// deadline, and answers with pgpulse's own series followed by the collectors' cached text.
class Scrape {
 public:
  explicit Scrape(ReloadStatus reload_status) : reload_status_(reload_status) {}
  boost::asio::awaitable<http::Response> Answer(const http::Request& request,
                                                std::vector<std::shared_ptr<targets::Target>> targets);

 private:
  ReloadStatus reload_status_;
};

}  // namespace pgpulse::app
