// `netsim sweep FILE --set POINTER=VALUES ...`: runs every combination of the
// given values (the cartesian product, in a fixed order) in parallel and
// tabulates, for each step and expectation of the scenario, in how many runs it held.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/progress.h"

namespace netsim::scenario {

// One swept pointer and its values. VALUES is `A..B` (integers, inclusive), a JSON
// array, or a comma-separated list of JSON values (bare words count as strings).
struct SweepAxis {
  std::string pointer;
  std::vector<nlohmann::json> values;
};
std::optional<SweepAxis> parse_sweep_axis(std::string_view text, std::string* error);

// The most runs one sweep makes (the product of its axes' sizes); more is a usage error
// before anything runs, as is a range A..B of more values.
inline constexpr uint64_t kMaxSweepRuns = 100000;

struct SweepOptions {
  std::string file;
  std::vector<SweepAxis> axes;
  unsigned jobs = 0;  // 0: the cores
  Progress::Mode progress = Progress::Mode::kAuto;  // on stderr, never in the table
};

// Prints the table to stdout; returns 0 when every run held everything, 1 when some
// run failed, 2 for a usage error, 3 when a variation is not a valid scenario.
int run_sweep(const SweepOptions& options);

}  // namespace netsim::scenario
