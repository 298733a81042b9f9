// The server's TLS context, rebuilt when the certificate, key or client CA files change on disk, so a rotated
// certificate is served from the next connection on without a restart.
#pragma once

#include <sys/types.h>

#include <boost/asio/ssl/context.hpp>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "exporter/http/web_config.h"

namespace pgpulse::http {

class TlsContextSource {
 public:
  // Builds the first context; throws WebConfigError (naming the file and key) when it cannot, so that pgpulse
  // refuses to start with a certificate it cannot serve.
  explicit TlsContextSource(TlsServerConfig config);

  // The context for a new connection. Checks the files' identity (a few stat calls, no reading unless they
  // changed): after a change it builds a new context; a broken new set keeps the last good one and logs once.
  std::shared_ptr<boost::asio::ssl::context> Current();

 private:
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
    bool operator==(const Stamp& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  std::vector<Stamp> Stamps() const;
  std::shared_ptr<boost::asio::ssl::context> Build() const;  // throws WebConfigError

  const TlsServerConfig config_;
  std::shared_ptr<boost::asio::ssl::context> current_;
  std::vector<Stamp> stamps_;         // of the files current_ was built from
  std::vector<Stamp> failed_stamps_;  // of the last set that failed, so its error is logged once
};

}  // namespace pgpulse::http
