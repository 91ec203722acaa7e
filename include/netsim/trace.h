// One record of a running netsim::Simulation's trace, handed to an on_record() callback as the
// simulator makes it: the event a line of the JSONL trace holds (docs/trace-format.md), read
// through accessors. A TraceRecord refers to the simulator's own record and is valid only during
// the callback; copy what you keep. Records arrive in trace order (seq 0, 1, ...) on the thread
// that called run(); the header, the `expect` lines and the summary are not records.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netsim {

class TraceEventView;

class TraceRecord {
 public:
  std::string_view event() const;  // "socket", "step", "tx", "deliver", "drop", ...
  uint64_t seq() const;
  std::chrono::nanoseconds t() const;  // virtual time
  // A top-level string field ("host", "socket", "match", "data", ...); "" when absent.
  std::string field(std::string_view key) const;
  // A top-level integer field ("port", "cause", ...); nullopt when absent.
  std::optional<int64_t> integer(std::string_view key) const;
  // A top-level list of strings ("shadowed", "outranked", "addresses"); empty when absent.
  std::vector<std::string> list(std::string_view key) const;
  // The record as its trace line (no newline): every field, packets included.
  std::string json() const;

 private:
  friend class SimulationAccess;
  explicit TraceRecord(const TraceEventView& view) : view_(view) {}
  const TraceEventView& view_;
};

}  // namespace netsim
