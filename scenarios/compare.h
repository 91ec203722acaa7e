// `netsim compare FILE --policies seed,netstack3,linux`: runs one scenario under each policy
// named (the file's `policy` replaced, everything else as written, `--set` applied to every
// run) and prints, step run by step run, where the decisions differ: step results, which socket
// received, drops, accepts, severing, errors (viz/trace_diff.h, outcome mode). With --out DIR it
// writes each policy's trace and viewer and compare.html, the policies side by side.
// docs/compare.md is the user's guide.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netsim::scenario {

struct CompareOptions {
  std::string file;
  std::string policies;           // "seed,netstack3": at least two names, each once
  std::vector<std::string> sets;  // POINTER=JSON, applied to every run
  std::optional<uint64_t> seed;   // overrides the scenario's seed in every run
  std::string out_dir;            // "" for no files
  size_t max_rows = 50;           // differing step runs printed (the page has them all)
};

// Returns 0 when every policy decided the same, 1 when some decision or expectation differs,
// 2 for a usage error (a policy name netsim does not know, fewer than two, a file that cannot
// be written), 3 when FILE is not a valid scenario.
int run_compare(const CompareOptions& options);

}  // namespace netsim::scenario
