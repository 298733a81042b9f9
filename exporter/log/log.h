#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace pgpulse::log {

enum class Format { kLogfmt, kJson };
enum class Level { kDebug, kInfo, kWarn, kError };

// Parses "debug|info|warn|error" and "logfmt|json"; throws std::invalid_argument naming the bad value.
Level ParseLevel(const std::string& text);
Format ParseFormat(const std::string& text);

// Installs the process logger on stderr. Safe to call again (tests, reload).
void Init(Level level, Format format);

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// Structured log lines: a message and key/value fields, rendered as one logfmt or JSON line. Callers pass DSNs
// only through config::RedactDsn and never pass a password.
void Debug(std::string_view message, Fields fields = {});
void Info(std::string_view message, Fields fields = {});
void Warn(std::string_view message, Fields fields = {});
void Error(std::string_view message, Fields fields = {});

// `text` as a JSON string, quoted and escaped (the JSON log format's rule), for other JSON pgpulse writes.
std::string JsonQuote(std::string_view text);

// The rendering, separate from output so it can be tested: "ts=... level=info msg=\"...\" key=value".
std::string FormatLine(Format format, std::string_view timestamp, Level level, std::string_view message, Fields fields);

}  // namespace pgpulse::log
