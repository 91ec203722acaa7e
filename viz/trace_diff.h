// Where traces of one scenario part: each trace is reduced to the decisions its stacks made
// (step results, which socket received a packet, drops, accepts, established connections,
// severing, socket errors, closes, a guard), grouped by the step run that caused them (a step
// with `repeat` runs once per repetition; `cause` leads back to it), and the traces are compared
// group by group. `netsim compare` (one scenario under several policies) and
// `netsim check --golden` (a golden trace and the new one) print the differences and write the
// diff page (viz/viewer/diff.*). docs/compare.md is the user's view of it.
// Memory: a DecisionLog holds every decision of its trace, at most kMaxDecisions.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "viz/trace_exporter.h"
#include "viz/trace_writer.h"

namespace netsim {

// How much of a decision is compared. kOutcome (policies): what happened, i.e. the socket, the
// step's result, the drop reason, the error kind; the lookup level, what was shadowed, the ports
// and packets are shown beside it and may differ. kExact (a golden trace and a new one): all of it.
enum class DiffMode : uint8_t { kOutcome, kExact };

struct Decision {
  int64_t seq = 0;
  int64_t t = 0;
  std::string what;    // compared: "deliver server: dns", "send client q -> ok"
  std::string detail;  // shown: "by specific, shadowed any; UDP 10.0.0.100:49152 > 10.0.0.1:53 len 7"
};

// The decisions one step run caused. `step` is "" for what no step caused: the setup at t = 0
// and timers (retransmissions, TIME-WAIT) with no cause in the trace.
struct DecisionGroup {
  std::string step;   // "/steps/3"
  int64_t t = 0;      // when the step ran
  int occurrence = 0; // runs of the same step at the same t, counted from 0
  std::string label;  // "send client q", from the step event
  std::vector<Decision> decisions;
};

class DecisionLog {
 public:
  static constexpr size_t kMaxDecisions = 1'000'000;

  DecisionLog(std::string name, DiffMode mode) : name_(std::move(name)), mode_(mode) {}

  // Every line of the trace in order: the header, the events, the summary.
  void add(const nlohmann::json& line);

  const std::string& name() const { return name_; }
  const nlohmann::json& header() const { return header_; }
  const nlohmann::json* summary() const { return summary_.is_null() ? nullptr : &summary_; }
  const std::vector<DecisionGroup>& groups() const { return groups_; }
  // (pointer, "pass" | "fail") of the `expect` events, in trace order.
  const std::vector<std::pair<std::string, std::string>>& expectations() const { return expectations_; }
  size_t decisions() const { return decisions_; }
  bool truncated() const { return truncated_; }  // past kMaxDecisions: later ones not held
  std::optional<std::string> guard() const { return guard_; }

 private:
  void add_event(const nlohmann::json& e);
  size_t group_for(const nlohmann::json& e, int64_t t);
  void decide(size_t group, const nlohmann::json& e, std::string what, std::string detail);

  std::string name_;
  DiffMode mode_;
  nlohmann::json header_, summary_;
  std::vector<DecisionGroup> groups_;
  std::vector<bool> stepped_;            // per group: its step line has been read
  std::vector<std::pair<std::string, std::string>> expectations_;
  std::optional<std::string> guard_;
  size_t decisions_ = 0;
  bool truncated_ = false;
  uint64_t index_ = 0;                   // events seen
  Recent<int64_t, size_t> group_of_;     // seq -> group, for the `cause` of later events
  int64_t now_ = -1;                     // t of the step runs in `runs_now_`
  std::vector<std::pair<std::string, size_t>> runs_now_;  // (step, group) run at now_
};

// A whole trace into a DecisionLog. Throws TraceReadError ("NAME:LINE: what").
DecisionLog read_decisions(std::istream& in, const std::string& file, const std::string& name,
                           DiffMode mode);

// The lines a run writes, turned into decisions as they come (a TraceOutput of the runner).
class DecisionRecorder : public TraceOutput {
 public:
  explicit DecisionRecorder(DecisionLog& log) : log_(log) {}
  void write(std::string_view bytes) override;

 private:
  DecisionLog& log_;
  std::string line_;
};

// One row of a comparison: the same step run in every trace.
struct DiffRow {
  std::string step;
  int64_t t = 0;
  int occurrence = 0;
  std::string label;
  std::vector<const DecisionGroup*> sides;  // null where that trace has no such step run
  bool differs = false;
  size_t first_difference = 0;  // index of the first decision that differs
};

struct DecisionDiff {
  std::vector<const DecisionLog*> logs;
  std::vector<DiffRow> rows;        // every step run of any trace, in the order they ran
  std::optional<size_t> first;      // the first row that differs
  size_t differing = 0;             // rows that differ
  // (pointer, result per trace, "-" when absent) of expectations whose results differ.
  std::vector<std::pair<std::string, std::vector<std::string>>> expectations;
  bool same() const { return differing == 0 && expectations.empty(); }
};

DecisionDiff diff_decisions(const std::vector<const DecisionLog*>& logs);

// The differences for a terminal: each differing step run with every trace's decisions (at most
// `max_rows` runs), then one line per differing expectation and a closing count.
void print_diff(std::ostream& out, const DecisionDiff& diff, size_t max_rows = 50);

// The first differing decision in one line ("t=10ms /steps/3 remove_address ...: golden sever
// client: conn (address_removed); actual -"), or "" when no decision differs.
std::string first_difference_line(const DecisionDiff& diff);

// The diff page: the traces side by side, step run by step run, the first difference on top.
struct DiffPage {
  std::string title;                 // the scenario's name
  std::string kind;                  // "policies", "golden" or "schedules" (netsim explore)
  std::vector<std::string> viewers;  // per trace: a link to its viewer page ("" for none)
  std::string note;                  // shown under the title (the first differing line, ...)
};
void write_diff_page(std::ostream& out, const DecisionDiff& diff, const DiffPage& page);

}  // namespace netsim
