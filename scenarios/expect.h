// The expectation matcher: checks a scenario's expectations against the events of
// its trace (scenario-format.md, EXPECTATION) and explains failures packetdrill-style:
// the pointer, what was expected, the count seen, and the closest events with the fields
// that differ. Pure functions over parsed trace events; no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/scenario.h"

namespace netsim::scenario {

struct ExpectationResult {
  std::string pointer;
  bool pass = false;
  uint64_t count = 0;  // matching events (a sequence: complete occurrences)
  // Human-readable, one or more lines, starting with the pointer: what was expected,
  // what was seen, and on failure the closest events or the matching ones.
  std::string detail;
  // Seqs of the matching events (a sequence: the events of each occurrence, in order).
  std::vector<uint64_t> matching_seqs;
};

// Matching rules, per key of `matcher_fields` (every key must match):
// - a plain value matches an equal value (numbers compare by value);
// - an object matches an object whose keys each match, recursively;
// - a list matches an equal list, elementwise; under the key `shadowed` in any order;
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
