// `netsim sweep FILE --set POINTER=VALUES ...`: runs every combination of the given values
// (the cartesian product, the last axis varying fastest) in parallel and tabulates, for each
// step and expectation of the scenario, in how many runs it held. Variations are made from
// their index and tallied as they finish, so memory does not grow with their number; a shard
// (`--shard K/N`) runs its share, and `--results-out` writes its tally for `netsim merge`.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/progress.h"
#include "scenarios/results_file.h"
#include "scenarios/shard.h"

namespace netsim::scenario {

// One swept pointer and its values. VALUES is `A..B` (integers, inclusive; kept as its
// bounds, never expanded), a JSON array, or a comma-separated list of JSON values (bare
// words count as strings).
struct SweepAxis {
  std::string pointer;
  std::vector<nlohmann::json> values;  // a list; empty for a range
  long long first = 0;                 // a range: A, and B - A + 1 values
  uint64_t range_size = 0;

  uint64_t size() const { return values.empty() ? range_size : values.size(); }
  // Requires: i < size().
  nlohmann::json value(uint64_t i) const;
};
std::optional<SweepAxis> parse_sweep_axis(std::string_view text, std::string* error);

// The guard on the runs one process makes (the product of the axes' sizes, divided among
// the shards): more is refused with exit 1 before anything runs (docs/cluster.md).
// `--max-runs` moves it; `--shard K/N` splits a bigger sweep.
inline constexpr uint64_t kMaxSweepRuns = 10'000'000;

struct SweepOptions {
  std::string file;
  std::vector<SweepAxis> axes;
  unsigned jobs = 0;  // 0: the cores
  Progress::Mode progress = Progress::Mode::kAuto;  // on stderr, never in the table
  Shard shard;
  std::string results_out;  // "": print the table; else write the tally there
  uint64_t max_runs = kMaxSweepRuns;
};

// Prints the table to stdout; returns 0 when every run held everything, 1 when some run
// failed or the sweep is past the guard, 2 for a usage error, 3 when a variation is not
// a valid scenario. With results_out: 0 once the tally is written (merge gives the verdict).
int run_sweep(const SweepOptions& options);

// `netsim merge` of sweep parts (read_parts() checked that they fit): the table and exit
// code of the one-machine sweep.
int merge_sweep(const std::vector<Part>& parts);

}  // namespace netsim::scenario
