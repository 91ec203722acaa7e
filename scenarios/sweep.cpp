#include "scenarios/sweep.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "scenarios/runner.h"
#include "viz/output_file.h"

namespace netsim::scenario {
namespace {

// A run the table names: its label, and for an invalid one the loader's errors.
struct ShownRun {
  std::string label;  // "/seed=3 /links/0/loss=0.1"
  std::vector<std::string> errors;
};

// Of the runs added, how many there were and the kShown with the lowest indices: what
// the table prints, whatever the number of runs and in whatever order they finish.
class LowestRuns {
 public:
  static constexpr size_t kShown = 5;
  uint64_t total() const { return total_; }
  const std::map<uint64_t, ShownRun>& lowest() const { return lowest_; }
  // Whether run `i` would be kept (its label is worth making).
  bool keeps(uint64_t i) const { return lowest_.size() < kShown || i < std::prev(lowest_.end())->first; }
  void count() { ++total_; }
  void keep(uint64_t i, ShownRun run) {
    lowest_.emplace(i, std::move(run));
    if (lowest_.size() > kShown) lowest_.erase(std::prev(lowest_.end()));
  }
  void add(const LowestRuns& other) {
    total_ += other.total_;
    for (const auto& [i, run] : other.lowest_) keep(i, run);
  }
  nlohmann::json to_json() const {
    nlohmann::json lowest = nlohmann::json::array();
    for (const auto& [i, run] : lowest_) lowest.push_back({i, run.label, run.errors});
    return {{"total", total_}, {"lowest", lowest}};
  }
  static LowestRuns from_json(const nlohmann::json& j) {
    LowestRuns out;
    out.total_ = j.at("total");
    for (const auto& run : j.at("lowest")) out.keep(run.at(0), {run.at(1), run.at(2)});
    return out;
  }

 private:
  uint64_t total_ = 0;
  std::map<uint64_t, ShownRun> lowest_;
};

// One row of the table: an expectation of the scenario as loaded without overrides.
struct Row {
  std::string pointer, description;
  uint64_t held = 0;  // valid runs in which it held
  LowestRuns failed;
};

// What a sweep's runs (all, a shard's, or one worker's) came to; add() is commutative,
// so the table is the same however the runs were divided.
struct SweepTally {
  uint64_t runs = 0, passed = 0, steps_ok = 0, guarded = 0;
  std::vector<Row> rows;
  LowestRuns invalid;

  void add(const SweepTally& other) {
    runs += other.runs, passed += other.passed, steps_ok += other.steps_ok, guarded += other.guarded;
    for (size_t r = 0; r < rows.size(); ++r) {
      rows[r].held += other.rows[r].held;
      rows[r].failed.add(other.rows[r].failed);
    }
    invalid.add(other.invalid);
  }
  nlohmann::json to_json() const {
    nlohmann::json out = {{"runs", runs}, {"passed", passed}, {"steps_ok", steps_ok}, {"guarded", guarded},
                          {"invalid", invalid.to_json()}, {"expect", nlohmann::json::array()}};
    for (const Row& r : rows)
      out["expect"].push_back({{"pointer", r.pointer}, {"description", r.description}, {"held", r.held},
                               {"failed", r.failed.to_json()}});
    return out;
  }
  static SweepTally from_json(const nlohmann::json& j) {
    SweepTally t{j.at("runs"), j.at("passed"), j.at("steps_ok"), j.at("guarded"), {},
                 LowestRuns::from_json(j.at("invalid"))};
    for (const auto& r : j.at("expect"))
      t.rows.push_back({r.at("pointer"), r.at("description"), r.at("held"), LowestRuns::from_json(r.at("failed"))});
    return t;
  }
};

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

// Variation `index` of the product: one override per axis, the last axis varying fastest.
std::vector<Override> variation(const std::vector<SweepAxis>& axes, uint64_t index) {
  std::vector<Override> out(axes.size());
  for (size_t a = axes.size(); a-- > 0;) {
    out[a] = Override{axes[a].pointer, axes[a].value(index % axes[a].size())};
    index /= axes[a].size();
  }
  return out;
}

std::string label(const std::vector<Override>& overrides) {
  std::string out;
  for (const Override& o : overrides) out += (out.empty() ? "" : " ") + o.pointer + "=" + o.value.dump();
  return out;
}

// Runs variation `index` and adds it to `tally`.
void run_one(const std::string& text, const std::string& file, const std::vector<SweepAxis>& axes,
             uint64_t index, SweepTally& tally) {
  std::vector<Override> overrides = variation(axes, index);
  LoadResult loaded = load_scenario_text(text, file, overrides);
  ++tally.runs;
  if (!loaded.scenario) {
    tally.invalid.count();
    if (tally.invalid.keeps(index)) {
      ShownRun shown{label(overrides), {}};
      for (const auto& d : loaded.errors) shown.errors.push_back(format_diagnostic(d));
      tally.invalid.keep(index, std::move(shown));
    }
    return;
  }
  RunResult r = run_scenario(*loaded.scenario);
  for (Row& row : tally.rows) {
    auto it = std::find_if(r.expectations.begin(), r.expectations.end(),
                           [&](const auto& e) { return e.first == row.pointer; });
    if (it != r.expectations.end() && it->second) {
      ++row.held;
      continue;
    }
    row.failed.count();
    if (row.failed.keeps(index)) row.failed.keep(index, {label(overrides), {}});
  }
  tally.passed += r.exit_code == 0;
  tally.steps_ok += r.steps_failed == 0;
  tally.guarded += r.guard.has_value();
}

std::string failed_labels(const LowestRuns& failed) {
  std::string out;
  for (const auto& [i, run] : failed.lowest()) out += (out.empty() ? "" : ", ") + run.label;
  if (failed.total() > failed.lowest().size())
    out += ", ... " + std::to_string(failed.total() - failed.lowest().size()) + " more";
  return out;
}

// The table and the exit code, from the tally of every run.
int print_table(const std::string& file, const SweepTally& t) {
  const uint64_t ran = t.runs - t.invalid.total();
  std::printf("sweep %s: %llu runs\n", file.c_str(), static_cast<unsigned long long>(t.runs));
  auto row = [&](const std::string& pointer, const std::string& what, uint64_t held) {
    std::printf("  %-10s %-72s %5llu/%llu held", pointer.c_str(), what.c_str(),
                static_cast<unsigned long long>(held), static_cast<unsigned long long>(ran));
  };
  for (const Row& r : t.rows) {
    row(r.pointer, r.description, r.held);
    if (r.held < ran) std::printf("   failed: %s", failed_labels(r.failed).c_str());
    std::printf("\n");
  }
  row("steps", "every step's result as expected", t.steps_ok);
  std::printf("\n");
  if (t.guarded) std::printf("  %llu runs stopped by a resource guard\n", static_cast<unsigned long long>(t.guarded));
  for (const auto& [i, run] : t.invalid.lowest()) {
    std::printf("  invalid: %s\n", run.label.c_str());
    for (const auto& e : run.errors) std::printf("    %s\n", e.c_str());
  }
  if (t.invalid.total() > t.invalid.lowest().size())
    std::printf("  ... %llu more invalid runs\n",
                static_cast<unsigned long long>(t.invalid.total() - t.invalid.lowest().size()));
  std::printf("runs: %llu passed, %llu failed, %llu invalid\n", static_cast<unsigned long long>(t.passed),
              static_cast<unsigned long long>(ran - t.passed), static_cast<unsigned long long>(t.invalid.total()));
  if (t.invalid.total()) return 3;
  return t.passed == ran ? 0 : 1;
}

// What makes two sweeps the same run: the scenario's bytes and every axis.
std::string sweep_input(const std::string& text, const std::vector<SweepAxis>& axes) {
  std::vector<std::string> pieces{"sweep", text};
  for (const SweepAxis& a : axes) {
    pieces.push_back(a.pointer);
    pieces.push_back(a.values.empty() ? std::to_string(a.first) + ".." + std::to_string(a.range_size)
                                      : nlohmann::json(a.values).dump());
  }
  return input_digest(pieces);
}

}  // namespace

nlohmann::json SweepAxis::value(uint64_t i) const {
  if (!values.empty()) return values[i];
  return static_cast<long long>(static_cast<unsigned long long>(first) + i);
}

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
    // B - A + 1 values; every 64-bit integer at once (2^64) does not fit a count.
    axis.range_size = static_cast<unsigned long long>(b) - static_cast<unsigned long long>(a) + 1;
    if (b < a || axis.range_size == 0) {
      *error = "a range A..B needs A <= B and fewer than 2^64 values";
      return std::nullopt;
    }
    axis.first = a;
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
  std::string text;
  {
    std::ifstream in(options.file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    text = bytes.str();
  }
  // The guard on the runs this process makes, before any runs.
  uint64_t total = 1;
  bool past = false;  // the product does not even fit 64 bits
  std::string sizes;
  for (const SweepAxis& axis : options.axes) {
    past = past || axis.size() > UINT64_MAX / total;
    total = past ? UINT64_MAX : total * axis.size();
    sizes += (sizes.empty() ? "" : " x ") + std::to_string(axis.size());
  }
  const uint64_t mine = options.shard.size(total);
  if (past || mine > options.max_runs) {
    std::cerr << "netsim sweep: " << sizes << " values make "
              << (past ? "more than 2^64" : std::to_string(total)) << " runs"
              << (options.shard.count > 1 ? ", " + std::to_string(mine) + " of them in this shard" : "")
              << ": past the guard of " << options.max_runs
              << " runs per process (docs/cluster.md); split the sweep with --shard K/N, or raise "
                 "the guard with --max-runs\n";
    return 1;
  }
  std::unique_ptr<OutputFile> part;
  std::string error;
  if (!options.results_out.empty() && !(part = OutputFile::open(options.results_out, &error))) {
    std::cerr << "netsim: cannot write " << error << "\n";
    return 2;
  }
  SweepTally tally;
  for (const Expectation& e : base.scenario->expect) tally.rows.push_back({e.pointer, describe(e), 0, {}});

  Progress progress("netsim sweep", mine, options.progress);
  const unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  const size_t workers = std::min<uint64_t>(jobs, mine);
  std::vector<SweepTally> tallies(workers, tally);
  std::atomic<uint64_t> next{0};
  auto worker = [&](SweepTally& mine_tally) {
    for (uint64_t j = next++; j < mine; j = next++) {
      run_one(text, options.file, options.axes, options.shard.item(j), mine_tally);
      progress.step();
    }
  };
  std::vector<std::thread> threads;
  for (SweepTally& t : tallies) threads.emplace_back(worker, std::ref(t));
  for (auto& t : threads) t.join();
  progress.clear();
  for (const SweepTally& t : tallies) tally.add(t);

  if (!part) return print_table(options.file, tally);
  PartHeader header{"sweep", NETSIM_VERSION, sweep_input(text, options.axes), options.file,
                    options.shard.index, options.shard.count, total};
  if (!write_part(*part, header, {tally.to_json()}, &error)) {
    std::cerr << "netsim: cannot write " << error << "\n";
    return 2;
  }
  return 0;
}

int merge_sweep(const std::vector<Part>& parts) {
  auto all = merge_single_records<SweepTally>(
      parts, "a complete sweep tally", [](const SweepTally& t) { return t.runs; },
      [](SweepTally& all, const SweepTally& mine) {
        if (all.rows.size() != mine.rows.size()) return false;
        all.add(mine);
        return true;
      });
  return all ? print_table(parts[0].header.title, *all) : 2;
}

}  // namespace netsim::scenario
