#include "scenarios/explore.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <numeric>
#include <sstream>
#include <thread>
#include <tuple>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "sim/random.h"
#include "viz/export.h"
#include "viz/export_trace_view.h"
#include "viz/output_file.h"
#include "viz/trace_diff.h"

namespace netsim::scenario {

namespace fs = std::filesystem;

// --- the reduction ---------------------------------------------------------------

Dependence::Dependence(const Scenario& s) : group_(s.hosts.size()) {
  std::iota(group_.begin(), group_.end(), 0u);
  auto find = [&](uint32_t h) {
    while (group_[h] != h) h = group_[h] = group_[group_[h]];
    return h;
  };
  auto index_of = [&](const std::string& name) -> std::optional<uint32_t> {
    for (size_t i = 0; i < s.hosts.size(); ++i)
      if (s.hosts[i].name == name) return static_cast<uint32_t>(i);
    return std::nullopt;
  };
  for (const Link& l : s.links) {
    const bool at_once = l.latency.ns == 0 && !l.bandwidth_bps;
    if (!at_once && l.loss <= 0) continue;
    std::optional<uint32_t> first;
    for (const Endpoint& e : l.between) {
      auto h = index_of(e.host);
      if (!h) continue;
      if (!first) first = find(*h);
      else group_[find(*h)] = *first;
    }
  }
  for (uint32_t h = 0; h < group_.size(); ++h) group_[h] = find(h);
}

bool Dependence::dependent(EventTag a, EventTag b) const {
  if (a.host() >= group_.size() || b.host() >= group_.size()) return true;  // kNoHost included
  return group_[a.host()] == group_[b.host()];
}

std::vector<uint32_t> reordering_picks(const Dependence& d, std::span<const EventTag> ready) {
  std::vector<uint32_t> picks;
  for (size_t i = 1; i < ready.size(); ++i) {
    // Steps keep their file order among themselves (the timeline is one script), and
    // ready steps always come first: a step is never picked ahead of another.
    if (ready[i].kind() == EventKind::kStep && ready[i - 1].kind() == EventKind::kStep) continue;
    for (size_t j = 0; j < i; ++j) {
      if (d.dependent(ready[j], ready[i])) {
        picks.push_back(static_cast<uint32_t>(i));
        break;
      }
    }
  }
  return picks;
}

void apply_jitter(Scenario& s, JitterDraw j) {
  Rng rng = Rng(s.seed).substream("jitter/" + std::to_string(j.draw));
  const uint64_t span = 2 * static_cast<uint64_t>(j.bound) + 1;
  auto moved = [&](int64_t ns) {
    const int64_t delta = static_cast<int64_t>(rng.below(span)) - j.bound;
    return std::max<int64_t>(0, ns + delta);
  };
  for (Step& step : s.steps) step.at = SimTime{moved(step.at.ns)};
  for (Link& l : s.links) l.latency = Duration{moved(l.latency.ns)};
  s.fingerprint.reset();
}

namespace {

constexpr int kHeld = 0, kBroken = 1, kUsage = 2, kInvalid = 3, kInternal = 4;
// Ties a run records for its children (schedules one reordering deeper); later ones are
// not explored.
constexpr size_t kMaxRecordedTies = 1 << 16;

struct Outcome {
  Schedule schedule;
  bool steps_held = true;  // every step gave its expected result, no guard stopped the run
  std::vector<bool> held;  // per expectation, in file order
  std::vector<Tie> ties;   // recorded for children
  uint64_t tie_count = 0;  // met, recorded or not
  std::optional<std::string> misfit;
  bool broken() const {
    return !steps_held || std::find(held.begin(), held.end(), false) != held.end();
  }
};

Outcome run_one(const Scenario& base, const Schedule& schedule, std::optional<uint64_t> seed,
                size_t record, TraceOutput* trace = nullptr) {
  Scenario jittered;
  const Scenario* s = &base;
  if (schedule.jitter) {
    jittered = base;
    apply_jitter(jittered, *schedule.jitter);
    s = &jittered;
  }
  ScheduleDriver driver(schedule.choices, record);
  RunOptions options;
  options.seed = seed;
  options.tie_breaker = &driver;
  options.trace_output = trace;
  options.trace_level = trace ? TraceLevel::kAll : TraceLevel::kNone;
  RunResult r = run_scenario(*s, options);
  Outcome o;
  o.schedule = schedule;
  o.steps_held = r.steps_failed == 0 && !r.guard;
  for (const auto& [pointer, held] : r.expectations) o.held.push_back(held);
  o.ties = driver.recorded();
  o.tie_count = driver.ties();
  o.misfit = driver.misfit();
  return o;
}

// Runs `schedules` on up to `jobs` threads; the outcomes come back in the same order.
std::vector<Outcome> run_all(const Scenario& base, const std::vector<Schedule>& schedules,
                             std::optional<uint64_t> seed, size_t record, unsigned jobs) {
  std::vector<Outcome> out(schedules.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < schedules.size();) out[i] = run_one(base, schedules[i], seed, record);
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < std::min<size_t>(jobs, schedules.size()); ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return out;
}

// Adds the verdicts of schedule `index`, run as `o`.
void tally(SearchResult& r, uint64_t index, const Outcome& o) {
  // Schedules run by reorderings, unjittered first: the first breaking one is the smallest.
  for (size_t e = 0; e < o.held.size() && e < r.broken.size(); ++e) {
    if (o.held[e]) continue;
    ++r.broken[e];
    if (!r.first[e]) r.first[e] = index;
  }
  if (!o.steps_held) {
    ++r.steps_broken;
    if (!r.steps_first) r.steps_first = index;
  }
  if (o.broken() && !r.smallest) r.smallest = index;
}

// The children of `o`: one more reordering at a tie after its last one, in tie order
// then pick order, at most `room` of them; counts the picks the reduction pruned.
void children(const Outcome& o, const Dependence& dep, size_t room, std::vector<Schedule>& out,
              SearchResult& r) {
  const uint64_t after = o.schedule.choices.empty() ? 0 : o.schedule.choices.back().tie + 1;
  for (uint64_t k = after; k < o.ties.size(); ++k) {
    const Tie& tie = o.ties[k];
    std::vector<uint32_t> picks = reordering_picks(dep, tie.ready);
    r.pruned += tie.ready.size() - 1 - picks.size();
    for (uint32_t p : picks) {
      if (out.size() >= room) {
        ++r.unexplored;
        continue;
      }
      Schedule child = o.schedule;
      child.choices.push_back(ScheduleChoice{k, tie.t, p});
      out.push_back(std::move(child));
    }
  }
}

std::string describe(const Expectation& e) {
  auto matcher_text = [](const EventMatcher& m) {
    std::string t = m.fields.dump();
    return t.size() > 60 ? t.substr(0, 57) + "..." : t;
  };
  if (e.match) return matcher_text(*e.match);
  return "sequence of " + std::to_string(e.sequence.size());
}

// The report's lines on where `diff`'s breaking run first departs from the default one.
void show_divergence(std::ostream& out, const DecisionDiff& diff) {
  const std::string line = first_difference_line(diff);
  if (line.empty()) {
    out << "  the two runs made the same delivery decisions (the expectations saw a different order)\n";
    return;
  }
  out << "  first diverging decision: " << line << "\n";
  std::ostringstream rows;
  print_diff(rows, diff, 1);
  std::string text = rows.str(), row;
  std::istringstream in(text);
  while (std::getline(in, row))
    if (!row.starts_with("... ")) out << "    " << row << "\n";  // its pointer to the full diff
}

// A schedule found breaking something: its index in the search and its string.
struct Found {
  uint64_t index = 0;
  std::string schedule;
};

nlohmann::json found_json(const std::optional<Found>& f) {
  if (!f) return nullptr;
  return {{"index", f->index}, {"schedule", f->schedule}};
}

std::optional<Found> found_from(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  return Found{j.at("index"), j.at("schedule")};
}

// Keeps the earlier of `mine` and `theirs`; true when that is `theirs`.
bool keep_earlier(std::optional<Found>& mine, const std::optional<Found>& theirs) {
  if (!theirs || (mine && mine->index <= theirs->index)) return false;
  mine = theirs;
  return true;
}

// One row of the table: the steps' own results, or one expectation.
struct Row {
  std::string name, what;
  uint64_t broken = 0;  // schedules it failed in
  std::optional<Found> first;
};

// What explore prints, made from one search or merged from the parts of a sharded one, so
// that both print the same. The layout (heading, counts) is the whole search's; `tallied`,
// the rows and `smallest` cover the schedules whose verdicts are in.
struct Report {
  std::string heading;
  uint64_t runs = 0, default_ties = 0, reordered = 0, jittered = 0, pruned = 0, unexplored = 0;
  uint64_t tallied = 0;
  std::vector<Row> rows;          // the steps, then each expectation in file order
  std::optional<Found> smallest;  // the first schedule where anything broke
  std::string smallest_text;      // its lines: the schedule, the replay, the first divergence

  auto layout() const { return std::tie(heading, runs, default_ties, reordered, jittered, pruned, unexplored); }

  nlohmann::json to_json() const {
    nlohmann::json out = {{"heading", heading},     {"runs", runs},         {"default_ties", default_ties},
                          {"reordered", reordered}, {"jittered", jittered}, {"pruned", pruned},
                          {"unexplored", unexplored}, {"tallied", tallied}, {"rows", nlohmann::json::array()},
                          {"smallest", found_json(smallest)}, {"smallest_text", smallest_text}};
    for (const Row& r : rows)
      out["rows"].push_back({{"name", r.name}, {"what", r.what}, {"broken", r.broken}, {"first", found_json(r.first)}});
    return out;
  }
  // Throws nlohmann::json::exception when `j` is not a report.
  static Report from_json(const nlohmann::json& j) {
    Report r{j.at("heading"),  j.at("runs"),       j.at("default_ties"), j.at("reordered"), j.at("jittered"),
             j.at("pruned"),   j.at("unexplored"), j.at("tallied"),      {},                 found_from(j.at("smallest")),
             j.at("smallest_text")};
    for (const nlohmann::json& row : j.at("rows"))
      r.rows.push_back({row.at("name"), row.at("what"), row.at("broken"), found_from(row.at("first"))});
    return r;
  }
  // Adds another shard's verdicts; false (nothing added) when it is not of the same search.
  bool add(const Report& other) {
    if (other.layout() != layout() || other.rows.size() != rows.size()) return false;
    for (size_t i = 0; i < rows.size(); ++i)
      if (other.rows[i].name != rows[i].name) return false;
    tallied += other.tallied;
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].broken += other.rows[i].broken;
      keep_earlier(rows[i].first, other.rows[i].first);
    }
    if (keep_earlier(smallest, other.smallest)) smallest_text = other.smallest_text;
    return true;
  }
};

// Prints the report; the exit code: held (0) or broken (1).
int print_report(std::ostream& out, const Report& r) {
  out << r.heading << "\n";
  out << "  ties in the default run: " << r.default_ties
      << (r.default_ties > kMaxRecordedTies ? " (the first 65536 explored)" : "") << "\n";
  out << "  schedules: " << r.runs << " run (the default, " << r.reordered << " reordered, " << r.jittered
      << " jittered); " << r.pruned << " pruned by the reduction; " << r.unexplored
      << " left unexplored (--max-runs)\n";
  if (r.tallied != r.runs) out << "  this shard's verdicts: " << r.tallied << " of them (netsim merge adds the others)\n";
  size_t width = 5;
  for (const Row& row : r.rows) width = std::max(width, row.name.size());
  out << "  " << std::left << std::setw(static_cast<int>(width)) << "" << "  " << std::setw(9) << "held"
      << "smallest breaking schedule\n";
  for (const Row& row : r.rows) {
    std::ostringstream held;
    held << r.tallied - row.broken << "/" << r.tallied;
    out << "  " << std::left << std::setw(static_cast<int>(width)) << row.name << "  " << std::setw(9) << held.str()
        << (row.first ? row.first->schedule : std::string("-")) << "  " << row.what << "\n";
  }
  if (!r.smallest) {
    out << "HELD in every schedule run\n";
    return kHeld;
  }
  out << r.smallest_text;
  return kBroken;
}

// The decisions of `schedule`'s run, named `name`; with a `trace` path the run's trace is
// written there and its viewer beside it (NAME.html), and the decisions are read back from it.
// nullopt after printing why a file could not be written.
std::optional<DecisionLog> decisions(const Scenario& base, const Schedule& schedule, std::optional<uint64_t> seed,
                                     const std::string& name, const std::optional<fs::path>& trace) {
  if (!trace) {
    DecisionLog log(name, DiffMode::kOutcome);
    DecisionRecorder recorder(log);
    run_one(base, schedule, seed, 0, &recorder);
    return log;
  }
  std::string error;
  std::unique_ptr<OutputFile> file = OutputFile::open(trace->string(), &error);
  if (file) run_one(base, schedule, seed, 0, file.get());
  if (!file || !file->commit(&error)) {
    std::cerr << "netsim: cannot write " << error << "\n";
    return std::nullopt;
  }
  try {
    std::ifstream in(*trace, std::ios::binary);
    export_file(in, trace->string(), ExportFormat::kHtml, fs::path(*trace).replace_extension(".html"));
    in.clear();
    in.seekg(0);
    return read_decisions(in, trace->string(), name, DiffMode::kOutcome);
  } catch (const std::exception& e) {
    std::cerr << "netsim: cannot write the viewer of " << trace->string() << ": " << e.what() << "\n";
    return std::nullopt;
  }
}

// A row's name as a file name: "/expect/0" -> "expect-0".
std::string stem(const std::string& name) {
  std::string out = name.starts_with('/') ? name.substr(1) : name;
  std::replace(out.begin(), out.end(), '/', '-');
  return out;
}

}  // namespace

SearchResult search_schedules(const Scenario& base, const SearchSettings& settings) {
  const Dependence dep(base);
  SearchResult r;
  r.broken.resize(base.expect.size());
  r.first.resize(base.expect.size());
  const unsigned jobs = std::max(1u, settings.jobs);
  // Lays out `batch` as the next schedules of the search and runs those this process must:
  // all of them when `expand` (their children are wanted), else the default and the shard's
  // own. Tallies the shard's own; returns the outcomes of the runs, in batch order.
  auto run_batch = [&](const std::vector<Schedule>& batch, bool expand, size_t record) {
    const uint64_t from = r.schedules.size();
    std::vector<Schedule> here;
    std::vector<uint64_t> index;
    for (size_t j = 0; j < batch.size(); ++j) {
      if (!expand && from + j != 0 && !settings.shard.owns(from + j)) continue;
      here.push_back(batch[j]);
      index.push_back(from + j);
    }
    for (const Schedule& s : batch) {
      r.schedules.push_back(s);
      r.reordered += !s.choices.empty();
      r.jittered += s.jitter.has_value();
    }
    std::vector<Outcome> outcomes = run_all(base, here, settings.seed, record, jobs);
    for (size_t k = 0; k < outcomes.size(); ++k) {
      const Outcome& o = outcomes[k];
      if (o.misfit && !r.misfit) r.misfit = to_string(o.schedule) + ": " + *o.misfit;
      if (index[k] == 0) r.default_ties = o.tie_count;
      if (settings.shard.owns(index[k])) tally(r, index[k], o);
    }
    return outcomes;
  };
  std::vector<Schedule> level{Schedule{}};
  for (uint32_t depth = 0; !level.empty(); ++depth) {
    const bool last = depth == settings.depth;
    std::vector<Schedule> next;
    // In chunks, so that only one chunk's recorded ties are held at once.
    const size_t chunk = std::max<size_t>(64, 4 * jobs);
    for (size_t from = 0; from < level.size(); from += chunk) {
      const size_t to = std::min(level.size(), from + chunk);
      std::vector<Schedule> part(level.begin() + static_cast<std::ptrdiff_t>(from),
                                 level.begin() + static_cast<std::ptrdiff_t>(to));
      std::vector<Outcome> outcomes = run_batch(part, !last, last ? 0 : kMaxRecordedTies);
      if (last) continue;
      const uint64_t committed = r.schedules.size() + (level.size() - to);
      const uint64_t room = settings.max_runs - std::min(settings.max_runs, committed);
      for (const Outcome& o : outcomes) children(o, dep, room, next, r);
    }
    level = std::move(next);
  }
  if (settings.jitter) {
    std::vector<Schedule> draws;
    for (uint32_t d = 1; d <= settings.draws && r.schedules.size() + draws.size() < settings.max_runs; ++d)
      draws.push_back(Schedule{JitterDraw{settings.jitter->ns, d}, {}});
    run_batch(draws, false, 0);
  }
  return r;
}

int run_explore(const ExploreOptions& options) {
  std::vector<Override> overrides;
  if (std::string error; !parse_overrides(options.sets, overrides, &error)) {
    std::cerr << "netsim: " << error << "\n";
    return kUsage;
  }
  std::optional<Duration> jitter;
  if (!options.jitter_text.empty()) {
    std::string error;
    if (!(jitter = parse_duration(options.jitter_text, &error))) {
      std::cerr << "netsim: --jitter " << options.jitter_text << ": " << error << "\n";
      return kUsage;
    }
  }
  if (options.max_runs == 0) {
    std::cerr << "netsim: --max-runs must be at least 1\n";
    return kUsage;
  }
  if (!options.out_dir.empty() && !options.results_out.empty()) {
    std::cerr << "netsim: --out is for a table printed here, not with --results-out (replay the merged "
                 "table's schedule, docs/explore.md)\n";
    return kUsage;
  }
  LoadResult loaded = load_scenario_file(options.file, overrides);
  if (!loaded.scenario) {
    for (const auto& d : loaded.errors) std::cerr << format_diagnostic(d) << "\n";
    return kInvalid;
  }
  // The files are opened before the search, so that one that cannot be written is found first.
  std::unique_ptr<OutputFile> part;
  std::string error;
  if (!options.results_out.empty() && !(part = OutputFile::open(options.results_out, &error))) {
    std::cerr << "netsim: cannot write " << error << "\n";
    return kUsage;
  }
  const fs::path dir(options.out_dir);
  if (!options.out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir)) {
      std::cerr << "netsim: cannot create directory " << dir.string() << (ec ? ": " + ec.message() : "") << "\n";
      return kUsage;
    }
  }
  Scenario base = std::move(*loaded.scenario);
  base.fingerprint.reset();  // every other schedule's trace differs from the pinned one
  SearchSettings settings;
  settings.seed = options.seed;
  settings.max_runs = options.max_runs;
  settings.depth = options.depth;
  settings.jitter = jitter;
  settings.draws = options.draws;
  settings.jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  settings.shard = options.shard;
  const SearchResult result = search_schedules(base, settings);
  if (result.misfit) {
    std::cerr << "netsim: internal error: a schedule explore made did not fit its run: " << *result.misfit << "\n";
    return kInternal;
  }

  Report report;
  {
    std::ostringstream heading;
    heading << "explore " << options.file << " (" << exporting::escape_controls(base.name) << "): depth " << options.depth << ", at most "
            << options.max_runs << " runs";
    if (jitter) heading << ", jitter +-" << format_duration(jitter->ns) << " x" << options.draws;
    report.heading = heading.str();
  }
  report.runs = result.schedules.size();
  report.default_ties = result.default_ties;
  report.reordered = result.reordered;
  report.jittered = result.jittered;
  report.pruned = result.pruned;
  report.unexplored = result.unexplored;
  report.tallied = options.shard.size(report.runs);
  auto found = [&](std::optional<uint64_t> i) -> std::optional<Found> {
    if (!i) return std::nullopt;
    return Found{*i, to_string(result.schedules[*i])};
  };
  report.rows.push_back({"steps", "(each step's result, no guard)", result.steps_broken, found(result.steps_first)});
  for (size_t e = 0; e < base.expect.size(); ++e)
    report.rows.push_back({base.expect[e].pointer, describe(base.expect[e]), result.broken[e], found(result.first[e])});

  // The decisions of the default run and of each breaking schedule shown (with --out: their
  // traces and viewers written to DIR), by schedule index.
  std::map<uint64_t, DecisionLog> logs;
  auto log_of = [&](uint64_t i) -> const DecisionLog* {
    if (auto it = logs.find(i); it != logs.end()) return &it->second;
    const std::string name = i == 0 ? "default" : "schedule-" + std::to_string(i);
    std::optional<fs::path> trace;
    if (!options.out_dir.empty()) trace = dir / (name + ".jsonl");
    auto log = decisions(base, result.schedules[i], options.seed, i == 0 ? "default" : "breaking", trace);
    return log ? &logs.emplace(i, std::move(*log)).first->second : nullptr;
  };
  if (result.smallest) {
    const Schedule& s = result.schedules[*result.smallest];
    const DecisionLog* default_log = log_of(0);
    const DecisionLog* breaking_log = log_of(*result.smallest);
    if (!default_log || !breaking_log) return kUsage;
    std::ostringstream text;
    text << "BROKEN: smallest breaking schedule (" << s.reorderings() << " reordering"
         << (s.reorderings() == 1 ? "" : "s") << (s.jitter ? ", jittered" : "") << "): " << to_string(s) << "\n";
    text << "  replay: netsim run " << options.file << " --schedule " << to_string(s);
    if (options.seed) text << " --seed " << *options.seed;
    text << "\n";
    if (*result.smallest == 0) {
      text << "  the default schedule breaks it: plain `netsim run` fails the same way, no reordering needed\n";
    } else {
      show_divergence(text, diff_decisions({default_log, breaking_log}));
    }
    report.smallest = found(result.smallest);
    report.smallest_text = text.str();
  }

  if (part) {
    std::vector<std::string> input{"explore", options.file, std::to_string(options.depth),
                                   std::to_string(options.max_runs), options.jitter_text,
                                   std::to_string(options.draws),
                                   options.seed ? std::to_string(*options.seed) : ""};
    std::ifstream in(options.file, std::ios::binary);
    input.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    input.insert(input.end(), options.sets.begin(), options.sets.end());
    const PartHeader header{"explore", NETSIM_VERSION, input_digest(input), options.file,
                            options.shard.index, options.shard.count, report.runs};
    if (!write_part(*part, header, {report.to_json()}, &error)) {
      std::cerr << "netsim: cannot write " << error << "\n";
      return kUsage;
    }
    return kHeld;  // the part holds the verdicts; `netsim merge` gives them
  }
  const int code = print_report(std::cout, report);
  if (options.out_dir.empty() || !result.smallest) return code;

  // --out: for each row broken, the diff page of the default run against its smallest
  // breaking schedule, opened at the first diverging decision.
  for (const Row& row : report.rows) {
    if (!row.first) continue;
    if (row.first->index == 0) {  // nothing to compare: the default run is the breaking one
      std::cout << "  " << row.name << ": broken by the default schedule itself (default.jsonl)\n";
      continue;
    }
    const DecisionLog* breaking_log = log_of(row.first->index);
    if (!breaking_log) return kUsage;
    const DecisionDiff diff = diff_decisions({log_of(0), breaking_log});
    const std::string first = first_difference_line(diff);
    const std::string name = "schedule-" + std::to_string(row.first->index);
    const fs::path page_path = dir / (stem(row.name) + ".diff.html");
    auto page = OutputFile::open(page_path.string(), &error);
    if (page) {
      write_diff_page(page->stream(), diff,
                      {base.name, "schedules", {"default.html", name + ".html"},
                       row.name + " broken by schedule " + row.first->schedule + " (" + name + ".jsonl; replay: netsim run " +
                           options.file + " --schedule " + row.first->schedule + "). " +
                           (first.empty() ? "No delivery decision differs." : "First diverging decision: " + first)});
    }
    if (!page || !page->commit(&error)) {
      std::cerr << "netsim: cannot write " << error << "\n";
      return kUsage;
    }
    std::cout << "  " << row.name << ": diff page " << page_path.generic_string() << " (default.jsonl against "
              << name << ".jsonl)\n";
  }
  return code;
}

int merge_explore(const std::vector<Part>& parts) {
  auto all = merge_single_records<Report>(
      parts, "the explore results of this search", [](const Report& r) { return r.tallied; },
      [](Report& all, const Report& mine) { return all.add(mine); });
  return all ? print_report(std::cout, *all) : kUsage;
}

}  // namespace netsim::scenario
