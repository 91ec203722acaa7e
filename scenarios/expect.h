// The expectation matchers: check a scenario's expectations against the events of
// its trace (scenario-format.md, EXPECTATION) and explain failures packetdrill-style:
// the pointer, what was expected, the count seen, and the closest events with the fields
// that differ. Online: an ExpectationMatcher is fed every event as the run emits it
// (typed records, or lines parsed back from a trace) and keeps O(1) state: counts, the
// first matches it will list, and the few closest candidates it will show.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/scenario.h"
#include "viz/trace_fields.h"

namespace netsim::scenario {

struct ExpectationResult {
  std::string pointer;
  bool pass = false;
  uint64_t count = 0;  // matching events (a sequence: complete occurrences)
  // Human-readable, one or more lines, starting with the pointer: what was expected,
  // what was seen, and on failure the closest events or the matching ones.
  std::string detail;
  // Seqs of the first kMatchesListed matching events (a sequence: the events of each
  // complete occurrence, in order).
  std::vector<uint64_t> matching_seqs;
};

// How many matching events a result lists (the detail says how many more there were).
inline constexpr size_t kMatchesListed = 20;

// One expectation, checked online. Requires: `e` outlives the matcher.
class ExpectationMatcher {
 public:
  explicit ExpectationMatcher(const Expectation& e);
  ~ExpectationMatcher();
  ExpectationMatcher(ExpectationMatcher&&) noexcept;
  // Events in trace order (the `expect` lines and the summary excluded).
  void on_event(const TraceEventView& event);
  // The verdict on the events seen so far.
  ExpectationResult result() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Matching rules, per key of `matcher_fields` (every key must match):
// - a plain value matches an equal value (numbers compare by value);
// - an object matches an object whose keys each match, recursively;
// - a list matches an equal list, elementwise; under the keys `shadowed` and `outranked` in
//   any order;
// - a string "ADDR:*" ("10.0.0.1:*", "[fd00::1]:*") matches ADDR with any port, or ADDR
//   alone (ICMP packets carry no port).
bool event_matches(const nlohmann::json& matcher_fields, const nlohmann::json& event);

// Counts the events in the window [after, before) matched by `e.match`, or the
// non-overlapping occurrences of `e.sequence` (each element met strictly after the
// previous one's event, earliest match first), and applies the count rule: `count`
// exact, else `min` / `max`, else at least one.
ExpectationResult check_expectation(const Expectation& e,
                                    const std::vector<nlohmann::json>& events);

// All expectations of a scenario, in order.
std::vector<ExpectationResult> check_expectations(const std::vector<Expectation>& expectations,
                                                  const std::vector<nlohmann::json>& events);

// The event kinds the expectations can match, sorted and unique; nullopt when some
// matcher has no plain string `event` (then every event is needed). Checking against only
// these kinds gives the same pass/fail and counts; closest events come from them alone.
std::optional<std::vector<std::string>> referenced_event_kinds(
    const std::vector<Expectation>& expectations);

}  // namespace netsim::scenario
