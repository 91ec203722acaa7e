#include "scenarios/sweep.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <map>
#include <charconv>
#include <sstream>
#include <thread>

#include "scenarios/runner.h"

namespace netsim::scenario {
namespace {

// A variation: one value per axis.
struct Variation {
  std::vector<Override> overrides;
  std::string label;  // "/seed=3 /links/0/loss=0.1"
  bool valid = true;
  std::vector<std::string> load_errors;
  std::map<std::string, bool> held;  // expectation pointer -> held
  uint64_t steps_failed = 0;
  std::optional<std::string> guard;
  bool passed = false;
};

std::vector<Variation> expand(const std::vector<SweepAxis>& axes) {
  std::vector<Variation> out(1);
  for (const SweepAxis& axis : axes) {
    std::vector<Variation> next;
    for (const Variation& v : out)
      for (const nlohmann::json& value : axis.values) {
        Variation w = v;
        w.overrides.push_back(Override{axis.pointer, value});
        w.label += (w.label.empty() ? "" : " ") + axis.pointer + "=" + value.dump();
        next.push_back(std::move(w));
      }
    out = std::move(next);
  }
  return out;
}

std::string describe(const Expectation& e) {
  std::string what = e.match ? e.match->fields.dump() : "sequence of " + std::to_string(e.sequence.size());
  if (e.count) what += " count " + std::to_string(*e.count);
  if (e.min) what += " min " + std::to_string(*e.min);
  if (e.max) what += " max " + std::to_string(*e.max);
  if (what.size() > 70) what = what.substr(0, 67) + "...";
  return what;
}

// "A..B" with integers A and B.
bool parse_range(std::string_view spec, long long& a, long long& b) {
  size_t dots = spec.find("..");
  if (dots == std::string_view::npos) return false;
  auto whole = [](std::string_view t, long long& v) {
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    return !t.empty() && ec == std::errc() && end == t.data() + t.size();
  };
  return whole(spec.substr(0, dots), a) && whole(spec.substr(dots + 2), b);
}

}  // namespace

std::optional<SweepAxis> parse_sweep_axis(std::string_view text, std::string* error) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    *error = "expected POINTER=VALUES, e.g. /seed=1..100";
    return std::nullopt;
  }
  if (std::string why = pointer_error(text.substr(0, eq)); !why.empty()) {
    *error = "invalid JSON Pointer `" + std::string(text.substr(0, eq)) + "`: " + why;
    return std::nullopt;
  }
  SweepAxis axis;
  axis.pointer = std::string(text.substr(0, eq));
  std::string spec(text.substr(eq + 1));
  long long a = 0, b = 0;
  if (parse_range(spec, a, b)) {
    if (b < a || static_cast<unsigned long long>(b - a) >= kMaxSweepRuns) {
      *error = "a range A..B needs A <= B and at most " + std::to_string(kMaxSweepRuns) + " values";
      return std::nullopt;
    }
    for (long long v = a; v <= b; ++v) axis.values.push_back(v);
    return axis;
  }
  auto parsed = nlohmann::json::parse(spec, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_array() && !parsed.empty()) {
    for (auto& v : parsed) axis.values.push_back(v);
    return axis;
  }
  std::stringstream pieces(spec);
  std::string piece;
  while (std::getline(pieces, piece, ',')) {
    auto o = parse_override(axis.pointer + "=" + piece, error);
    if (!o) return std::nullopt;
    axis.values.push_back(o->value);
  }
  if (axis.values.empty()) {
    *error = "no values";
    return std::nullopt;
  }
  return axis;
}

int run_sweep(const SweepOptions& options) {
  LoadResult base = load_scenario_file(options.file);
  if (!base.scenario) {
    for (const auto& d : base.errors) std::cerr << format_diagnostic(d) << "\n";
    return 3;
  }
  // The guard on the product of the axes, before anything is expanded.
  uint64_t product = 1;
  std::string sizes;
  for (const SweepAxis& axis : options.axes) {
    product = axis.values.size() > kMaxSweepRuns / product ? kMaxSweepRuns + 1 : product * axis.values.size();
    sizes += (sizes.empty() ? "" : " x ") + std::to_string(axis.values.size());
  }
  if (product > kMaxSweepRuns) {
    std::cerr << "netsim sweep: " << sizes << " values make more than " << kMaxSweepRuns
              << " runs (the cap); sweep fewer values, or split the sweep\n";
    return 2;
  }
  std::vector<Variation> runs = expand(options.axes);
  Progress progress("netsim sweep", runs.size(), options.progress);
  unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < runs.size(); i = next++) {
      Variation& v = runs[i];
      LoadResult loaded = load_scenario_file(options.file, v.overrides);
      if (!loaded.scenario) {
        v.valid = false;
        for (const auto& d : loaded.errors) v.load_errors.push_back(format_diagnostic(d));
        progress.step();
        continue;
      }
      RunResult r = run_scenario(*loaded.scenario);
      v.held = std::map<std::string, bool>(r.expectations.begin(), r.expectations.end());
      v.steps_failed = r.steps_failed;
      v.guard = r.guard;
      v.passed = r.exit_code == 0;
      progress.step();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::min<size_t>(jobs, runs.size()); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  progress.clear();

  size_t invalid = 0, passed = 0;
  for (const Variation& v : runs) {
    invalid += !v.valid;
    passed += v.valid && v.passed;
  }
  const size_t ran = runs.size() - invalid;
  std::printf("sweep %s: %zu runs\n", options.file.c_str(), runs.size());
  auto failed_labels = [&](auto&& failed) {
    std::string out;
    size_t shown = 0, total = 0;
    for (const Variation& v : runs)
      if (v.valid && failed(v)) {
        if (shown < 5) out += (shown ? ", " : "") + v.label, ++shown;
        ++total;
      }
    if (total > shown) out += ", ... " + std::to_string(total - shown) + " more";
    return out;
  };
  for (const Expectation& e : base.scenario->expect) {
    size_t held = 0;
    for (const Variation& v : runs)
      if (v.valid) {
        auto it = v.held.find(e.pointer);
        held += it != v.held.end() && it->second;
      }
    std::printf("  %-10s %-72s %5zu/%zu held", e.pointer.c_str(), describe(e).c_str(), held, ran);
    if (held < ran) {
      std::printf("   failed: %s", failed_labels([&](const Variation& v) {
                    auto it = v.held.find(e.pointer);
                    return it == v.held.end() || !it->second;
                  }).c_str());
    }
    std::printf("\n");
  }
  size_t steps_ok = 0, guarded = 0;
  for (const Variation& v : runs) {
    steps_ok += v.valid && v.steps_failed == 0;
    guarded += v.valid && v.guard.has_value();
  }
  std::printf("  %-10s %-72s %5zu/%zu held\n", "steps", "every step's result as expected", steps_ok, ran);
  if (guarded) std::printf("  %zu runs stopped by a resource guard\n", guarded);
  for (const Variation& v : runs)
    if (!v.valid) {
      std::printf("  invalid: %s\n", v.label.c_str());
      for (const auto& e : v.load_errors) std::printf("    %s\n", e.c_str());
    }
  std::printf("runs: %zu passed, %zu failed, %zu invalid\n", passed, ran - passed, invalid);
  if (invalid) return 3;
  return passed == ran ? 0 : 1;
}

}  // namespace netsim::scenario
