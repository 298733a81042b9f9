#include "exporter/config/json_object.h"

#include <cstdint>

namespace pgpulse::config {
namespace {

// A recursive-descent reader over the text. Nesting is bounded, so hostile input cannot exhaust the stack.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  std::map<std::string, std::optional<std::string>> Object() {
    SkipSpace();
    if (!Eat('{')) Fail("expected a JSON object");
    std::map<std::string, std::optional<std::string>> members;
    SkipSpace();
    if (Eat('}')) return Finish(std::move(members));
    while (true) {
      SkipSpace();
      if (Peek() != '"') Fail("expected a member name");
      std::string key = String();
      SkipSpace();
      if (!Eat(':')) Fail("expected ':'");
      SkipSpace();
      members[std::move(key)] = Peek() == '"' ? std::optional<std::string>(String()) : (SkipValue(0), std::nullopt);
      SkipSpace();
      if (Eat('}')) return Finish(std::move(members));
      if (!Eat(',')) Fail("expected ',' or '}'");
    }
  }

 private:
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void Fail(const std::string& message) const { throw JsonError(at_, message); }
  char Peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c || at_ >= text_.size()) return false;
    ++at_;
    return true;
  }
  void SkipSpace() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }
  std::map<std::string, std::optional<std::string>> Finish(std::map<std::string, std::optional<std::string>> members) {
    SkipSpace();
    if (at_ != text_.size()) Fail("unexpected text after the object");
    return members;
  }

  unsigned Hex4() {
    if (at_ + 4 > text_.size()) Fail("short \\u escape");
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[at_++];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        Fail("bad \\u escape");
      }
    }
    return value;
  }

  static void AppendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string String() {
    ++at_;  // the opening quote
    std::string out;
    while (true) {
      if (at_ >= text_.size()) Fail("unterminated string");
      const char c = text_[at_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) Fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) Fail("unterminated string");
      switch (text_[at_++]) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = Hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair encodes one code point beyond U+FFFF
            if (!(Eat('\\') && Eat('u'))) Fail("unpaired surrogate");
            const std::uint32_t low = Hex4();
            if (low < 0xDC00 || low > 0xDFFF) Fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            Fail("unpaired surrogate");
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          Fail("bad escape");
      }
    }
  }

  void Literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) Fail("unexpected character");
    at_ += word.size();
  }

  void Number() {
    Eat('-');
    if (Eat('0')) {
      // no leading zeros
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9') ++at_;
    } else {
      Fail("bad number");
    }
    if (Eat('.')) {
      if (!(Peek() >= '0' && Peek() <= '9')) Fail("bad number");
      while (Peek() >= '0' && Peek() <= '9') ++at_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++at_;
      if (Peek() == '+' || Peek() == '-') ++at_;
      if (!(Peek() >= '0' && Peek() <= '9')) Fail("bad number");
      while (Peek() >= '0' && Peek() <= '9') ++at_;
    }
  }

  void SkipValue(int depth) {
    if (depth > kMaxDepth) Fail("nested too deeply");
    SkipSpace();
    const char c = Peek();
    if (c == '"') {
      String();
    } else if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++at_;
      SkipSpace();
      if (Eat(close)) return;
      while (true) {
        SkipSpace();
        if (c == '{') {
          if (Peek() != '"') Fail("expected a member name");
          String();
          SkipSpace();
          if (!Eat(':')) Fail("expected ':'");
        }
        SkipValue(depth + 1);
        SkipSpace();
        if (Eat(close)) return;
        if (!Eat(',')) Fail("expected ',' or a closing bracket");
      }
    } else if (c == 't') {
      Literal("true");
    } else if (c == 'f') {
      Literal("false");
    } else if (c == 'n') {
      Literal("null");
    } else {
      Number();
    }
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace

std::map<std::string, std::optional<std::string>> ParseJsonObject(std::string_view text) {
  return Reader(text).Object();
}

}  // namespace pgpulse::config
