// What a netsim::Simulation expects of its trace (docs/scenario-format.md, EXPECTATION): a
// Match names an event kind and fields the event must have; a Count says how many matching
// events (or occurrences of a sequence) a time window must hold. Plain values; Simulation's
// expect() checks them against the event kinds and hosts it knows.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace netsim {

// Matches a trace event of kind `event` ("deliver", "drop", "step", ...: docs/trace-format.md)
// whose fields equal every value given: a string ("ADDR:*" matches an address with any port), a
// number, or a list of strings (`shadowed` and `outranked` in any order).
class Match {
 public:
  using Value = std::variant<std::string, int64_t, std::vector<std::string>>;

  explicit Match(std::string event) : event_(std::move(event)) {}
  Match& where(std::string key, std::string value) { return add(std::move(key), std::move(value)); }
  Match& where(std::string key, const char* value) { return add(std::move(key), std::string(value)); }
  template <std::integral T>
  Match& where(std::string key, T value) { return add(std::move(key), static_cast<int64_t>(value)); }
  Match& where_list(std::string key, std::vector<std::string> values) {
    return add(std::move(key), std::move(values));
  }

  const std::string& event() const { return event_; }
  const std::vector<std::pair<std::string, Value>>& fields() const { return fields_; }

 private:
  // Builds the value in place: moving a Value temporary makes GCC 12 warn (-Wmaybe-uninitialized).
  template <typename T>
  Match& add(std::string key, T&& value) {
    fields_.emplace_back(std::piecewise_construct, std::forward_as_tuple(std::move(key)),
                         std::forward_as_tuple(std::in_place_type<std::decay_t<T>>, std::forward<T>(value)));
    return *this;
  }
  std::string event_;
  std::vector<std::pair<std::string, Value>> fields_;
};

// How many: `exactly`, else at least `min` and at most `max`, else at least one; counted
// among events at `after` <= t < `before`. Never: {.exactly = 0}.
struct Count {
  std::optional<uint64_t> exactly{};
  std::optional<uint64_t> min{}, max{};
  std::optional<std::chrono::nanoseconds> after{}, before{};
};

}  // namespace netsim
