#include "scenarios/json_source.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

namespace netsim::scenario {

std::string pointer_append(const std::string& pointer, std::string_view token) {
  std::string out = pointer;
  out += '/';
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string pointer_append(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

namespace {

// Thrown only inside this file, to unwind to parse_json_source on a syntax error.
struct SyntaxError {
  SourcePos pos;
  std::string message;
};

std::string describe_byte(unsigned char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("`") + static_cast<char>(c) + "`";
  static const char* kHex = "0123456789abcdef";
  return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 15];
}

class Parser {
 public:
  Parser(std::string_view text, JsonSource& out) : text_(text), out_(out) {}

  void parse_document() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") i_ = line_start_ = 3;  // UTF-8 byte order mark
    skip_ws();
    if (at_end()) fail("empty document: expected a JSON value");
    out_.value = parse_value("", 0);
    skip_ws();
    if (!at_end()) fail("unexpected " + describe_byte(peek()) + " after the JSON value");
  }

  SourcePos pos() const { return SourcePos{line_, static_cast<int>(i_ - line_start_) + 1}; }

 private:
  bool at_end() const { return i_ >= text_.size(); }
  unsigned char peek() const { return static_cast<unsigned char>(text_[i_]); }

  [[noreturn]] void fail(std::string message) { throw SyntaxError{pos(), std::move(message)}; }
  [[noreturn]] void fail_at(SourcePos p, std::string message) {
    throw SyntaxError{p, std::move(message)};
  }

  void advance() {
    if (text_[i_] == '\n') {
      ++line_;
      line_start_ = i_ + 1;
    }
    ++i_;
  }

  void skip_ws() {
    while (!at_end()) {
      char c = text_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') advance();
      else break;
    }
  }

  void expect_literal(std::string_view word) {
    SourcePos start = pos();
    if (text_.substr(i_, word.size()) != word) fail_at(start, "invalid literal: expected a JSON value");
    i_ += word.size();
    if (!at_end() && (std::isalnum(peek()) || peek() == '_')) fail_at(start, "invalid literal");
  }

  nlohmann::json parse_value(const std::string& pointer, int depth) {
    if (depth > kMaxJsonDepth)
      fail("nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    skip_ws();
    if (at_end()) fail("unexpected end of input: expected a JSON value");
    out_.value_pos[pointer] = pos();
    unsigned char c = peek();
    switch (c) {
      case '{': return parse_object(pointer, depth);
      case '[': return parse_array(pointer, depth);
      case '"': return parse_string();
      case 't': expect_literal("true"); return true;
      case 'f': expect_literal("false"); return false;
      case 'n': expect_literal("null"); return nullptr;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(pointer);
        fail("unexpected " + describe_byte(c) + ": expected a JSON value");
    }
  }

  nlohmann::json parse_object(const std::string& pointer, int depth) {
    nlohmann::json obj = nlohmann::json::object();
    std::map<std::string, SourcePos> seen;
    advance();  // '{'
    skip_ws();
    if (!at_end() && peek() == '}') {
      advance();
      return obj;
    }
    while (true) {
      skip_ws();
      if (at_end()) fail("unexpected end of input: expected an object key");
      if (peek() != '"') fail("unexpected " + describe_byte(peek()) + ": expected an object key");
      SourcePos key_at = pos();
      std::string key = parse_string();
      std::string member = pointer_append(pointer, key);
      auto [it, inserted] = seen.emplace(key, key_at);
      if (!inserted) {
        out_.errors.push_back(JsonSourceError{
            key_at, member,
            "duplicate key `" + key + "` (first at line " + std::to_string(it->second.line) +
                ", column " + std::to_string(it->second.column) + ")"});
      }
      skip_ws();
      if (at_end()) fail("unexpected end of input: expected `:`");
      if (peek() != ':') fail("unexpected " + describe_byte(peek()) + ": expected `:`");
      advance();
      if (inserted) out_.key_pos[member] = key_at;
      nlohmann::json v = parse_value(member, depth + 1);
      if (inserted) obj[key] = std::move(v);  // the first occurrence wins
      skip_ws();
      if (at_end()) fail("unexpected end of input: expected `,` or `}`");
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == '}') {
        advance();
        return obj;
      }
      fail("unexpected " + describe_byte(peek()) + ": expected `,` or `}`");
    }
  }

  nlohmann::json parse_array(const std::string& pointer, int depth) {
    nlohmann::json arr = nlohmann::json::array();
    advance();  // '['
    skip_ws();
    if (!at_end() && peek() == ']') {
      advance();
      return arr;
    }
    while (true) {
      arr.push_back(parse_value(pointer_append(pointer, arr.size()), depth + 1));
      skip_ws();
      if (at_end()) fail("unexpected end of input: expected `,` or `]`");
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == ']') {
        advance();
        return arr;
      }
      fail("unexpected " + describe_byte(peek()) + ": expected `,` or `]`");
    }
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  uint32_t parse_hex4() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      if (at_end()) fail("unexpected end of input in a \\u escape");
      unsigned char c = peek();
      uint32_t d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else fail("invalid \\u escape: expected four hex digits");
      v = v * 16 + d;
      ++i_;
    }
    return v;
  }

  // Checks one UTF-8 sequence starting at i_ (a byte >= 0x80) and copies it.
  void copy_utf8(std::string& out) {
    unsigned char c = peek();
    int extra;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) { extra = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { extra = 2; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { extra = 3; cp = c & 0x07; }
    else fail("invalid UTF-8 (" + describe_byte(c) + ") in a string");
    for (int k = 1; k <= extra; ++k) {
      if (i_ + k >= text_.size()) fail("invalid UTF-8: truncated sequence");
      unsigned char cc = static_cast<unsigned char>(text_[i_ + k]);
      if ((cc & 0xc0) != 0x80) fail("invalid UTF-8 (" + describe_byte(c) + ") in a string");
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      fail("invalid UTF-8 (overlong or surrogate) in a string");
    out.append(text_.substr(i_, extra + 1));
    i_ += extra + 1;
  }

  std::string parse_string() {
    advance();  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("unexpected end of input inside a string");
      unsigned char c = peek();
      if (c == '"') {
        ++i_;
        return out;
      }
      if (c < 0x20) fail("control character " + describe_byte(c) + " inside a string (use an escape)");
      if (c >= 0x80) {
        copy_utf8(out);
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        ++i_;
        continue;
      }
      ++i_;
      if (at_end()) fail("unexpected end of input inside a string");
      char e = text_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = parse_hex4();
          if (cp >= 0xdc00 && cp <= 0xdfff) fail("lone low surrogate in a \\u escape");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (text_.substr(i_, 2) != "\\u") fail("high surrogate not followed by a low surrogate");
            i_ += 2;
            uint32_t lo = parse_hex4();
            if (lo < 0xdc00 || lo > 0xdfff) fail("high surrogate not followed by a low surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --i_;
          fail("invalid escape " + describe_byte(static_cast<unsigned char>(e)) + " in a string");
      }
    }
  }

  nlohmann::json parse_number(const std::string& pointer) {
    SourcePos start = pos();
    size_t begin = i_;
    bool negative = false;
    bool integral = true;
    if (peek() == '-') {
      negative = true;
      ++i_;
    }
    auto digits = [&]() {
      size_t n = 0;
      while (!at_end() && peek() >= '0' && peek() <= '9') {
        ++i_;
        ++n;
      }
      return n;
    };
    if (at_end() || !(peek() >= '0' && peek() <= '9')) fail("invalid number: expected a digit");
    if (peek() == '0') {
      ++i_;
      if (!at_end() && peek() >= '0' && peek() <= '9') fail_at(start, "invalid number: leading zero");
    } else {
      digits();
    }
    if (!at_end() && peek() == '.') {
      integral = false;
      ++i_;
      if (digits() == 0) fail("invalid number: expected a digit after `.`");
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      integral = false;
      ++i_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++i_;
      if (digits() == 0) fail("invalid number: expected a digit in the exponent");
    }
    const char* first = text_.data() + begin;
    const char* last = text_.data() + i_;
    if (integral) {
      if (negative) {
        int64_t v = 0;
        auto [p, ec] = std::from_chars(first, last, v);
        if (ec == std::errc() && p == last) return v;
      } else {
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(first, last, v);
        if (ec == std::errc() && p == last) return v;
      }
    }
    double d = 0;
    const std::string_view literal(first, static_cast<size_t>(last - first));
    out_.number_text[pointer] = std::string(literal.substr(0, 40));
    auto [p, ec] = std::from_chars(first, last, d);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && !std::isfinite(d))) {
      // Overflow (1e999) or underflow (1e-999): keep a finite stand-in, report it.
      bool tiny = literal.find("e-") != std::string_view::npos ||
                  literal.find("E-") != std::string_view::npos;
      if (!tiny) {
        out_.errors.push_back(JsonSourceError{
            start, pointer,
            "number " + std::string(literal.substr(0, 40)) +
                " is out of range (JSON numbers are read as doubles: at most about 1.8e308)"});
        d = negative ? std::numeric_limits<double>::lowest() : std::numeric_limits<double>::max();
      } else {
        d = 0.0;
      }
    } else if (ec != std::errc()) {
      fail_at(start, "invalid number");
    }
    return d;
  }

  std::string_view text_;
  JsonSource& out_;
  size_t i_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace

JsonSource parse_json_source(std::string_view text) {
  JsonSource out;
  Parser parser(text, out);
  try {
    parser.parse_document();
    out.syntax_ok = true;
  } catch (const SyntaxError& e) {
    out.value = nlohmann::json(nlohmann::json::value_t::discarded);
    out.errors.push_back(JsonSourceError{e.pos, "", "syntax error: " + e.message});
    out.syntax_ok = false;
  }
  return out;
}

}  // namespace netsim::scenario
