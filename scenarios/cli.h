// The `netsim` command line: run, validate, check, sweep, compare, export, init, help. Exit
// codes follow scenario-format.md: 0 all held, 1 some step or expectation failed, 2 usage
// error, 3 invalid scenario, 4 internal error.
#pragma once

#include <string>
#include <vector>

namespace netsim::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInvalid = 3;
inline constexpr int kExitInternal = 4;

// Runs the command line `args` (without the program name); prints to stdout/stderr.
int main(const std::vector<std::string>& args);

}  // namespace netsim::cli
