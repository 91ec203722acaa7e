#include "scenarios/cli.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "api/simulation_access.h"
#include "scenarios/cli_doc.h"
#include "scenarios/compare.h"
#include "scenarios/explore.h"
#include "scenarios/init.h"
#include "scenarios/loader.h"
#include "scenarios/progress.h"
#include "scenarios/results_file.h"
#include "scenarios/runner.h"
#include "scenarios/shard.h"
#include "scenarios/sweep.h"
#include "viz/export.h"
#include "viz/export_trace_view.h"
#include "viz/output_file.h"
#include "viz/trace_diff.h"
#include "viz/trace_writer.h"
#include "sim/schedule.h"

namespace netsim::cli {
namespace fs = std::filesystem;
using scenario::LoadResult;
using scenario::Override;
using scenario::RunOptions;
using scenario::RunResult;

namespace {

std::string format_ns(int64_t ns) {
  char buf[64];
  if (ns >= 1000000000) std::snprintf(buf, sizeof buf, "%.3f s", ns / 1e9);
  else if (ns >= 1000000) std::snprintf(buf, sizeof buf, "%.3f ms", ns / 1e6);
  else if (ns >= 1000) std::snprintf(buf, sizeof buf, "%.3f us", ns / 1e3);
  else std::snprintf(buf, sizeof buf, "%lld ns", static_cast<long long>(ns));
  return buf;
}

bool parse_overrides(const std::vector<std::string>& texts, std::vector<Override>& out) {
  std::string error;
  if (scenario::parse_overrides(texts, out, &error)) return true;
  std::cerr << "netsim: " << error << "\n";
  return false;
}

void print_diagnostics(const LoadResult& r) {
  for (const auto& d : r.errors) std::cerr << scenario::format_diagnostic(d) << "\n";
}

// Sends the trace to several outputs at once.
class TeeOutput : public TraceOutput {
 public:
  void add(TraceOutput* out) {
    if (out) outputs_.push_back(out);
  }
  TraceOutput* single() { return outputs_.size() == 1 ? outputs_[0] : outputs_.empty() ? nullptr : this; }
  void write(std::string_view bytes) override {
    for (TraceOutput* o : outputs_) o->write(bytes);
  }

 private:
  std::vector<TraceOutput*> outputs_;
};

// Opens `path` for writing before a run; prints why not (a usage error).
std::unique_ptr<OutputFile> open_output(const fs::path& path) {
  std::string error;
  auto out = OutputFile::open(path.string(), &error);
  if (!out) std::cerr << "netsim: cannot write " << error << "\n";
  return out;
}

bool commit_output(OutputFile& out) {
  std::string error;
  if (out.commit(&error)) return true;
  std::cerr << "netsim: cannot write " << error << "\n";
  return false;
}

// `--out DIR` for `run` (every export) and `check` (the HTML view): the output files,
// opened before the run so a directory that cannot be written is found first.
struct ExportOutputs {
  bool open(const fs::path& dir, const std::vector<ExportFormat>& formats, const std::string& stem) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec && !fs::is_directory(dir)) {
      std::cerr << "netsim: cannot create directory " << dir.string() << ": " << ec.message() << "\n";
      return false;
    }
    trace = open_output(dir / (stem.empty() ? std::string("trace.jsonl") : stem + ".jsonl"));
    if (!trace) return false;
    for (ExportFormat f : formats) {
      fs::path name = stem.empty() ? fs::path(std::string(export_file_name(f)))
                                   : fs::path(stem + "." + std::string(to_string(f)));
      auto out = open_output(dir / name);
      if (!out) return false;
      exports.emplace_back(f, std::move(out));
    }
    return true;
  }
  // Commits the trace, then makes every export in one pass over the file just written.
  bool finish(const ExportOptions& options = {}) {
    std::string trace_path = trace->path();
    if (!commit_output(*trace)) return false;
    if (exports.empty()) return true;
    std::ifstream in(trace_path, std::ios::binary);
    try {
      TraceReader reader(in, trace_path);
      std::vector<std::unique_ptr<TraceExporter>> owned;
      std::vector<TraceExporter*> exporters;
      for (auto& [format, out] : exports) {
        owned.push_back(make_exporter(format, out->stream(), options));
        exporters.push_back(owned.back().get());
      }
      run_exporters(reader, exporters, options);
    } catch (const std::exception& e) {
      std::cerr << "netsim: cannot export " << trace_path << ": " << e.what() << "\n";
      return false;
    }
    for (auto& [format, out] : exports)
      if (!commit_output(*out)) return false;
    return true;
  }
  std::unique_ptr<OutputFile> trace;
  std::vector<std::pair<ExportFormat, std::unique_ptr<OutputFile>>> exports;
};

// Compares a trace with a golden file as it is written, line by line: memory holds
// one line of each, whatever the length of the run.
class GoldenComparer : public TraceOutput {
 public:
  explicit GoldenComparer(const fs::path& golden) : in_(golden, std::ios::binary) {}
  bool opened() const { return static_cast<bool>(in_); }
  void write(std::string_view bytes) override {
    for (char c : bytes) {
      if (c != '\n') {
        if (diff_.empty()) actual_.push_back(c);
        continue;
      }
      compare_line(true);
    }
  }
  // The first difference ("" when equal); call after the run.
  std::string finish() {
    if (diff_.empty()) compare_line(false);
    return diff_;
  }

 private:
  void compare_line(bool have_actual) {
    ++line_;
    if (!diff_.empty()) return;
    std::string want;
    bool have_want = static_cast<bool>(std::getline(in_, want));
    if (!have_actual && !have_want) return;
    if (have_actual && have_want && want == actual_) {
      actual_.clear();
      return;
    }
    std::ostringstream out;
    out << "golden trace differs at line " << line_ << ":\n"
        << "      golden: " << (have_want ? want : "<end of trace>") << "\n"
        << "      actual: " << (have_actual ? actual_ : "<end of trace>");
    diff_ = out.str();
  }
  std::ifstream in_;
  std::string actual_;
  uint64_t line_ = 0;
  std::string diff_;
};

void print_summary(const std::string& file, const scenario::Scenario& s, const RunResult& r,
                   uint64_t seed) {
  std::cout << (r.exit_code == 0 ? "PASS" : "FAIL") << "  " << file << "  (" << exporting::escape_controls(s.name)
            << ", policy " << scenario::policy_name(s.policy)
            << ", seed " << seed << ")\n"
            << "  steps " << r.steps_passed << " passed, " << r.steps_failed << " failed; expectations "
            << r.expectations_passed << " passed, " << r.expectations_failed << " failed\n"
            << "  " << r.trace_events << " trace events, " << r.events << " simulator events, ended at "
            << format_ns(r.end.ns) << "\n"
            << "  fingerprint "
            << (r.fingerprint.empty() ? "not computed (no trace written; --fingerprint computes it)"
                                      : r.fingerprint)
            << "\n";
  for (const std::string& f : r.failures) std::cout << "  - " << f << "\n";
  for (const std::string& n : r.notes) std::cout << "  note: " << n << "\n";
}

std::optional<scenario::TraceLevel> parse_trace_level(const std::string& s) {
  if (s == "all") return scenario::TraceLevel::kAll;
  if (s == "sockets") return scenario::TraceLevel::kSockets;
  if (s == "none") return scenario::TraceLevel::kNone;
  return std::nullopt;
}

// `--stats`: one machine-readable line, `STATS loop_s=... key=value ...`.
void print_stats(const RunResult& r) {
  std::printf("STATS loop_s=%.6f", r.loop_seconds);
  for (const auto& [key, value] : r.stats) std::printf(" %s=%lld", key.c_str(), static_cast<long long>(value));
  std::printf("\n");
  std::fflush(stdout);
}

int cmd_run(const std::string& file, const std::string& trace, const std::string& out_dir,
            std::optional<uint64_t> seed, const std::vector<std::string>& sets, bool quiet,
            scenario::TraceLevel level, bool stats, bool fingerprint, PcapngCapture capture,
            const std::string& schedule_text) {
  std::vector<Override> overrides;
  if (!parse_overrides(sets, overrides)) return kExitUsage;
  std::optional<Schedule> schedule;
  if (!schedule_text.empty()) {
    std::string error;
    if (!(schedule = parse_schedule(schedule_text, &error))) {
      std::cerr << "netsim: --schedule " << schedule_text << ": " << error << "\n";
      return kExitUsage;
    }
  }
  LoadResult loaded = scenario::load_scenario_file(file, overrides);
  if (!loaded.scenario) {
    print_diagnostics(loaded);
    return kExitInvalid;
  }
  // Another schedule makes another trace: a pinned fingerprint holds for the default only.
  const bool reordered = schedule && *schedule != Schedule{};
  const bool unpinned = reordered && loaded.scenario->fingerprint;
  if (reordered) loaded.scenario->fingerprint.reset();
  if (schedule && schedule->jitter) scenario::apply_jitter(*loaded.scenario, *schedule->jitter);
  std::optional<ScheduleDriver> driver;
  if (schedule) driver.emplace(schedule->choices, 0);
  std::unique_ptr<OutputFile> trace_file;
  if (!trace.empty() && same_file(trace, file)) {
    std::cerr << "netsim: cannot write " << trace << ": it is the scenario file (refusing to replace it)\n";
    return kExitUsage;
  }
  if (!trace.empty() && !(trace_file = open_output(trace))) return kExitUsage;
  ExportOutputs outputs;
  std::vector<ExportFormat> formats(std::begin(kAllExportFormats), std::end(kAllExportFormats));
  if (!out_dir.empty() && !outputs.open(out_dir, formats, "")) return kExitUsage;
  TeeOutput tee;
  tee.add(trace_file.get());
  tee.add(outputs.trace.get());

  RunOptions options;
  options.seed = seed;
  options.trace_level = level;
  options.stats = stats;
  options.trace_output = tee.single();
  options.fingerprint = fingerprint;
  options.tie_breaker = driver ? &*driver : nullptr;
  // The file's scenario runs as the Simulation a program would build (docs/library.md).
  Simulation simulation = SimulationAccess::from_scenario(std::move(*loaded.scenario));
  const scenario::Scenario& s = SimulationAccess::scenario(simulation);
  RunResult r = SimulationAccess::run(simulation, options);
  if (driver && driver->misfit()) {
    std::cerr << "netsim: --schedule " << schedule_text << " does not fit " << file << ": "
              << *driver->misfit() << "\n";
    return kExitUsage;
  }
  if (unpinned) r.notes.push_back("/fingerprint: not checked (the pin holds for the default schedule only)");
  if (!quiet) print_summary(file, s, r, seed.value_or(s.seed));
  if (stats) print_stats(r);
  if (trace_file && !commit_output(*trace_file)) return kExitUsage;
  ExportOptions export_options;
  export_options.capture = capture;
  if (outputs.trace && !outputs.finish(export_options)) return kExitUsage;
  return r.exit_code;
}

int cmd_validate(const std::vector<std::string>& files) {
  int rc = kExitOk;
  for (const std::string& f : files) {
    LoadResult loaded = scenario::load_scenario_file(f);
    if (loaded.scenario) {
      std::cout << "OK    " << f << "\n";
    } else {
      std::cout << "ERROR " << f << "\n";
      print_diagnostics(loaded);
      rc = kExitInvalid;
    }
  }
  return rc;
}

// --- check ---------------------------------------------------------------------

struct CheckItem {
  uint64_t index = 0;    // in the whole run's order (a shard runs some of them)
  std::string file;      // as found
  std::string relative;  // the path relative to the PATH it was found under (the file name for a file PATH)
  std::string stem;      // output name: the relative path with '/' -> '-'
  std::string status;    // PASS, FAIL, ERROR, SKIP
  std::string report;    // the lines printed under it
  std::string reason;    // FAIL, ERROR, SKIP: the first failure or error, on one line
  double seconds = 0;
};

// What `check` finds under one PATH (docs/scenario-format.md, "Running scenarios"):
// every regular `*.json` file, recursively, in sorted order; a directory holding a file
// named `.netsim-check-skip` is skipped with all it contains (e.g. scenarios/guards/,
// which fail on purpose; a file named on the command line, or a skipped directory given
// itself as PATH, still runs), and so are `schema/` folders. Symlinked directories are
// not descended (no loops). An entry that cannot be examined (a symlink loop, a dangling
// link named *.json, a directory without permission, a *.json that is not a regular
// file) is returned in `bad` with the reason: it is reported, the walk goes on. The
// `*.json` files of a skipped directory are returned in `skipped` (reported as SKIP, and
// as <skipped/> in JUnit), without running or examining them further.
struct BadEntry {
  fs::path path;
  std::string reason;
};

constexpr const char* kSkipMarker = ".netsim-check-skip";

// The regular `*.json` files under `dir`, inside the skipped directory `marked` (not
// descending symlinks), each with the reason; entries that cannot be examined are not
// reported: nothing under the marker runs.
void walk_skipped(const fs::path& dir, const fs::path& marked, std::vector<BadEntry>& skipped) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code sec;
    if (it->is_symlink(sec) || it->path().filename() == "schema") continue;
    if (it->is_directory(sec)) {
      walk_skipped(it->path(), marked, skipped);
    } else if (it->path().extension() == ".json" && it->is_regular_file(sec)) {
      skipped.push_back({it->path(), (marked / kSkipMarker).generic_string() + " skips its directory"});
    }
  }
}

void walk(const fs::path& dir, std::vector<fs::path>& found, std::vector<BadEntry>& bad,
          std::vector<BadEntry>& skipped) {
  std::error_code ec;
  std::vector<fs::directory_entry> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    entries.push_back(*it);
  if (ec) {
    bad.push_back({dir, "cannot read directory: " + ec.message()});
    return;
  }
  for (const fs::directory_entry& e : entries) {
    const bool json = e.path().extension() == ".json";
    std::error_code sec;
    const fs::file_status st = fs::status(e.path(), sec);
    if (sec) {
      // A dangling link with another name cannot be a scenario: nothing to report.
      if (json || sec != std::errc::no_such_file_or_directory) bad.push_back({e.path(), sec.message()});
      continue;
    }
    if (fs::is_directory(st)) {
      if (e.is_symlink(sec) || e.path().filename() == "schema") continue;
      if (fs::exists(e.path() / kSkipMarker, sec)) walk_skipped(e.path(), e.path(), skipped);
      else walk(e.path(), found, bad, skipped);
    } else if (json) {
      if (fs::is_regular_file(st)) found.push_back(e.path());
      else bad.push_back({e.path(), "not a regular file"});
    }
  }
}

std::vector<CheckItem> collect(const std::vector<std::string>& paths, const std::string& filter) {
  std::vector<CheckItem> items;
  for (const std::string& p : paths) {
    fs::path root(p);
    std::vector<fs::path> found;
    std::vector<BadEntry> bad;
    std::vector<BadEntry> skipped;
    std::error_code ec;
    const fs::file_status st = fs::status(root, ec);
    const bool is_dir = !ec && fs::is_directory(st);
    if (ec) bad.push_back({root, ec.message()});
    else if (is_dir) walk(root, found, bad, skipped);
    else found.push_back(root);
    auto relative = [&](const fs::path& f) {
      return is_dir ? f.lexically_relative(root).generic_string() : f.filename().generic_string();
    };
    std::vector<CheckItem> here;
    for (const fs::path& f : found) {
      CheckItem item;
      item.file = f.generic_string();
      item.relative = relative(f);
      std::string stem = item.relative;
      if (stem.size() > 5 && stem.substr(stem.size() - 5) == ".json") stem.resize(stem.size() - 5);
      std::replace(stem.begin(), stem.end(), '/', '-');
      item.stem = stem;
      here.push_back(std::move(item));
    }
    for (const BadEntry& b : bad) {
      CheckItem item;
      item.file = b.path.generic_string();
      item.relative = relative(b.path);
      item.status = "ERROR";
      item.reason = item.file + ": " + b.reason;
      item.report = "      " + item.reason + "\n";
      here.push_back(std::move(item));
    }
    for (const BadEntry& s : skipped) {
      CheckItem item;
      item.file = s.path.generic_string();
      item.relative = relative(s.path);
      item.status = "SKIP";
      item.reason = s.reason;
      item.report = "      " + item.reason + "\n";
      here.push_back(std::move(item));
    }
    std::sort(here.begin(), here.end(),
              [](const CheckItem& a, const CheckItem& b) { return a.file < b.file; });
    for (CheckItem& item : here)
      if (filter.empty() || item.file.find(filter) != std::string::npos) items.push_back(std::move(item));
  }
  return items;
}

// With --out or --golden every scenario needs an output name of its own: two that map to
// one name (same-named files under two PATHs, or `a-b.json` next to `a/b.json`) are a
// usage error naming both, before anything runs. Returns false after printing it.
bool output_names_unique(const std::vector<CheckItem>& items) {
  std::map<std::string, const CheckItem*> seen;
  for (const CheckItem& item : items) {
    if (item.stem.empty()) continue;
    auto [it, fresh] = seen.emplace(item.stem, &item);
    if (fresh) continue;
    std::cerr << "netsim: " << it->second->file << " and " << item.file << " would both write "
              << item.stem << ".jsonl; check them in separate runs (output names are the path "
              << "relative to the PATH given, `/` replaced by `-`)\n";
    return false;
  }
  return true;
}

// The first line of a report, without its indent: the first failure (a step's or an
// expectation's pointer and what went wrong) or the first error.
std::string first_line(const std::string& report) {
  size_t start = report.find_first_not_of(' ');
  if (start == std::string::npos) return "";
  return report.substr(start, report.find('\n', start) - start);
}

// Runs one item of `check`: its trace goes, as it is made, to the golden comparison,
// the golden file being rewritten, and `--out`; nothing of it stays in memory.
// A golden trace that differs: the first differing decision in the report and, with a
// `diff_dir`, the diff page DIR/STEM.diff.html (the run is made again, the same trace, to read
// its decisions; only failing scenarios pay for it).
void explain_golden_difference(const CheckItem& item, const scenario::Scenario& s,
                               const fs::path& golden_path, const std::string& diff_dir,
                               const std::string& out_dir, const std::string& line_diff,
                               std::ostream& report) {
  std::ifstream in(golden_path, std::ios::binary);
  std::optional<DecisionLog> golden;
  try {
    golden = read_decisions(in, golden_path.string(), "golden", DiffMode::kExact);
  } catch (const std::exception& e) {
    report << "      (no decision diff: " << e.what() << ")\n";
    return;
  }
  DecisionLog actual("actual", DiffMode::kExact);
  DecisionRecorder recorder(actual);
  RunOptions options;
  options.trace_output = &recorder;
  scenario::run_scenario(s, options);
  DecisionDiff diff = diff_decisions({&*golden, &actual});
  std::string first = first_difference_line(diff);
  report << "      " << (first.empty() ? "no decision differs (timing or packets only)"
                                        : "first differing decision: " + first)
         << "\n";
  if (diff_dir.empty()) return;
  const fs::path page_path = fs::path(diff_dir) / (item.stem + ".diff.html");
  std::string error;
  auto page = OutputFile::open(page_path.string(), &error);
  if (page) {
    write_diff_page(page->stream(), diff,
                    {s.name, "golden", {"", out_dir.empty() ? "" : item.stem + ".html"}, line_diff});
  }
  if (!page || !page->commit(&error)) {
    report << "      cannot write the diff page " << error << "\n";
    return;
  }
  report << "      diff page: " << page_path.generic_string() << "\n";
}

void check_one(CheckItem& item, const std::vector<Override>& overrides, const std::string& golden,
               bool update_golden, const std::string& out_dir, const std::string& diff_dir) {
  auto start = std::chrono::steady_clock::now();
  std::ostringstream report;
  LoadResult loaded = scenario::load_scenario_file(item.file, overrides);
  auto done = [&] {
    item.report = report.str();
    if (item.status != "PASS") item.reason = first_line(item.report);
    item.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (!loaded.scenario) {
    item.status = "ERROR";
    for (const auto& d : loaded.errors) report << "      " << scenario::format_diagnostic(d) << "\n";
    return done();
  }
  TeeOutput tee;
  std::unique_ptr<GoldenComparer> compare;
  std::unique_ptr<OutputFile> new_golden;
  ExportOutputs outputs;
  fs::path golden_path = fs::path(golden) / (item.stem + ".jsonl");
  std::string error;
  if (!golden.empty() && update_golden) {
    std::error_code ec;
    fs::create_directories(golden, ec);
    new_golden = OutputFile::open(golden_path.string(), &error);
    if (!new_golden) {
      item.status = "ERROR";
      report << "      cannot write golden " << error << "\n";
      return done();
    }
    tee.add(new_golden.get());
  } else if (!golden.empty()) {
    compare = std::make_unique<GoldenComparer>(golden_path);
    if (compare->opened()) tee.add(compare.get());
  }
  if (!out_dir.empty()) {
    if (!outputs.open(out_dir, {ExportFormat::kHtml}, item.stem)) {
      item.status = "ERROR";
      report << "      cannot write into " << out_dir << "\n";
      return done();
    }
    tee.add(outputs.trace.get());
  }
  RunOptions options;
  options.trace_output = tee.single();
  Simulation simulation = SimulationAccess::from_scenario(std::move(*loaded.scenario));
  RunResult r = SimulationAccess::run(simulation, options);
  item.status = r.exit_code == 0 ? "PASS" : "FAIL";
  for (const std::string& f : r.failures) report << "      " << f << "\n";
  if (new_golden && !new_golden->commit(&error)) {
    item.status = "ERROR";
    report << "      cannot write golden " << error << "\n";
  }
  if (compare && !compare->opened()) {
    item.status = "FAIL";
    report << "      no golden trace " << golden_path.string() << " (run with --update-golden)\n";
  } else if (compare) {
    std::string diff = compare->finish();
    if (!diff.empty()) {
      item.status = "FAIL";
      report << "      " << diff << "\n";
      explain_golden_difference(item, SimulationAccess::scenario(simulation), golden_path, diff_dir,
                                out_dir, diff, report);
    }
  }
  if (outputs.trace && !outputs.finish()) {
    item.status = "ERROR";
    report << "      cannot write the outputs into " << out_dir << "\n";
  }
  done();
}

// JUnit XML (tests/data/junit.xsd states the shape): a testcase per scenario, its
// `classname` the directory relative to the PATH it was found under ("." at the top) and
// its `name` the file name; a failure's or error's `message` is the first failure on one
// line, the whole report its text; a skipped scenario holds <skipped message="..."/>.
std::string junit_xml(const std::vector<CheckItem>& items) {
  auto seconds = [](double s) {  // decimal seconds, never an exponent
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", s);
    return std::string(buf);
  };
  size_t failures = 0, errors = 0, skipped = 0;
  double total = 0;
  for (const auto& i : items) {
    failures += i.status == "FAIL";
    errors += i.status == "ERROR";
    skipped += i.status == "SKIP";
    total += i.seconds;
  }
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<testsuites name=\"netsim\" tests=\"" << items.size() << "\" failures=\"" << failures
    << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\"" << seconds(total) << "\">\n"
    << "  <testsuite name=\"netsim check\" tests=\"" << items.size() << "\" failures=\"" << failures
    << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\"" << seconds(total) << "\">\n";
  for (const auto& i : items) {
    fs::path rel(i.relative.empty() ? fs::path(i.file).filename() : fs::path(i.relative));
    std::string dir = rel.parent_path().generic_string();
    x << "    <testcase classname=\"" << exporting::xml_escape(dir.empty() ? "." : dir) << "\" name=\""
      << exporting::xml_escape(rel.filename().string()) << "\" time=\"" << seconds(i.seconds) << "\"";
    if (i.status == "PASS") {
      x << "/>\n";
      continue;
    }
    std::string message = exporting::xml_escape(exporting::one_line(i.reason));
    if (i.status == "SKIP") {
      x << ">\n      <skipped message=\"" << message << "\"/>\n    </testcase>\n";
      continue;
    }
    const char* tag = i.status == "FAIL" ? "failure" : "error";
    x << ">\n      <" << tag << " message=\"" << message << "\">" << exporting::xml_escape(i.report)
      << "</" << tag << ">\n    </testcase>\n";
  }
  x << "  </testsuite>\n</testsuites>\n";
  return x.str();
}

void print_item(const CheckItem& it) {
  std::printf("%-5s %s\n%s", it.status.c_str(), it.file.c_str(), it.report.c_str());
}

// The summary line and the JUnit file after every item is printed; the exit code.
int finish_check(const std::vector<CheckItem>& items, const std::string& out_dir, OutputFile* junit_file) {
  size_t pass = 0, fail = 0, error = 0, skip = 0;
  for (const auto& it : items) {
    pass += it.status == "PASS";
    fail += it.status == "FAIL";
    error += it.status == "ERROR";
    skip += it.status == "SKIP";
  }
  std::printf("\n%zu scenarios: %zu passed, %zu failed, %zu invalid", items.size(), pass, fail, error);
  if (skip) std::printf(", %zu skipped", skip);
  std::printf("\n");
  if (!out_dir.empty()) std::printf("traces and HTML views written to %s/\n", out_dir.c_str());
  if (junit_file) {
    junit_file->write(junit_xml(items));
    if (!commit_output(*junit_file)) return kExitUsage;
  }
  if (fail) return kExitFailed;
  if (error) return kExitInvalid;
  return kExitOk;
}

nlohmann::json to_json(const CheckItem& it) {
  return {{"i", it.index},           {"file", it.file},     {"relative", it.relative},
          {"status", it.status},     {"reason", it.reason}, {"report", it.report},
          {"seconds", it.seconds}};
}

// What makes two checks the same run: every item in order (after --filter) and the
// options that change results.
std::string check_input(const std::vector<CheckItem>& items, const std::vector<std::string>& sets,
                        const std::string& golden, bool update_golden) {
  std::vector<std::string> pieces{"check", golden, update_golden ? "update" : ""};
  pieces.insert(pieces.end(), sets.begin(), sets.end());
  pieces.push_back("items");
  for (const CheckItem& it : items) pieces.push_back(it.status + " " + it.file);
  return scenario::input_digest(pieces);
}

struct ShardOptions {
  scenario::Shard shard;
  std::string results_out;  // "": print the table only
};

int cmd_check(const std::vector<std::string>& paths, unsigned jobs, const std::string& filter,
              const std::string& junit, const std::string& golden, bool update_golden,
              const std::string& out_dir, const std::vector<std::string>& sets,
              Progress::Mode progress_mode, const ShardOptions& sharding) {
  std::vector<Override> overrides;
  if (!parse_overrides(sets, overrides)) return kExitUsage;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::symlink_status(p, ec).type() == fs::file_type::not_found) {
      std::cerr << "netsim: no such file or directory: " << p << "\n";
      return kExitUsage;
    }
  }
  std::vector<CheckItem> items = collect(paths, filter);
  if ((!out_dir.empty() || !golden.empty()) && !output_names_unique(items)) return kExitUsage;
  const uint64_t total = items.size();
  const std::string input = check_input(items, sets, golden, update_golden);
  {
    std::vector<CheckItem> all = std::move(items);
    items.clear();
    for (uint64_t i = 0; i < all.size(); ++i)
      if (sharding.shard.owns(i)) {
        all[i].index = i;
        items.push_back(std::move(all[i]));
      }
  }
  // `--out DIR` exists before the JUnit file is opened: `--junit DIR/junit.xml` is usual.
  if (!out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
  }
  std::unique_ptr<OutputFile> junit_file;
  if (!junit.empty() && !(junit_file = open_output(junit))) return kExitUsage;
  std::unique_ptr<OutputFile> part;
  if (!sharding.results_out.empty() && !(part = open_output(sharding.results_out))) return kExitUsage;
  // A golden trace that differs gets its diff page in --out, else next to the JUnit file.
  const std::string diff_dir = !out_dir.empty()                ? out_dir
                               : junit.empty() || golden.empty() ? ""
                                                                 : fs::absolute(junit).parent_path().string();
  Progress progress("netsim check", items.size(), progress_mode);
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  std::mutex print_mutex;
  size_t printed = 0;
  std::vector<bool> done(items.size(), false);
  auto worker = [&] {
    for (size_t i = next++; i < items.size(); i = next++) {
      if (items[i].status.empty())
        check_one(items[i], overrides, golden, update_golden, out_dir, diff_dir);
      std::lock_guard<std::mutex> lock(print_mutex);
      done[i] = true;
      // Print in file order, as soon as every earlier item is done: deterministic output.
      if (printed < items.size() && done[printed]) progress.clear();
      while (printed < items.size() && done[printed]) {
        print_item(items[printed]);
        ++printed;
      }
      std::fflush(stdout);
      progress.step();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::min<size_t>(jobs, items.size()); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  progress.clear();

  const int code = finish_check(items, out_dir, junit_file.get());
  if (!part || code == kExitUsage) return code;
  std::vector<nlohmann::json> records;
  for (const CheckItem& it : items) records.push_back(to_json(it));
  const scenario::PartHeader header{"check", NETSIM_VERSION, input, "", sharding.shard.index,
                                    sharding.shard.count, total};
  std::string error;
  if (!scenario::write_part(*part, header, records, &error)) {
    std::cerr << "netsim: cannot write " << error << "\n";
    return kExitUsage;
  }
  return kExitOk;  // the part holds the results; `netsim merge` gives the verdict
}

// `netsim merge` of check parts: every item back at its index, then the one-machine table.
int merge_check(const std::vector<scenario::Part>& parts, const std::string& junit) {
  const uint64_t total = parts[0].header.items;
  uint64_t records = 0;
  for (const scenario::Part& p : parts) records += p.records.size();
  if (records != total) {
    std::cerr << "netsim merge: the parts hold " << records << " scenarios, their headers say " << total
              << "\n";
    return kExitUsage;
  }
  std::vector<CheckItem> items(total);
  for (const scenario::Part& p : parts) {
    const scenario::Shard shard{p.header.shard, p.header.shards, "", ""};
    bool whole = p.records.size() == shard.size(total);
    for (uint64_t j = 0; whole && j < p.records.size(); ++j) {
      const nlohmann::json& r = p.records[j];
      CheckItem& it = items[shard.item(j)];
      try {
        it = {r.at("i"), r.at("file"), r.at("relative"), "", r.at("status"), r.at("report"),
              r.at("reason"), r.at("seconds")};
      } catch (const nlohmann::json::exception&) {
        whole = false;
      }
      whole = whole && it.index == shard.item(j);
    }
    if (!whole) {
      std::cerr << "netsim merge: " << p.path << ": not the complete items of shard " << p.header.shard
                << "/" << p.header.shards << "\n";
      return kExitUsage;
    }
  }
  std::unique_ptr<OutputFile> junit_file;
  if (!junit.empty() && !(junit_file = open_output(junit))) return kExitUsage;
  for (const CheckItem& it : items) print_item(it);
  return finish_check(items, "", junit_file.get());
}

int cmd_merge(const std::vector<std::string>& paths, const std::string& junit) {
  std::vector<std::string> errors;
  auto parts = scenario::read_parts(paths, &errors);
  if (!parts) {
    for (const std::string& e : errors) std::cerr << "netsim merge: " << e << "\n";
    return kExitUsage;
  }
  if (parts->front().header.command == "check") return merge_check(*parts, junit);
  if (!junit.empty()) {
    std::cerr << "netsim merge: --junit is for parts of `check`; these are of `"
              << parts->front().header.command << "`\n";
    return kExitUsage;
  }
  if (parts->front().header.command == "sweep") return scenario::merge_sweep(*parts);
  if (parts->front().header.command == "explore") return scenario::merge_explore(*parts);
  std::cerr << "netsim merge: parts of an unknown command `" << parts->front().header.command << "`\n";
  return kExitUsage;
}

// A whole non-negative decimal number that fits 64 bits ("-1", "1e3", "0x10" are not).
std::optional<uint64_t> parse_u64(const std::string& text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// `--shard`, `--shards` and `--results-out` of check, sweep and explore.
struct ShardFlags {
  std::string shard;
  uint64_t shards = 0;
  std::string results_out;

  void add_to(CLI::App* command) {
    command->add_option("--shard", shard,
                        "run shard K/N: the items whose index i has i % N == K; `env` reads it from "
                        "Bazel, googletest, a Slurm array or a Kubernetes Indexed Job (docs/cluster.md)");
    command->add_option("--shards", shards, "with --shard env under a Kubernetes Indexed Job: its completions");
    command->add_option("--results-out", results_out,
                        "write this shard's results here for `netsim merge` (exit 0 once written)");
  }
  // The shard to run (the whole run without --shard); nullopt after printing why not.
  std::optional<ShardOptions> parse() const {
    ShardOptions out{{}, results_out};
    if (shard.empty()) {
      if (shards == 0) return out;
      std::cerr << "netsim: --shards is for --shard env\n";
      return std::nullopt;
    }
    std::string error;
    auto parsed = scenario::parse_shard(shard, shards, scenario::process_environment(), &error);
    if (parsed && scenario::touch_status_file(*parsed, &error)) {
      out.shard = *parsed;
      return out;
    }
    std::cerr << "netsim: " << error << "\n";
    return std::nullopt;
  }
};

Progress::Mode parse_progress(const std::string& s) {
  if (s == "always") return Progress::Mode::kAlways;
  if (s == "never") return Progress::Mode::kNever;
  return Progress::Mode::kAuto;
}

}  // namespace

int main(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "export") {
    return export_main(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  // Every command and option is defined here once: the parser, `--help`, the man page and the
  // completion scripts (`netsim help`, scenarios/cli_doc.h) all read these definitions.
  CLI::App app{"netsim: a deterministic discrete-event network simulator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", NETSIM_VERSION);
  OptionValues values;  // the options that take one of a set of words
  auto one_of = [&values](CLI::Option* option, std::vector<std::string> words) {
    option->check(CLI::IsMember(words));
    values[option] = {std::move(words), false};
  };

  std::string run_file, run_trace, run_out, run_seed;
  std::vector<std::string> run_sets;
  bool run_quiet = false;
  bool run_stats = false;
  bool run_fingerprint = false;
  std::string run_level = "all";
  std::string run_capture = "tx";
  std::string run_schedule;
  CLI::App* run = app.add_subcommand("run", "run one scenario and write its trace");
  run->add_option("FILE", run_file, "scenario file")->required();
  run->add_option("--trace", run_trace, "write the JSONL trace here");
  run->add_option("--out", run_out, "write the trace and every export (pcapng, chrome, dot, mermaid, html) into this directory");
  one_of(run->add_option("--capture", run_capture,
                         "with --out, the pcapng's packets: tx (default: each packet once per link, "
                         "at the sender), rx (at the receiver) or both"),
         {"tx", "rx", "both"});
  run->add_option("--seed", run_seed, "override the scenario's seed (0 to 18446744073709551615)");
  run->add_option("--set", run_sets, "override a value: POINTER=JSON (e.g. /links/0/loss=0.1)");
  run->add_flag("-q,--quiet", run_quiet, "print nothing but errors");
  one_of(run->add_option("--trace-level", run_level,
                         "all (default): the full trace; sockets: no per-hop tx/rx/forward events; "
                         "none: only the event kinds the expectations match (a filtered trace, "
                         "much faster for large runs; see docs/performance.md)"),
         {"all", "sockets", "none"});
  run->add_flag("--fingerprint", run_fingerprint,
                "compute the trace fingerprint also when no trace is written (renders every line)");
  run->add_option("--schedule", run_schedule,
                  "replay a schedule `netsim explore` printed: the order of same-instant events "
                  "(see docs/explore.md)");
  run->add_flag("--stats", run_stats,
                "print a STATS line: loop wall time, events, packet counters, UDP latency, TCP counters");

  std::vector<std::string> validate_files;
  CLI::App* validate = app.add_subcommand("validate", "check scenario files without running them");
  validate->add_option("FILE", validate_files, "scenario files")->required();

  std::vector<std::string> check_paths, check_sets;
  unsigned check_jobs = 0;
  std::string check_filter, check_junit, check_golden, check_out;
  bool check_update = false;
  CLI::App* check = app.add_subcommand("check", "run every scenario under the paths, like a test runner");
  check->add_option("PATH", check_paths, "scenario files or directories (recursive)")->required();
  check->add_option("-j,--jobs", check_jobs, "parallel runs (default: the cores)");
  check->add_option("--filter", check_filter, "only files whose path contains this text");
  check->add_option("--junit", check_junit, "write JUnit XML here");
  check->add_option("--golden", check_golden, "compare each trace with DIR/NAME.jsonl");
  check->add_flag("--update-golden", check_update, "rewrite the golden traces");
  check->add_option("--out", check_out, "write each trace and its HTML view into this directory");
  check->add_option("--set", check_sets, "override a value in every scenario: POINTER=JSON");
  const char* progress_help =
      "progress on stderr: auto (default: on a terminal only), always, never";
  std::string check_progress = "auto", sweep_progress = "auto";
  one_of(check->add_option("--progress", check_progress, progress_help),
         {"auto", "always", "never"});
  ShardFlags check_shard;
  check_shard.add_to(check);

  std::string sweep_file;
  std::vector<std::string> sweep_sets;
  unsigned sweep_jobs = 0;
  CLI::App* sweep = app.add_subcommand("sweep", "run the variations of one scenario and tabulate what held");
  sweep->add_option("FILE", sweep_file, "scenario file")->required();
  sweep->add_option("--set", sweep_sets, "POINTER=VALUES: A..B, a JSON array, or a,b,c")->required();
  sweep->add_option("-j,--jobs", sweep_jobs, "parallel runs (default: the cores)");
  one_of(sweep->add_option("--progress", sweep_progress, progress_help),
         {"auto", "always", "never"});
  ShardFlags sweep_shard;
  sweep_shard.add_to(sweep);
  uint64_t sweep_max_runs = scenario::kMaxSweepRuns;
  sweep->add_option("--max-runs", sweep_max_runs,
                    "the guard: most runs this process makes (default " +
                        std::to_string(scenario::kMaxSweepRuns) + ")");

  std::vector<std::string> merge_parts;
  std::string merge_junit;
  CLI::App* merge = app.add_subcommand(
      "merge", "print the table (and JUnit file, and exit code) of a run made in shards, from their --results-out files");
  merge->add_option("PART", merge_parts, "the result files, one per shard, in any order")->required();
  merge->add_option("--junit", merge_junit, "write the JUnit XML of a merged check here");

  scenario::CompareOptions compare_options;
  std::string compare_seed;
  CLI::App* compare = app.add_subcommand(
      "compare", "run one scenario under several policies and show where their decisions differ");
  compare->add_option("FILE", compare_options.file, "scenario file")->required();
  CLI::Option* policies =
      compare->add_option("--policies", compare_options.policies,
                          "comma-separated policy names, at least two (e.g. seed,netstack3,linux)")
          ->required();
  values[policies].comma_list = true;
  for (scenario::Policy p : scenario::kAllPolicies) values[policies].values.push_back(scenario::policy_name(p));
  compare->add_option("--set", compare_options.sets, "override a value in every run: POINTER=JSON");
  compare->add_option("--seed", compare_seed, "override the scenario's seed in every run");
  compare->add_option("--out", compare_options.out_dir,
                      "write each policy's trace and viewer, and compare.html, into this directory");
  compare->add_option("--max-rows", compare_options.max_rows,
                      "differing step runs printed (default 50; the page has them all)");

  scenario::ExploreOptions explore_options;
  std::string explore_seed;
  CLI::App* explore = app.add_subcommand(
      "explore", "re-run a scenario under other orders of same-instant events and report what broke");
  explore->add_option("FILE", explore_options.file, "scenario file")->required();
  explore->add_option("--max-runs", explore_options.max_runs, "schedules run at most, the default one included (default 1000)");
  explore->add_option("--depth", explore_options.depth, "reorderings per schedule at most (default 2)");
  explore->add_option("--jitter", explore_options.jitter_text,
                      "also run --draws copies with link latencies and step times moved within +-D (e.g. 1us)");
  explore->add_option("--draws", explore_options.draws, "jittered runs with --jitter (default 16)");
  explore->add_option("-j,--jobs", explore_options.jobs, "parallel runs (default: the cores)");
  explore->add_option("--seed", explore_seed, "override the scenario's seed");
  explore->add_option("--set", explore_options.sets, "override a value: POINTER=JSON");
  explore->add_option("--out", explore_options.out_dir,
                      "write, for each row broken, the default run's and the breaking schedule's "
                      "traces and viewers and the diff page of the two (ROW.diff.html)");
  ShardFlags explore_shard;
  explore_shard.add_to(explore);


  // `netsim export` has its own parser (viz/export.h); its options are defined here from the
  // table that parser follows, for the help, man page and completion.
  CLI::App* export_command =
      app.add_subcommand("export", "turn a trace into pcapng, chrome, dot, mermaid or html");
  std::vector<std::string> export_values(export_flags().size() + 1);
  export_command->add_option("TRACE", export_values.back(), "the JSONL trace (- for standard input)")
      ->required();
  for (size_t i = 0; i < export_flags().size(); ++i) {
    const ExportFlag& flag = export_flags()[i];
    CLI::Option* option = export_command->add_option(std::string(flag.names), export_values[i],
                                                     std::string(flag.help));
    option->type_name(std::string(flag.value));
    if (!flag.choices.empty()) values[option] = {flag.choices, false};
  }

  std::string init_dir;
  CLI::App* init = app.add_subcommand(
      "init", "write a starter project: a scenario with expectations and a CI snippet running "
              "netsim check --junit (never overwrites a file)");
  init->add_option("DIR", init_dir, "the project's directory (created if missing)")->required();

  bool help_man = false;
  std::string help_completion;
  CLI::App* help = app.add_subcommand(
      "help", "print this help, the man page (--man) or a shell completion script (--completion)");
  help->add_flag("--man", help_man, "print the man page netsim.1 (roff; man -l renders it)");
  one_of(help->add_option("--completion", help_completion,
                          "print the completion script for this shell (bash or zsh)"),
         {"bash", "zsh"});

  // A first word that is not an option must be a command (CLI11 would only say that one
  // is required).
  if (!args.empty() && !args[0].empty() && args[0][0] != '-' &&
      app.get_subcommands([&](CLI::App* c) { return c->get_name() == args[0]; }).empty()) {
    std::string names;
    for (const CLI::App* c : app.get_subcommands([](CLI::App*) { return true; }))
      names += (names.empty() ? "" : ", ") + c->get_name();
    std::cerr << "netsim: unknown command `" << args[0] << "` (commands: " << names
              << "; see netsim --help)\n";
    return kExitUsage;
  }

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  try {
    if (*run) {
      std::optional<uint64_t> seed;
      if (!run_seed.empty() && !(seed = parse_u64(run_seed))) {
        std::cerr << "netsim: --seed " << run_seed
                  << ": expected an integer from 0 to 18446744073709551615\n";
        return kExitUsage;
      }
      return cmd_run(run_file, run_trace, run_out, seed, run_sets, run_quiet,
                     *parse_trace_level(run_level), run_stats, run_fingerprint,
                     *parse_capture(run_capture), run_schedule);
    }
    if (*validate) return cmd_validate(validate_files);
    if (*explore) {
      if (!explore_seed.empty() && !(explore_options.seed = parse_u64(explore_seed))) {
        std::cerr << "netsim: --seed " << explore_seed
                  << ": expected an integer from 0 to 18446744073709551615\n";
        return kExitUsage;
      }
      auto sharding = explore_shard.parse();
      if (!sharding) return kExitUsage;
      explore_options.shard = sharding->shard;
      explore_options.results_out = sharding->results_out;
      return scenario::run_explore(explore_options);
    }
    if (*init) return run_init(init_dir, installed_schema_path());
    if (*help) {
      if (help_man) std::cout << man_page(app, values, NETSIM_VERSION);
      else if (help_completion == "bash") std::cout << bash_completion(app, values);
      else if (help_completion == "zsh") std::cout << zsh_completion(app, values);
      else std::cout << app.help();
      return kExitOk;
    }
    if (*compare) {
      if (!compare_seed.empty() && !(compare_options.seed = parse_u64(compare_seed))) {
        std::cerr << "netsim: --seed " << compare_seed
                  << ": expected an integer from 0 to 18446744073709551615\n";
        return kExitUsage;
      }
      return scenario::run_compare(compare_options);
    }
    if (*merge) return cmd_merge(merge_parts, merge_junit);
    if (*sweep) {
      auto sharding = sweep_shard.parse();
      if (!sharding) return kExitUsage;
      scenario::SweepOptions options{sweep_file, {}, sweep_jobs, parse_progress(sweep_progress),
                                     sharding->shard, sharding->results_out, sweep_max_runs};
      for (const std::string& text : sweep_sets) {
        std::string error;
        auto axis = scenario::parse_sweep_axis(text, &error);
        if (!axis) {
          std::cerr << "netsim: --set " << text << ": " << error << "\n";
          return kExitUsage;
        }
        options.axes.push_back(std::move(*axis));
      }
      return scenario::run_sweep(options);
    }
    if (*check) {
      auto sharding = check_shard.parse();
      if (!sharding) return kExitUsage;
      return cmd_check(check_paths, check_jobs, check_filter, check_junit,
                       check_update && check_golden.empty() ? "golden" : check_golden, check_update,
                       check_out, check_sets, parse_progress(check_progress), *sharding);
    }
  } catch (const std::exception& e) {
    std::cerr << "netsim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitUsage;
}

}  // namespace netsim::cli
