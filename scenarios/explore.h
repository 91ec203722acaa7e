// `netsim explore FILE`: runs a scenario under other orders of its ties (events ready at
// one instant) and, with --jitter, under nearby link latencies and step times, and reports
// which expectations held in every schedule, the smallest breaking schedule (a string
// `netsim run --schedule` replays) and where it first departs from the default run; with
// --out, the diff page of the two runs. The search is breadth-first by reorderings, pruned by
// the reduction below (Dependence); a shard (`--shard K/N`) runs its share and `netsim merge`
// prints the one-machine table. docs/explore.md states what is explored, why the pruning is
// sound, and the limits.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "scenarios/results_file.h"
#include "scenarios/scenario.h"
#include "scenarios/shard.h"
#include "sim/event_loop.h"
#include "sim/schedule.h"

namespace netsim::scenario {

// Which ready events may not commute. Events on different hosts commute unless one can
// reach the other within the same instant or both draw from one random stream: hosts
// joined by a link with neither latency nor bandwidth (a packet sent arrives at once)
// or with loss (each transmit takes the link's next loss draw) are one group, closed
// transitively. An event on no host (a network-wide step, an untagged event) depends
// on every event.
class Dependence {
 public:
  explicit Dependence(const Scenario& s);
  bool dependent(EventTag a, EventTag b) const;

 private:
  std::vector<uint32_t> group_;  // per host index
};

// The picks worth trying at a tie: index i >= 1 when some earlier ready event depends on
// ready[i] (moving ready[i] ahead of events that all commute with it gives a run equivalent
// to the default one), and ready[i] is not a step behind another step (steps keep their
// file order among themselves; they lead every tie they are in).
std::vector<uint32_t> reordering_picks(const Dependence& d, std::span<const EventTag> ready);

// Moves each step's time and each link's latency by a draw in [-bound, +bound] ns (clamped
// at 0), one draw per step then one per link in file order, from the scenario's seed and
// `draw`. The scenario's pinned fingerprint no longer applies and is dropped.
void apply_jitter(Scenario& s, JitterDraw j);

// The search: the default schedule, then every schedule with one reordering (each tie of
// the default run in order, each pick the reduction keeps in order), then two (one more
// reordering at a later tie of each one-reordering run, in the order those ran), up to
// `depth`; then, with a jitter bound, `draws` jittered runs in the default order. At most
// `max_runs` schedules in all; a run's verdicts do not depend on `jobs`.
// Schedule i (counted in that order) is shard.owns(i)'s to tally. A shard also runs every
// schedule of the levels above the last one, and the default: their runs say which schedules
// come next, so every shard lays out the same search. Sharding divides the last level (most
// of the search) and the jittered draws.
struct SearchSettings {
  std::optional<uint64_t> seed;
  uint64_t max_runs = 1000;
  uint32_t depth = 2;
  std::optional<Duration> jitter;
  uint32_t draws = 16;
  unsigned jobs = 1;
  Shard shard;
};

// What a search laid out and found. The layout (schedules and the counts below them) is the
// whole search's, the same in every shard; the verdicts are of the schedules this shard owns.
struct SearchResult {
  std::vector<Schedule> schedules;  // every schedule of the search, in order
  uint64_t default_ties = 0;  // ties the default run met (recorded ones: at most 65536)
  uint64_t reordered = 0;     // schedules with a reordering (the others: the default, jittered)
  uint64_t jittered = 0;
  uint64_t pruned = 0;        // picks the reduction left out
  uint64_t unexplored = 0;    // picks the reduction kept but --max-runs left out
  std::vector<uint64_t> broken;                // per expectation: schedules it failed in
  std::vector<std::optional<uint64_t>> first;  // per expectation: the first (smallest) of them
  uint64_t steps_broken = 0;                   // schedules where a step failed or a guard hit
  std::optional<uint64_t> steps_first;
  std::optional<uint64_t> smallest;            // the first schedule where anything broke
  std::optional<std::string> misfit;           // a schedule that did not fit its run (a bug)
};

SearchResult search_schedules(const Scenario& s, const SearchSettings& settings);

struct ExploreOptions {
  std::string file;
  std::vector<std::string> sets;   // POINTER=JSON, applied before exploring
  std::optional<uint64_t> seed;    // overrides the scenario's seed
  uint64_t max_runs = 1000;        // schedules run, the default one included
  uint32_t depth = 2;              // reorderings per schedule at most
  std::string jitter_text;         // a duration ("1us"); with it, `draws` jittered runs
  uint32_t draws = 16;
  unsigned jobs = 0;               // parallel runs (0: the cores)
  Shard shard;
  std::string results_out;         // "": print the table; else write this shard's results there
  std::string out_dir;             // "": no files; else the traces and diff pages of what broke
};

// Returns 0 when every expectation held (and every step gave its expected result) in every
// schedule run, 1 when some broke, 2 for a usage error, 3 when FILE is not a valid scenario,
// 4 when a schedule explore made did not fit its own run (a netsim bug). With results_out:
// 0 once the part is written (`netsim merge` gives the verdict).
int run_explore(const ExploreOptions& options);

// `netsim merge` of explore parts (read_parts() checked that they fit): the table, the
// smallest breaking schedule and the exit code of the one-machine search.
int merge_explore(const std::vector<Part>& parts);

}  // namespace netsim::scenario
