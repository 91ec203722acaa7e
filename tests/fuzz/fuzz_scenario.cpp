// libFuzzer target: bytes -> scenario loader; what loads is run under a small budget
// (five thousand events, a few virtual seconds, a thousand packets in flight), twice,
// and the two traces must be identical. Built with -DNETSIM_FUZZ=ON by clang
// (tests/fuzz/CMakeLists.txt); run by .ci/run for 60 s under ASan/UBSan.
//
//   build-fuzz/tests/fuzz/fuzz_scenario -dict=tests/fuzz/scenario.dict \
//       CORPUS_DIR build-fuzz/tests/fuzz/seed
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace {

netsim::scenario::RunOptions fuzz_budget() {
  netsim::scenario::RunOptions o;
  o.max_events = 5'000;
  o.max_time = netsim::SimTime{5LL * 1'000'000'000LL};  // 5 virtual seconds
  o.max_in_flight = 1'000;
  o.max_repeat = 1'000;
  o.cap_scenario_limits = true;  // a scenario's `limits` may lower the budget, not raise it
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  netsim::scenario::LoadResult loaded = netsim::scenario::load_scenario_text(text, "fuzz.json");
  if (!loaded.scenario) {
    // Every rejection must say why (and never throw: an exception would abort here).
    if (loaded.errors.empty()) {
      std::fprintf(stderr, "loader rejected the input without a diagnostic\n");
      std::abort();
    }
    for (const auto& d : loaded.errors) (void)netsim::scenario::format_diagnostic(d);
    return 0;
  }
  static const netsim::scenario::RunOptions kBudget = fuzz_budget();
  netsim::StringTraceOutput trace_a, trace_b;
  netsim::scenario::RunOptions options_a = kBudget, options_b = kBudget;
  options_a.trace_output = &trace_a;
  options_b.trace_output = &trace_b;
  netsim::scenario::RunResult a = netsim::scenario::run_scenario(*loaded.scenario, options_a);
  netsim::scenario::RunResult b = netsim::scenario::run_scenario(*loaded.scenario, options_b);
  if (trace_a.text() != trace_b.text()) {
    std::fprintf(stderr, "two runs of the same scenario gave different traces\n");
    std::abort();
  }
  if (a.exit_code != 0 && a.exit_code != 1) {
    std::fprintf(stderr, "run_scenario returned exit code %d\n", a.exit_code);
    std::abort();
  }
  return 0;
}
