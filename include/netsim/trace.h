// What a netsim::Simulation reports while it runs: each line of its trace (docs/trace-format.md,
// netsim-trace/1) as a TraceEvent handed to a callback, and the RunReport of the finished run.
// A TraceEvent's views are valid only during the callback that receives it; copy what you keep.
// Events arrive in trace order (header first, then `seq` 0, 1, ..., the summary last), on the
// thread that called run().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netsim {

struct TraceEvent {
  std::string_view event;   // "header", "step", "tx", "deliver", "drop", ..., "expect", "summary"
  uint64_t seq = 0;         // from 0; also 0 for the header and the summary, which have none
  int64_t t_ns = 0;         // virtual time in nanoseconds
  std::string_view host;    // "" when the event has none
  std::string_view socket;  // the socket's name ("" when none)
  std::string_view match;   // deliver: the demux rule ("specific", "wildcard", ...), else ""
  std::string_view data;    // deliver/receive: the payload as text when it was given as text, else ""
  std::vector<std::string_view> shadowed;  // deliver: the broader listeners it shadowed
  std::string_view line;    // the whole JSON object, as the trace file has it (no newline)
};

// The outcome of Simulation::run(), as `netsim run` reports it.
struct RunReport {
  bool passed = false;  // every step and expectation held
  int exit_code = 0;    // `netsim run`'s: 0 all held, 1 some step or expectation failed
  uint64_t steps_passed = 0, steps_failed = 0;
  uint64_t expectations_passed = 0, expectations_failed = 0;
  std::vector<std::string> failures;  // one readable report per failed step or expectation
  std::optional<std::string> guard;   // the resource guard that stopped the run, if one did
  std::string fingerprint;            // SHA-256 of the trace ("" when no trace sink was attached)
  uint64_t trace_events = 0;          // lines with a seq (seq 0 .. trace_events - 1)
  int64_t end_ns = 0;                 // virtual time at the end
};

}  // namespace netsim
