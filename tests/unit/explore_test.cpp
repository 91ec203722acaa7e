// Specification of the tie breaker (sim/event_loop.h), schedule strings and their driver
// (sim/schedule.h), and explore's reduction and search (scenarios/explore.h): the default
// order is the plain order, independent events are explored in one order only, dependent
// ones in both, and a breaking schedule replays to the same trace.
#include "scenarios/explore.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "sim/random.h"
#include "sim/schedule.h"

namespace netsim {
namespace {

// ---------------------------------------------------------------- the event loop

// Always the first ready event: must be the plain order.
struct FirstReady : TieBreaker {
  std::vector<size_t> sizes;
  size_t choose(SimTime, std::span<const EventTag> ready) override {
    sizes.push_back(ready.size());
    return 0;
  }
};

// A workload with same-time timeline and ordinary events, events scheduled for the current
// instant by running ones, and cancels; returns the order the events ran in.
std::vector<int> run_workload(TieBreaker* t) {
  EventLoop loop;
  loop.set_tie_breaker(t);
  std::vector<int> order;
  Rng rng(7);
  std::vector<EventId> ids;
  for (int i = 0; i < 400; ++i) {
    const SimTime at{static_cast<int64_t>(rng.below(20))};
    if (i % 5 == 0) {
      loop.schedule_timeline(at, rng.below(3), [&order, i] { order.push_back(i); });
      continue;
    }
    ids.push_back(loop.schedule(at, [&order, &loop, i] {
      order.push_back(i);
      if (i % 7 == 0) loop.schedule_in(Duration{}, [&order, i] { order.push_back(1000 + i); });
      if (i % 11 == 0) loop.schedule_timeline(loop.now(), 0, [&order, i] { order.push_back(2000 + i); });
    }));
  }
  for (size_t k = 0; k < ids.size(); k += 9) loop.cancel(ids[k]);
  while (!loop.empty()) loop.run_until(SimTime{100}, 37);  // in chunks, like the runner
  return order;
}

TEST(TieBreaker, AlwaysFirstReadyIsThePlainOrder) {
  FirstReady first;
  EXPECT_EQ(run_workload(&first), run_workload(nullptr));
  EXPECT_FALSE(first.sizes.empty());
  for (size_t n : first.sizes) {
    EXPECT_GE(n, 2u);
    EXPECT_LE(n, TieBreaker::kMaxTie);
  }
}

TEST(TieBreaker, SeesTagsInDefaultOrderAndItsPickRunsFirst) {
  struct Last : TieBreaker {
    std::vector<std::vector<EventTag>> seen;
    size_t choose(SimTime, std::span<const EventTag> ready) override {
      seen.emplace_back(ready.begin(), ready.end());
      return ready.size() - 1;
    }
  } last;
  EventLoop loop;
  loop.set_tie_breaker(&last);
  std::vector<int> order;
  loop.schedule(SimTime{5}, [&] { order.push_back(1); }, EventTag::on(EventKind::kArrival, 1));
  loop.schedule(SimTime{5}, [&] { order.push_back(2); }, EventTag::on(EventKind::kTimer, 2));
  loop.schedule_timeline(SimTime{5}, 0, [&] { order.push_back(0); }, EventTag::on(EventKind::kStep, 0));
  loop.run_until(SimTime{10});
  EXPECT_EQ(order, (std::vector<int>{2, 1, 0}));
  ASSERT_EQ(last.seen.size(), 2u);  // three ready, then two
  EXPECT_EQ(last.seen[0], (std::vector<EventTag>{EventTag::on(EventKind::kStep, 0),
                                                 EventTag::on(EventKind::kArrival, 1),
                                                 EventTag::on(EventKind::kTimer, 2)}));
  EXPECT_EQ(last.seen[1].size(), 2u);
}

// ---------------------------------------------------------------- schedule strings

TEST(Schedule, StringRoundTrips) {
  Schedule s{JitterDraw{1000, 3}, {{2, 60000000, 1}, {7, 61000000, 3}}};
  EXPECT_EQ(to_string(s), "jitter=1000/3,2@60000000:1,7@61000000:3");
  std::string error;
  EXPECT_EQ(parse_schedule(to_string(s), &error), s);
  EXPECT_EQ(to_string(Schedule{}), "default");
  EXPECT_EQ(parse_schedule("default", &error), Schedule{});
}

TEST(Schedule, MalformedStringsAreRefusedWithTheItem) {
  for (const char* bad : {"", "3", "3@5", "3@5:0", "3@5:1,2@5:1", "3@-5:1", "3@5:1x", "1@5:1,jitter=5/1",
                          "jitter=5", "3@5:99"}) {
    std::string error;
    EXPECT_FALSE(parse_schedule(bad, &error)) << bad;
    EXPECT_NE(error.find("item"), std::string::npos) << bad << ": " << error;
  }
}

TEST(ScheduleDriver, PlaysItsChoicesAndSaysWhenOneDoesNotFit) {
  ScheduleDriver fits({{1, 5, 1}}, 10);
  const std::vector<EventTag> two(2);
  EXPECT_EQ(fits.choose(SimTime{5}, two), 0u);
  EXPECT_EQ(fits.choose(SimTime{5}, two), 1u);
  EXPECT_FALSE(fits.misfit());
  EXPECT_EQ(fits.recorded().size(), 2u);

  ScheduleDriver late({{0, 9, 1}}, 0);
  EXPECT_EQ(late.choose(SimTime{5}, two), 0u);
  ASSERT_TRUE(late.misfit());
  EXPECT_NE(late.misfit()->find("not 9ns"), std::string::npos);

  ScheduleDriver never({{4, 5, 1}}, 0);
  never.choose(SimTime{5}, two);
  ASSERT_TRUE(never.misfit());
  EXPECT_NE(never.misfit()->find("never came"), std::string::npos);
}

// ---------------------------------------------------------------- the reduction

scenario::Scenario load(const std::string& text) {
  scenario::LoadResult r = scenario::load_scenario_text(text, "test.json");
  EXPECT_TRUE(r.scenario) << (r.errors.empty() ? "" : scenario::format_diagnostic(r.errors[0]));
  return *r.scenario;
}

// Three hosts in a line a - b - c, the second link as given.
std::string line(const std::string& second_link, const std::string& steps, const std::string& expect) {
  return R"({"format": "netsim-scenario/1", "name": "t", "until": "1s",
    "hosts": {
      "a": {"interfaces": {"eth0": {"addresses": ["10.0.0.1/24"]}}},
      "b": {"interfaces": {"eth0": {"addresses": ["10.0.0.2/24"]}, "eth1": {"addresses": ["10.0.1.2/24"]}}},
      "c": {"interfaces": {"eth0": {"addresses": ["10.0.1.3/24"]}}}},
    "links": [{"between": ["a.eth0", "b.eth0"], "latency": "1ms"},
              {"between": ["b.eth1", "c.eth0"])" + second_link + R"(}],
    "steps": [)" + steps + R"(], "expect": [)" + expect + "]}";
}

EventTag on(uint32_t host) { return EventTag::on(EventKind::kArrival, host); }

TEST(Reduction, EventsOnDifferentHostsCommute) {
  scenario::Dependence d(load(line(R"(, "latency": "1ms")", "", "")));
  EXPECT_FALSE(d.dependent(on(0), on(1)));
  EXPECT_FALSE(d.dependent(on(1), on(2)));
  EXPECT_TRUE(d.dependent(on(1), on(1)));
  EXPECT_TRUE(scenario::reordering_picks(d, std::vector<EventTag>{on(0), on(1), on(2)}).empty());
  EXPECT_EQ(scenario::reordering_picks(d, std::vector<EventTag>{on(0), on(1), on(0)}),
            (std::vector<uint32_t>{2}));
}

TEST(Reduction, StepsKeepTheirFileOrderAmongThemselves) {
  scenario::Dependence d(load(line(R"(, "latency": "1ms")", "", "")));
  const EventTag step = EventTag::on(EventKind::kStep, 0);
  EXPECT_TRUE(scenario::reordering_picks(d, std::vector<EventTag>{step, step}).empty());
  EXPECT_EQ(scenario::reordering_picks(d, std::vector<EventTag>{step, step, on(0)}),
            (std::vector<uint32_t>{2}));
}

TEST(Reduction, HostsJoinedByAZeroDelayOrLossyLinkDoNotCommute) {
  scenario::Dependence instant(load(line("", "", "")));  // no latency, no bandwidth
  EXPECT_TRUE(instant.dependent(on(1), on(2)));
  EXPECT_FALSE(instant.dependent(on(0), on(2)));
  scenario::Dependence lossy(load(line(R"(, "latency": "1ms", "loss": 0.1)", "", "")));
  EXPECT_TRUE(lossy.dependent(on(2), on(1)));
  scenario::Dependence timed(load(line(R"(, "bandwidth": "1Gbps")", "", "")));  // serialisation takes time
  EXPECT_FALSE(timed.dependent(on(1), on(2)));
}

TEST(Reduction, AnEventOnNoHostCommutesWithNothing) {
  scenario::Dependence d(load(line(R"(, "latency": "1ms")", "", "")));
  const EventTag network = EventTag::on(EventKind::kStep, EventTag::kNoHost);
  EXPECT_TRUE(d.dependent(network, on(0)));
  EXPECT_TRUE(d.dependent(on(2), EventTag{}));
}

// A datagram arriving the instant its socket closes: on another host than the close, the
// search runs one order only (the other is pruned); on the same host it runs both.
scenario::SearchResult close_while_arriving(const std::string& closing_host) {
  const std::string steps = R"(
    {"at": "0ms", "host": ")" + closing_host + R"(", "op": "listen", "proto": "udp", "socket": "s", "port": 7},
    {"at": "0ms", "host": "b", "op": "connect", "proto": "udp", "socket": "c", "remote": "10.0.0.1:7"},
    {"at": "4ms", "host": "b", "op": "send", "socket": "c", "data": "x"},
    {"at": "5ms", "host": ")" + closing_host + R"(", "op": "close", "socket": "s"})";
  const std::string expect = R"({"event": "deliver", "socket": "s", "never": true})";
  return scenario::search_schedules(load(line(R"(, "latency": "1ms")", steps, expect)), {});
}

TEST(Reduction, IndependentEventsRunInOneOrderDependentOnesInBoth) {
  scenario::SearchResult independent = close_while_arriving("c");  // the datagram goes to a
  EXPECT_EQ(independent.schedules, (std::vector<Schedule>{Schedule{}}));
  // Two ties: the two steps at 0 ms (kept in file order) and the close and the arrival at 5 ms.
  EXPECT_EQ(independent.default_ties, 2u);
  EXPECT_EQ(independent.pruned, 2u);
  EXPECT_FALSE(independent.smallest);

  scenario::SearchResult dependent = close_while_arriving("a");
  EXPECT_EQ(dependent.schedules, (std::vector<Schedule>{Schedule{}, Schedule{{}, {{1, 5000000, 1}}}}));
  EXPECT_EQ(dependent.pruned, 1u);  // the steps at 0 ms only
  // The arrival first: the datagram is delivered to s before the close.
  EXPECT_EQ(dependent.broken, (std::vector<uint64_t>{1}));
  EXPECT_EQ(dependent.smallest, 1u);  // the second schedule
}

TEST(Search, MaxRunsCapsTheSchedulesAndCountsWhatItLeftOut) {
  std::string steps = R"(
    {"at": "0ms", "host": "a", "op": "listen", "proto": "udp", "socket": "s", "port": 7},
    {"at": "0ms", "host": "b", "op": "connect", "proto": "udp", "socket": "c", "remote": "10.0.0.1:7"})";
  for (int i = 0; i < 4; ++i) steps += R"(, {"at": "4ms", "host": "b", "op": "send", "socket": "c", "size": 1})";
  scenario::SearchSettings settings;
  settings.max_runs = 3;
  scenario::SearchResult r = scenario::search_schedules(load(line(R"(, "latency": "1ms")", steps, "")), settings);
  EXPECT_EQ(r.schedules.size(), 3u);
  // Four datagrams arrive at a at 5 ms: the default run has 3 + 2 + 1 picks at those ties
  // (the steps' ties have none), of which two fit beside the default (4 left out); each of
  // those two runs then has 2 + 1 picks at its later ties, with no room left (6 more).
  EXPECT_EQ(r.unexplored, 10u);
  settings.jobs = 2;            // parallel runs change nothing
  EXPECT_EQ(scenario::search_schedules(load(line(R"(, "latency": "1ms")", steps, "")), settings).schedules,
            r.schedules);
}

// Shards lay out the same search; each tallies the schedules whose index it owns, so
// their verdicts add up to the one-process search's.
TEST(Search, ShardsLayOutTheSameSearchAndSplitItsVerdicts) {
  const std::string path = std::string(NETSIM_SOURCE_DIR) + "/scenarios/tcp/close-orders.json";
  scenario::LoadResult loaded = scenario::load_scenario_file(path);
  ASSERT_TRUE(loaded.scenario);
  scenario::SearchSettings settings;
  settings.jitter = Duration{1000};
  settings.draws = 4;
  const scenario::SearchResult whole = scenario::search_schedules(*loaded.scenario, settings);
  ASSERT_GT(whole.schedules.size(), 10u);
  ASSERT_TRUE(whole.smallest);
  std::vector<uint64_t> broken(whole.broken.size(), 0);
  uint64_t steps_broken = 0;
  std::optional<uint64_t> smallest;
  for (uint64_t k = 0; k < 3; ++k) {
    settings.shard = scenario::Shard{k, 3, "", ""};
    const scenario::SearchResult part = scenario::search_schedules(*loaded.scenario, settings);
    EXPECT_EQ(part.schedules, whole.schedules);
    EXPECT_EQ(part.default_ties, whole.default_ties);
    EXPECT_EQ(part.pruned, whole.pruned);
    EXPECT_EQ(part.jittered, 4u);
    for (size_t e = 0; e < broken.size(); ++e) {
      broken[e] += part.broken[e];
      if (part.first[e]) {
        EXPECT_EQ(*part.first[e] % 3, k);  // only its own schedules
      }
    }
    steps_broken += part.steps_broken;
    if (part.smallest && (!smallest || *part.smallest < *smallest)) smallest = part.smallest;
  }
  EXPECT_EQ(broken, whole.broken);
  EXPECT_EQ(steps_broken, whole.steps_broken);
  EXPECT_EQ(smallest, whole.smallest);
}

TEST(Jitter, MovesStepsAndLatenciesWithinTheBoundDeterministically) {
  scenario::Scenario s = load(line(R"(, "latency": "1ms")",
                                   R"({"at": "5ms", "host": "a", "op": "listen", "proto": "udp", "socket": "s", "port": 7})",
                                   ""));
  scenario::Scenario j1 = s, j2 = s;
  scenario::apply_jitter(j1, JitterDraw{1000, 1});
  scenario::apply_jitter(j2, JitterDraw{1000, 1});
  EXPECT_EQ(j1.steps[0].at, j2.steps[0].at);
  EXPECT_EQ(j1.links[1].latency, j2.links[1].latency);
  EXPECT_LE(std::abs(j1.steps[0].at.ns - 5000000), 1000);
  EXPECT_LE(std::abs(j1.links[0].latency.ns - 1000000), 1000);
  bool moved = false;
  for (uint64_t d = 1; d < 5; ++d) {
    scenario::Scenario j = s;
    scenario::apply_jitter(j, JitterDraw{1000, d});
    moved = moved || j.steps[0].at != s.steps[0].at;
  }
  EXPECT_TRUE(moved);
}

// A breaking schedule replays to a byte-identical trace (and one that differs from the
// default run's).
TEST(Search, BreakingScheduleReplaysByteForByte) {
  const std::string path = std::string(NETSIM_SOURCE_DIR) + "/scenarios/explore/close-vs-syn-naive.json";
  scenario::LoadResult loaded = scenario::load_scenario_file(path);
  ASSERT_TRUE(loaded.scenario);
  scenario::SearchResult r = scenario::search_schedules(*loaded.scenario, {});
  ASSERT_TRUE(r.smallest);
  const Schedule& smallest = r.schedules[*r.smallest];
  EXPECT_EQ(smallest.reorderings(), 1u);
  auto trace = [&](const Schedule& s) {
    struct Capture : TraceOutput {
      std::string bytes;
      void write(std::string_view b) override { bytes += b; }
    } out;
    ScheduleDriver driver(s.choices, 0);
    scenario::RunOptions options;
    options.trace_output = &out;
    options.tie_breaker = &driver;
    scenario::RunResult result = scenario::run_scenario(*loaded.scenario, options);
    EXPECT_FALSE(driver.misfit());
    EXPECT_EQ(result.exit_code, s == Schedule{} ? 0 : 1);
    return out.bytes;
  };
  const std::string a = trace(smallest), b = trace(smallest);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, trace(Schedule{}));
}

}  // namespace
}  // namespace netsim
