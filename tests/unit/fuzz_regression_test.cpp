// Hardened input (issue 5): regressions for what fuzzing the loader and runner found
// (tests/fuzz/fuzz_scenario.cpp), and the resource guards: each stops a runaway run
// with a `guard` trace event and a report of where it was hit. Under the sanitizer
// build (.ci/run) an overflow or leak in any of these fails the test.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "sim/event_loop.h"
#include "sim/link.h"
#include "sim/random.h"
#include "tests/unit/scratch_dir.h"

namespace {

namespace fs = std::filesystem;
using netsim::scenario::LoadResult;
using netsim::scenario::RunOptions;
using netsim::scenario::RunResult;

const std::string kTwoHosts =
    R"("hosts": {"a": {"interfaces": {"eth0": {"addresses": ["10.0.0.1/24"]}}},
                 "b": {"interfaces": {"eth0": {"addresses": ["10.0.0.2/24"]}}}})";

// A scenario of hosts a (10.0.0.1) and b (10.0.0.2) on one link; `top` are extra top-level
// members (each ending in a comma), `link` the link's members after `between`.
std::string scenario(const std::string& top, const std::string& link, const std::string& steps,
                     const std::string& expect = "") {
  return R"({"format": "netsim-scenario/1", )" + top + kTwoHosts +
         R"(, "links": [{"between": ["a.eth0", "b.eth0"])" + (link.empty() ? "" : ", " + link) +
         R"(}], "steps": [)" + steps + R"(], "expect": [)" + expect + "]}";
}

LoadResult load(const std::string& text) { return netsim::scenario::load_scenario_text(text, "t.json"); }

std::string errors(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.errors) out += netsim::scenario::format_diagnostic(d) + "\n";
  return out;
}

// Runs `text`; with `trace`, the JSONL trace is written there.
RunResult run(const std::string& text, const RunOptions& options = {}, std::string* trace = nullptr) {
  LoadResult r = load(text);
  EXPECT_TRUE(r.scenario) << errors(r);
  if (!r.scenario) return {};
  netsim::StringTraceOutput out;
  RunOptions o = options;
  if (trace) o.trace_output = &out;
  RunResult result = netsim::scenario::run_scenario(*r.scenario, o);
  if (trace) *trace = out.text();
  return result;
}

std::string guard_line(const std::string& trace) {
  size_t at = trace.find(R"({"event":"guard")");
  if (at == std::string::npos) return "";
  return trace.substr(at, trace.find('\n', at) - at);
}

const std::string kMax = "1000000000000000000";  // the largest duration, 1e18 ns

// --- findings ----------------------------------------------------------------

// UBSan: sim/time.h "signed integer overflow: 10000000 + 9223372036854775807" when a
// ping crossed a link whose latency was INT64_MAX ns (and likewise a step `at` plus a
// repeat `every`, or a TCP timer). Durations are now capped at 1e18 ns by the loader.
TEST(FuzzRegression, DurationsAboveTheMaximumAreRejected) {
  const std::string huge = "9223372036854775807";
  struct Case {
    std::string text, pointer;
  };
  const Case cases[] = {
      {scenario("", R"("latency": )" + huge, R"({"at": "10ms", "host": "a", "op": "ping", "to": "10.0.0.2"})"),
       "/links/0/latency"},
      {scenario(R"("until": )" + huge + ",", "", ""), "/until"},
      {scenario("", "", R"({"at": )" + huge + R"(, "host": "a", "op": "ping", "to": "10.0.0.2"})"),
       "/steps/0/at"},
      {scenario("", "", R"({"at": 0, "host": "a", "op": "ping", "to": "10.0.0.2", "count": 2, "every": "9223372037s"})"),
       "/steps/0/every"},
      {scenario(R"("defaults": {"tcp": {"initial_rto": )" + huge + "}},", "", ""),
       "/defaults/tcp/initial_rto"},
      {scenario(R"("limits": {"time": "1000000000.000000001s"},)", "", ""), "/limits/time"},
  };
  for (const Case& c : cases) {
    LoadResult r = load(c.text);
    ASSERT_FALSE(r.scenario) << c.pointer;
    ASSERT_EQ(r.errors.size(), 1u) << errors(r);
    EXPECT_EQ(r.errors[0].pointer, c.pointer);
    EXPECT_NE(r.errors[0].message.find("too large"), std::string::npos) << r.errors[0].message;
  }
}

// At the maximum every sum the simulator makes still fits: a step at 1e18 repeated every
// 1e18, a 1e18 latency, TCP timers of 1e18.
TEST(FuzzRegression, MaximalDurationsRunWithoutOverflow) {
  RunResult a = run(scenario(R"("until": )" + kMax + ",", R"("latency": )" + kMax,
                             R"({"at": )" + kMax + R"(, "host": "a", "op": "ping", "to": "10.0.0.2", "count": 5, "every": )" + kMax + "}"));
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_FALSE(a.guard);
  RunResult b = run(scenario(R"("until": )" + kMax + R"(, "defaults": {"tcp": {"initial_rto": )" + kMax +
                                 R"(, "min_rto": )" + kMax + R"(, "max_rto": )" + kMax + R"(, "msl": )" + kMax + "}},",
                             R"("latency": )" + kMax,
                             R"({"at": "10ms", "host": "b", "op": "listen", "proto": "tcp", "socket": "l", "port": 80},
                                {"at": "10ms", "host": "a", "op": "connect", "proto": "tcp", "socket": "c", "remote": "10.0.0.2:80"},
                                {"at": "20ms", "host": "a", "op": "connect", "proto": "tcp", "socket": "d", "remote": "10.0.0.9:80"})"));
  EXPECT_EQ(b.exit_code, 0) << (b.failures.empty() ? "" : b.failures[0]);
}

// A 1 bps link's backlog plus a 1e18 latency ran past INT64_MAX in sim/link.cpp (UBSan:
// "8223750288000000000 + 1000000000000000000", from 14000 UDP sends of 64 KiB; here one
// frame whose serialisation alone saturates); now such frames arrive "never", at
// SimTime::max(), after any stop time, and later frames queue behind them without overflow.
TEST(FuzzRegression, LinkBacklogPastTheEndOfTimeSaturates) {
  netsim::EventLoop loop;
  netsim::LinkParams params;
  params.latency = netsim::Duration{1'000'000'000'000'000'000};
  params.bandwidth_bps = 1;
  params.queue = 10;
  netsim::Link link("l", params, 2, loop, netsim::Rng(1).substream("link/l"));
  int arrived = 0, lost = 0;
  loop.schedule(netsim::SimTime{1'000'000'000'000'000'000}, [&] {
    for (uint32_t bytes : {UINT32_MAX, 1000u, 1000u})
      link.transmit(0, 1, bytes, [&] { ++arrived; }, [&](netsim::LinkLoss) { ++lost; });
  });
  loop.run_until(netsim::SimTime{4'000'000'000'000'000'000});
  EXPECT_EQ(arrived, 0);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(link.in_transit(), 3u);
  EXPECT_EQ(loop.next_time(), netsim::SimTime::max());
}

// A repeat of 4294967295 sends scheduled every repetition up front (hundreds of GiB of
// events) before the event guard could stop it; only what can run is scheduled now.
TEST(FuzzRegression, HugeRepeatCountsCostOnlyWhatRuns) {
  RunResult r = run(scenario(R"("until": "1s", "limits": {"events": 1000},)", "",
                             R"({"at": 0, "host": "b", "op": "listen", "proto": "udp", "socket": "s", "port": 9},
                                {"at": 0, "host": "a", "op": "connect", "proto": "udp", "socket": "c", "remote": "10.0.0.2:9"},
                                {"at": "1ms", "host": "a", "op": "send", "socket": "c", "data": "x",
                                 "repeat": {"count": 4294967295, "every": 0}})"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.guard, "events");
  // Bounded by `until`: a ping every ms for ever, until 1s, runs 1001 pings and stops cleanly.
  RunResult p = run(scenario(R"("until": "1s",)", "",
                             R"({"at": 0, "host": "a", "op": "ping", "to": "10.0.0.2", "count": 4294967295, "every": "1ms"})"));
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_EQ(p.steps_passed, 1001u);
  // The fuzzer's cap on repetitions.
  RunOptions o;
  o.max_repeat = 10;
  RunResult q = run(scenario(R"("until": "1s",)", "",
                             R"({"at": 0, "host": "a", "op": "ping", "to": "10.0.0.2", "count": 4294967295, "every": "1ms"})"),
                    o);
  EXPECT_EQ(q.steps_passed, 10u);
}

// A 4 GiB TCP send under the fuzzer's budget timed out (> 10 s under ASan): the runner parsed
// and copied the whole trace to check expectations even when there were none. Now it
// parses only when there are expectations, without the copy.
TEST(FuzzRegression, BigTcpSendUnderAnEventBudget) {
  const std::string steps =
      R"({"at": "10ms", "host": "b", "op": "listen", "proto": "tcp", "socket": "l", "port": 80},
         {"at": "10ms", "host": "a", "op": "connect", "proto": "tcp", "socket": "c", "remote": "10.0.0.2:80"},
         {"at": "20ms", "host": "a", "op": "send", "socket": "c", "size": 4294967295})";
  RunResult r = run(scenario(R"("until": "5s", "limits": {"events": 1000},)", R"("latency": "1ms")", steps));
  EXPECT_EQ(r.guard, "events");
  EXPECT_EQ(r.expectations_passed + r.expectations_failed, 0u);
  RunResult e = run(scenario(R"("until": "5s", "limits": {"events": 1000},)", R"("latency": "1ms")", steps,
                             R"({"event": "established", "host": "a", "socket": "c", "count": 1})"));
  EXPECT_EQ(e.guard, "events");
  EXPECT_EQ(e.expectations_passed, 1u);
  EXPECT_EQ(e.events, r.events);
}

// --- guards --------------------------------------------------------------------

TEST(Guards, EventGuardReportsWhereItWasHit) {
  std::string trace;
  RunResult r = run(scenario(R"("until": "1s", "limits": {"events": 500},)", "",
                             R"({"at": 0, "host": "a", "op": "ping", "to": "10.0.0.2", "count": 4294967295, "every": 0})"),
                    {}, &trace);
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_EQ(r.guard, "events");
  EXPECT_EQ(r.events, 500u);
  ASSERT_FALSE(r.failures.empty());
  EXPECT_EQ(r.failures[0].rfind("guard events: event limit of 500 events reached at t=0ns after 500 events", 0), 0u)
      << r.failures[0];
  std::string g = guard_line(trace);
  EXPECT_NE(g.find(R"("events":500,"guard":"events")"), std::string::npos) << g;
  EXPECT_NE(g.find(R"("limit":500)"), std::string::npos) << g;
}

TEST(Guards, TimeGuardOnlyWithoutUntil) {
  const std::string steps = R"({"at": 0, "host": "a", "op": "ping", "to": "10.0.0.2", "count": 100, "every": "1s"})";
  std::string trace;
  RunResult r = run(scenario(R"("limits": {"time": "5s"},)", "", steps), {}, &trace);
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_EQ(r.guard, "time");
  EXPECT_EQ(r.end.ns, 5'000'000'000);
  ASSERT_FALSE(r.failures.empty());
  EXPECT_NE(r.failures[0].find("virtual time limit of 5s reached with"), std::string::npos) << r.failures[0];
  EXPECT_NE(r.failures[0].find("1 events pending, the next at t=6s"), std::string::npos) << r.failures[0];
  EXPECT_NE(guard_line(trace).find(R"("guard":"time","in_flight":0,"limit":5000000000,"pending":1)"), std::string::npos)
      << guard_line(trace);
  // With `until` the same run just stops there.
  RunResult u = run(scenario(R"("until": "5s", "limits": {"time": "5s"},)", "", steps));
  EXPECT_EQ(u.exit_code, 0);
  EXPECT_FALSE(u.guard);
  // RunOptions give the default.
  RunOptions o;
  o.max_time = netsim::SimTime{2'000'000'000};
  EXPECT_EQ(run(scenario("", "", steps), o).guard, "time");
}

TEST(Guards, InFlightGuardNamesTheLink) {
  std::string trace;
  RunResult r = run(scenario(R"("until": "10s", "limits": {"in_flight": 100},)",
                             R"("name": "slow", "bandwidth": "9600bps", "queue": 100000)",
                             R"({"at": 0, "host": "a", "op": "ping", "to": "10.0.0.2", "count": 5000, "every": 0})"),
                    {}, &trace);
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_EQ(r.guard, "in_flight");
  ASSERT_FALSE(r.failures.empty());
  EXPECT_NE(r.failures[0].find("more than 100 packets in flight (4096) at t=0ns after 4096 events; 4096 of them on link `slow`"),
            std::string::npos)
      << r.failures[0];
  std::string g = guard_line(trace);
  EXPECT_NE(g.find(R"("in_flight":4096,"limit":100,"link":"slow","link_in_flight":4096)"), std::string::npos) << g;
}

TEST(Guards, ScenarioLimitsReplaceOrLowerTheDefaults) {
  const std::string text = scenario(R"("until": "1s", "limits": {"events": 300},)", "",
                                    R"({"at": 0, "host": "a", "op": "ping", "to": "10.0.0.2", "count": 4294967295, "every": 0})");
  RunOptions o;
  o.max_events = 100;
  EXPECT_EQ(run(text, o).events, 300u);  // the scenario's own cap replaces the default
  o.cap_scenario_limits = true;
  EXPECT_EQ(run(text, o).events, 100u);  // ... unless the runner's caps are a ceiling
}

TEST(Guards, LimitsAreValidated) {
  LoadResult r = load(scenario(R"("limits": {"events": 0, "time": 0, "in_flight": -1, "packets": 3},)", "", ""));
  ASSERT_FALSE(r.scenario);
  std::string e = errors(r);
  EXPECT_NE(e.find("/limits/events: `events` must be"), std::string::npos) << e;
  EXPECT_NE(e.find("/limits/time: `time` must be greater than 0"), std::string::npos) << e;
  EXPECT_NE(e.find("/limits/in_flight: `in_flight` must be"), std::string::npos) << e;
  EXPECT_NE(e.find("/limits/packets: unknown key in `limits` `packets`"), std::string::npos) << e;
  LoadResult ok = load(scenario(R"("limits": {"events": 10, "time": "2s", "in_flight": 5},)", "", ""));
  ASSERT_TRUE(ok.scenario) << errors(ok);
  EXPECT_EQ(ok.scenario->limits.events, 10u);
  EXPECT_EQ(ok.scenario->limits.time, netsim::Duration::seconds(2));
  EXPECT_EQ(ok.scenario->limits.in_flight, 5u);
}

// `netsim check DIR` skips every directory holding a `.netsim-check-skip` file.
TEST(Guards, CheckSkipsMarkedDirectories) {
  test_support::ScratchDir scratch("check-skip");
  const fs::path& dir = scratch.path();
  fs::create_directories(dir / "guards");
  std::ofstream(dir / "guards" / ".netsim-check-skip").flush();
  std::ofstream(dir / "guards" / "runaway.json")
      << scenario(R"("limits": {"time": "2s"},)", "", R"({"at": 0, "host": "a", "op": "ping", "to": "10.0.0.2", "count": 100})");
  std::ofstream(dir / "ok.json") << scenario(R"("until": "1s",)", "", "");
  std::string cmd = std::string(NETSIM_BINARY) + " check -j1 " + dir.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_TRUE(p);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  // The marked scenario is listed as skipped, never run.
  EXPECT_NE(out.find("2 scenarios: 1 passed, 0 failed, 0 invalid, 1 skipped"), std::string::npos) << out;
  EXPECT_NE(out.find("SKIP  " + (dir / "guards" / "runaway.json").generic_string()), std::string::npos) << out;
  EXPECT_EQ(out.find("guard time"), std::string::npos) << out;
}

}  // namespace
