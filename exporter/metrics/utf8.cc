#include "exporter/metrics/utf8.h"

namespace pgpulse::metrics {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed sequence starting at text[i], or 0 when it is ill-formed; `consumed` is then the
// length of its maximal ill-formed subpart (at least 1), which one U+FFFD replaces.
std::size_t SequenceLength(std::string_view text, std::size_t i, std::size_t& consumed) {
  const auto byte = [&text](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(i);
  consumed = 1;
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte, narrowed for some leads
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= text.size()) return 0;
    const unsigned char next = byte(i + k);
    const bool in_range = k == 1 ? (next >= low && next <= high) : (next >= 0x80 && next <= 0xBF);
    if (!in_range) return 0;
    consumed = k + 1;
  }
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  std::size_t consumed = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {  // the common case, without a call
      ++i;
      continue;
    }
    const auto length = SequenceLength(text, i, consumed);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::size_t ReplaceInvalidUtf8(std::string& text) {
  if (IsValidUtf8(text)) return 0;
  std::string out;
  out.reserve(text.size() + 8);
  std::size_t replaced = 0, consumed = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto length = SequenceLength(text, i, consumed);
    if (length == 0) {
      out += kReplacement;
      ++replaced;
      i += consumed;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  text = std::move(out);
  return replaced;
}

}  // namespace pgpulse::metrics
