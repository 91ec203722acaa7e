// A small RFC 8259 JSON parser that builds an nlohmann::json value and remembers
// where every value (and every object key) starts in the text, by JSON Pointer.
// It rejects duplicate keys and reports syntax errors with line and column; it
// never throws, and nesting deeper than kMaxJsonDepth is an error, not a crash.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace netsim::scenario {

inline constexpr int kMaxJsonDepth = 256;

struct SourcePos {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based, in bytes
};

struct JsonSourceError {
  SourcePos pos;
  std::string pointer;  // where the error is ("" = document root)
  std::string message;
};

struct JsonSource {
  nlohmann::json value;  // discarded when `errors` holds a syntax error
  std::map<std::string, SourcePos> value_pos;  // JSON Pointer -> first byte of the value
  std::map<std::string, SourcePos> key_pos;    // JSON Pointer of a member -> its key
  // The literal of every number that is not an exact integer ("1e12", "0.25", "1e400",
  // "18446744073709551616"), so messages show the number as written.
  std::map<std::string, std::string> number_text;
  std::vector<JsonSourceError> errors;         // syntax errors (at most one) and duplicate keys
  bool syntax_ok = false;
};

JsonSource parse_json_source(std::string_view text);

// Appends `token` to `pointer` escaped per RFC 6901 ("~" -> "~0", "/" -> "~1").
std::string pointer_append(const std::string& pointer, std::string_view token);
std::string pointer_append(const std::string& pointer, size_t index);

}  // namespace netsim::scenario
