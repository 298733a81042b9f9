#include "exporter/log/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace pgpulse::log {
namespace {

Format g_format = Format::kLogfmt;

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Length of the well-formed UTF-8 sequence that starts `text` (not empty), or 0 when it is not one.
std::size_t Utf8SequenceLength(std::string_view text) {
  const auto byte = [&text](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the range of the second byte (Unicode's table 3-7)
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return length;
}

// Values may quote what PostgreSQL sends (a role or database name), which need not be UTF-8: a byte that is not
// part of a well-formed sequence is written as U+FFFD, so that a JSON line stays JSON and a logfmt line valid text.
void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const std::size_t length = Utf8SequenceLength(text.substr(i));
      if (length == 0) {
        out += "\\ufffd";
      } else {
        out.append(text.substr(i, length));
        i += length - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// logfmt values are quoted when they hold spaces, quotes, '=' or control characters; otherwise bare.
void AppendLogfmtValue(std::string& out, std::string_view text) {
  bool plain = !text.empty();
  for (char c : text) {
    // Bytes above ASCII are quoted too, so that one that is not UTF-8 goes through AppendJsonString's repair.
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) >= 0x80) {
      plain = false;
    }
  }
  if (plain) {
    out += text;
  } else {
    AppendJsonString(out, text);
  }
}

std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf;
}

bool g_initialized = false;

void Write(Level level, std::string_view message, Fields fields) {
  // Code that logs before main() configured logging (tests, mostly) still gets pgpulse's line format.
  if (!g_initialized) Init(Level::kInfo, Format::kLogfmt);
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(ToSpdlog(level))) return;
  logger->log(ToSpdlog(level), "{}", FormatLine(g_format, Timestamp(), level, message, fields));
}

}  // namespace

std::string JsonQuote(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

Level ParseLevel(const std::string& text) {
  for (Level level : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == LevelName(level)) return level;
  }
  throw std::invalid_argument("--log.level: unknown level \"" + text + "\" (debug, info, warn, error)");
}

Format ParseFormat(const std::string& text) {
  if (text == "logfmt") return Format::kLogfmt;
  if (text == "json") return Format::kJson;
  throw std::invalid_argument("--log.format: unknown format \"" + text + "\" (logfmt, json)");
}

void Init(Level level, Format format) {
  g_initialized = true;
  g_format = format;
  auto logger = std::make_shared<spdlog::logger>("pgpulse", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");  // the line is fully rendered by FormatLine
  logger->set_level(ToSpdlog(level));
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
}

std::string FormatLine(Format format, std::string_view timestamp, Level level, std::string_view message,
                       Fields fields) {
  std::string out;
  if (format == Format::kJson) {
    out += "{\"ts\":";
    AppendJsonString(out, timestamp);
    out += ",\"level\":";
    AppendJsonString(out, LevelName(level));
    out += ",\"msg\":";
    AppendJsonString(out, message);
    for (const auto& [key, value] : fields) {
      out += ',';
      AppendJsonString(out, key);
      out += ':';
      AppendJsonString(out, value);
    }
    out += '}';
    return out;
  }
  out += "ts=";
  out += timestamp;
  out += " level=";
  out += LevelName(level);
  out += " msg=";
  AppendLogfmtValue(out, message);
  for (const auto& [key, value] : fields) {
    out += ' ';
    out += key;
    out += '=';
    AppendLogfmtValue(out, value);
  }
  return out;
}

void Debug(std::string_view message, Fields fields) { Write(Level::kDebug, message, fields); }
void Info(std::string_view message, Fields fields) { Write(Level::kInfo, message, fields); }
void Warn(std::string_view message, Fields fields) { Write(Level::kWarn, message, fields); }
void Error(std::string_view message, Fields fields) { Write(Level::kError, message, fields); }

}  // namespace pgpulse::log
