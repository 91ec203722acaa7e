#include "scenarios/explore.h"

#include <algorithm>
#include <atomic>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>
#include <thread>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "sim/random.h"
#include "viz/trace_diff.h"

namespace netsim::scenario {

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

void tally(SearchResult& r, const Outcome& o) {
  r.schedules.push_back(o.schedule);
  if (!o.schedule.choices.empty()) ++r.reordered;
  if (o.misfit && !r.misfit) r.misfit = to_string(o.schedule) + ": " + *o.misfit;
  // Schedules run by reorderings, unjittered first: the first breaking one is the smallest.
  for (size_t e = 0; e < o.held.size() && e < r.broken.size(); ++e) {
    if (o.held[e]) continue;
    ++r.broken[e];
    if (!r.first[e]) r.first[e] = o.schedule;
  }
  if (!o.steps_held) {
    ++r.steps_broken;
    if (!r.steps_first) r.steps_first = o.schedule;
  }
  if (o.broken() && !r.smallest) r.smallest = o.schedule;
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

// The default run and `breaking` side by side at the first step run whose decisions differ.
void show_divergence(std::ostream& out, const Scenario& base, const Schedule& breaking,
                     std::optional<uint64_t> seed) {
  DecisionLog default_log("default", DiffMode::kOutcome), breaking_log("breaking", DiffMode::kOutcome);
  DecisionRecorder default_recorder(default_log), breaking_recorder(breaking_log);
  run_one(base, Schedule{}, seed, 0, &default_recorder);
  run_one(base, breaking, seed, 0, &breaking_recorder);
  DecisionDiff diff = diff_decisions({&default_log, &breaking_log});
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
    if (!row.starts_with("... ")) out << "    " << row << "\n";  // its pointer to a diff page explore has not written
}

}  // namespace

SearchResult search_schedules(const Scenario& base, const SearchSettings& settings) {
  const Dependence dep(base);
  SearchResult r;
  r.broken.resize(base.expect.size());
  r.first.resize(base.expect.size());
  const unsigned jobs = std::max(1u, settings.jobs);
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
      std::vector<Outcome> outcomes = run_all(base, part, settings.seed, last ? 0 : kMaxRecordedTies, jobs);
      for (const Outcome& o : outcomes) {
        tally(r, o);
        if (depth == 0) r.default_ties = o.tie_count;
      }
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
    for (const Outcome& o : run_all(base, draws, settings.seed, 0, jobs)) tally(r, o);
  }
  return r;
}

int run_explore(const ExploreOptions& options) {
  std::vector<Override> overrides;
  for (const std::string& text : options.sets) {
    std::string error;
    auto o = parse_override(text, &error);
    if (!o) {
      std::cerr << "netsim: --set " << text << ": " << error << "\n";
      return kUsage;
    }
    overrides.push_back(*o);
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
  LoadResult loaded = load_scenario_file(options.file, overrides);
  if (!loaded.scenario) {
    for (const auto& d : loaded.errors) std::cerr << format_diagnostic(d) << "\n";
    return kInvalid;
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
  const SearchResult tally = search_schedules(base, settings);
  const uint64_t runs = tally.schedules.size();
  const uint64_t jittered = std::count_if(tally.schedules.begin(), tally.schedules.end(),
                                          [](const Schedule& s) { return s.jitter.has_value(); });

  std::ostream& out = std::cout;
  out << "explore " << options.file << " (" << base.name << "): depth " << options.depth << ", at most "
      << options.max_runs << " runs";
  if (jitter) out << ", jitter +-" << format_duration(jitter->ns) << " x" << options.draws;
  out << "\n";
  out << "  ties in the default run: " << tally.default_ties
      << (tally.default_ties > kMaxRecordedTies ? " (the first 65536 explored)" : "") << "\n";
  out << "  schedules: " << runs << " run (the default, " << tally.reordered << " reordered, " << jittered
      << " jittered); " << tally.pruned << " pruned by the reduction; " << tally.unexplored
      << " left unexplored (--max-runs)\n";
  size_t width = 5;
  for (const Expectation& e : base.expect) width = std::max(width, e.pointer.size());
  out << "  " << std::left << std::setw(static_cast<int>(width)) << "" << "  " << std::setw(9) << "held"
      << "smallest breaking schedule\n";
  auto row = [&](const std::string& name, uint64_t broken, const std::optional<Schedule>& first,
                 const std::string& what) {
    std::ostringstream held;
    held << runs - broken << "/" << runs;
    out << "  " << std::left << std::setw(static_cast<int>(width)) << name << "  " << std::setw(9) << held.str()
        << (first ? to_string(*first) : std::string("-")) << "  " << what << "\n";
  };
  row("steps", tally.steps_broken, tally.steps_first, "(each step's result, no guard)");
  for (size_t e = 0; e < base.expect.size(); ++e)
    row(base.expect[e].pointer, tally.broken[e], tally.first[e], describe(base.expect[e]));
  if (tally.misfit) {
    std::cerr << "netsim: internal error: a schedule explore made did not fit its run: " << *tally.misfit << "\n";
    return kInternal;
  }
  if (!tally.smallest) {
    out << "HELD in every schedule run\n";
    return kHeld;
  }
  const Schedule& s = *tally.smallest;
  out << "BROKEN: smallest breaking schedule (" << s.reorderings() << " reordering"
      << (s.reorderings() == 1 ? "" : "s") << (s.jitter ? ", jittered" : "") << "): " << to_string(s) << "\n";
  out << "  replay: netsim run " << options.file << " --schedule " << to_string(s);
  if (options.seed) out << " --seed " << *options.seed;
  out << "\n";
  show_divergence(out, base, s, options.seed);
  return kBroken;
}

}  // namespace netsim::scenario
