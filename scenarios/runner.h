// Runs one typed scenario: builds the World, plays the steps at their virtual
// times, checks each step's result and then the expectations against the
// trace, and returns the trace with a readable report. Resource guards (events,
// virtual time, packets in flight) stop a runaway scenario with a clear message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/scenario.h"
#include "viz/trace_writer.h"

namespace netsim::scenario {

// Which events the trace keeps. kAll (the default) is the full trace; the others keep
// fewer lines (and the stack skips building records nobody keeps), always including every
// kind the scenario's expectations match, so pass/fail is the same; the trace is then a
// filtered one (its seqs, causes and fingerprint differ; a pinned fingerprint is not checked).
enum class TraceLevel : uint8_t {
  kAll,      // every event
  kSockets,  // no per-hop packet events (tx, rx, forward)
  kNone,     // only the kinds the expectations need
};

struct RunOptions {
  std::optional<uint64_t> seed;             // overrides the scenario's seed
  uint64_t max_events = 200'000'000;        // guard: events executed
  SimTime max_time = SimTime{3600LL * 1000000000LL};  // guard without `until`: one virtual hour
  uint64_t max_in_flight = 1'000'000;       // guard: packets queued or on links at once
  TraceLevel trace_level = TraceLevel::kAll;
  bool stats = false;                       // fill RunResult::stats (and measure UDP latency)
  // Cap on the repetitions of one `send` repeat or `ping` step (the fuzzer's budget);
  // repetitions past the cap are not scheduled. Independently of it, repetitions that
  // could never run (after the stop time, or beyond the event guard) are not scheduled.
  uint32_t max_repeat = UINT32_MAX;
  // A scenario's `limits` replace the three guards above; with this set they can only
  // lower them (the fuzzer's budget is a ceiling).
  bool cap_scenario_limits = false;
  // Where the JSONL trace goes as it is made (null: nowhere). A written trace carries
  // its fingerprint; without an output the fingerprint is computed only when asked for
  // here or pinned by the scenario, and the lines nobody reads are never rendered.
  TraceOutput* trace_output = nullptr;
  bool fingerprint = false;
  // Orders the ties (events ready at one instant) when set (`run --schedule`, `explore`);
  // null: the default order. Requires: outlives the run.
  TieBreaker* tie_breaker = nullptr;
  // Also sees every kept event as it is emitted, after the expectation matchers (null: none;
  // the library's record callbacks). Requires: outlives the run.
  TraceObserver* observer = nullptr;
};

struct RunResult {
  int exit_code = 0;        // 0 all held, 1 some step or expectation failed, 4 internal error
  std::string fingerprint;  // empty when not computed (RunOptions::fingerprint)
  uint64_t events = 0;      // simulator events executed
  uint64_t trace_events = 0;
  SimTime end{};
  uint64_t steps_passed = 0, steps_failed = 0;
  uint64_t expectations_passed = 0, expectations_failed = 0;
  std::vector<std::string> failures;  // one readable report per failed step or expectation
  std::vector<std::pair<std::string, bool>> expectations;  // (pointer, held), in file order
  std::vector<std::string> notes;     // what the run did not check, and why (never a failure)
  std::optional<std::string> guard;   // the resource guard that stopped the run, if any
  double loop_seconds = 0;            // wall time spent running events
  // With RunOptions::stats: counters as (key, value), in a fixed order (`netsim run --stats`).
  std::vector<std::pair<std::string, int64_t>> stats;
};

RunResult run_scenario(const Scenario& scenario, const RunOptions& options = {});

}  // namespace netsim::scenario
