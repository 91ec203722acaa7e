#include "scenarios/compare.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "viz/export.h"
#include "viz/output_file.h"
#include "viz/trace_diff.h"

namespace netsim::scenario {

namespace {

namespace fs = std::filesystem;

constexpr int kSame = 0, kDiffer = 1, kUsage = 2, kInvalid = 3;

// Sends the trace to the decision log and, with --out, to the policy's trace file.
class Tee : public TraceOutput {
 public:
  Tee(TraceOutput& a, TraceOutput* b) : a_(a), b_(b) {}
  void write(std::string_view bytes) override {
    a_.write(bytes);
    if (b_) b_->write(bytes);
  }

 private:
  TraceOutput& a_;
  TraceOutput* b_;
};

std::vector<std::string> split_policies(const std::string& text) {
  std::vector<std::string> names;
  std::string name;
  std::istringstream in(text);
  while (std::getline(in, name, ',')) names.push_back(name);
  if (!text.empty() && text.back() == ',') names.emplace_back();
  return names;
}

std::string verdict(const RunResult& r) {
  std::ostringstream s;
  s << (r.exit_code == 0 ? "PASS" : "FAIL") << ", steps " << r.steps_passed << "/"
    << r.steps_passed + r.steps_failed << ", expectations " << r.expectations_passed << "/"
    << r.expectations_passed + r.expectations_failed << " held";
  if (r.guard) s << ", stopped by the " << *r.guard << " guard";
  return s.str();
}

}  // namespace

int run_compare(const CompareOptions& options) {
  std::vector<std::string> names = split_policies(options.policies);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      std::cerr << "netsim: --policies " << options.policies << ": an empty policy name\n";
      return kUsage;
    }
    for (size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) {
        std::cerr << "netsim: --policies " << options.policies << ": " << names[i] << " twice\n";
        return kUsage;
      }
    }
  }
  if (names.size() < 2) {
    std::cerr << "netsim: --policies needs at least two policies, comma-separated "
                 "(e.g. seed,netstack3)\n";
    return kUsage;
  }
  std::vector<Override> overrides;
  if (std::string error; !parse_overrides(options.sets, overrides, &error)) {
    std::cerr << "netsim: " << error << "\n";
    return kUsage;
  }
  // The file as written first: its own errors are exit 3, a policy's are a usage error.
  LoadResult base = load_scenario_file(options.file, overrides);
  if (!base.scenario) {
    for (const auto& d : base.errors) std::cerr << format_diagnostic(d) << "\n";
    return kInvalid;
  }
  std::vector<Scenario> scenarios;
  for (const std::string& name : names) {
    std::vector<Override> with_policy = overrides;
    with_policy.push_back({"/policy", nlohmann::json(name)});
    LoadResult loaded = load_scenario_file(options.file, with_policy);
    if (!loaded.scenario) {
      std::cerr << "netsim: --policies: `" << name << "` is not a policy this netsim knows:\n";
      for (const auto& d : loaded.errors) std::cerr << "  " << format_diagnostic(d) << "\n";
      return kUsage;
    }
    scenarios.push_back(std::move(*loaded.scenario));
  }
  const fs::path dir(options.out_dir);
  if (!options.out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec && !fs::is_directory(dir)) {
      std::cerr << "netsim: cannot create directory " << dir.string() << ": " << ec.message() << "\n";
      return kUsage;
    }
  }

  std::cout << "compare " << options.file << " (" << base.scenario->name << ") under "
            << options.policies << "\n";
  std::vector<std::unique_ptr<DecisionLog>> logs;
  std::vector<std::string> viewers;
  for (size_t k = 0; k < names.size(); ++k) {
    logs.push_back(std::make_unique<DecisionLog>(names[k], DiffMode::kOutcome));
    DecisionRecorder recorder(*logs.back());
    std::unique_ptr<OutputFile> trace;
    std::string error;
    const fs::path trace_path = dir / (names[k] + ".jsonl");
    if (!options.out_dir.empty() && !(trace = OutputFile::open(trace_path.string(), &error))) {
      std::cerr << "netsim: cannot write " << error << "\n";
      return kUsage;
    }
    Tee tee(recorder, trace.get());
    RunOptions run;
    run.seed = options.seed;
    run.trace_output = &tee;
    RunResult r = run_scenario(scenarios[k], run);
    std::cout << "  " << names[k] << ": " << verdict(r) << "\n";
    if (!trace) continue;
    if (!trace->commit(&error)) {
      std::cerr << "netsim: cannot write " << error << "\n";
      return kUsage;
    }
    std::ifstream in(trace_path, std::ios::binary);
    try {
      export_file(in, trace_path.string(), ExportFormat::kHtml, dir / (names[k] + ".html"));
    } catch (const std::runtime_error& e) {
      std::cerr << "netsim: cannot write the viewer of " << trace_path.string() << ": " << e.what() << "\n";
      return kUsage;
    }
    viewers.push_back(names[k] + ".html");
  }
  std::vector<const DecisionLog*> sides;
  for (const auto& log : logs) sides.push_back(log.get());
  DecisionDiff diff = diff_decisions(sides);
  if (diff.same()) {
    std::cout << "every policy decided the same in all " << diff.rows.size() << " step runs\n";
  } else {
    print_diff(std::cout, diff, options.max_rows);
  }
  if (!options.out_dir.empty()) {
    std::string error;
    const fs::path page_path = dir / "compare.html";
    auto page = OutputFile::open(page_path.string(), &error);
    if (!page) {
      std::cerr << "netsim: cannot write " << error << "\n";
      return kUsage;
    }
    write_diff_page(page->stream(), diff,
                    {base.scenario->name, "policies", viewers, ""});
    if (!page->commit(&error)) {
      std::cerr << "netsim: cannot write " << error << "\n";
      return kUsage;
    }
    std::string shown = dir.generic_string();
    if (shown.back() != '/') shown += '/';
    std::cout << "traces, viewers and compare.html written to " << shown << "\n";
  }
  return diff.same() ? kSame : kDiffer;
}

}  // namespace netsim::scenario
