// `netsim run --stats`: the TCP counters (every host's connections summed) beside the packet
// counters, on a clean transfer and on one that a link outage forces into timeouts.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "scenarios/loader.h"
#include "scenarios/runner.h"

namespace netsim::scenario {
namespace {

// 3000 bytes from a to b over a 1 ms link; with `outage`, the link is down from 50 ms to 4 s.
nlohmann::json transfer(bool outage) {
  nlohmann::json s = {
      {"format", "netsim-scenario/1"},
      {"name", "stats"},
      {"until", "20s"},
      {"hosts",
       {{"a", {{"interfaces", {{"eth0", {{"addresses", {"10.0.0.1/24"}}}}}}}},
        {"b", {{"interfaces", {{"eth0", {{"addresses", {"10.0.0.2/24"}}}}}}}}}},
      {"links", {{{"name", "ab"}, {"between", {"a.eth0", "b.eth0"}}, {"latency", "1ms"}}}},
      {"steps",
       {{{"at", "0ms"}, {"host", "b"}, {"op", "listen"}, {"proto", "tcp"}, {"socket", "l"}, {"port", 80}},
        {{"at", "10ms"}, {"host", "a"}, {"op", "connect"}, {"proto", "tcp"}, {"socket", "c"}, {"remote", "10.0.0.2:80"}},
        {{"at", "100ms"}, {"host", "a"}, {"op", "send"}, {"socket", "c"}, {"size", 3000}}}},
  };
  if (outage) {
    s["steps"].push_back({{"at", "50ms"}, {"op", "link_down"}, {"link", "ab"}});
    s["steps"].push_back({{"at", "4s"}, {"op", "link_up"}, {"link", "ab"}});
  }
  return s;
}

std::map<std::string, int64_t> run_stats(const nlohmann::json& scenario) {
  LoadResult loaded = load_scenario_text(scenario.dump(), "stats.json");
  EXPECT_TRUE(loaded.scenario) << (loaded.errors.empty() ? "" : loaded.errors.front().pointer + ": " + loaded.errors.front().message);
  if (!loaded.scenario) return {};
  RunOptions options;
  options.stats = true;
  const RunResult r = run_scenario(*loaded.scenario, options);
  return {r.stats.begin(), r.stats.end()};
}

TEST(RunStats, CleanTransferCountsItsBytesAndNoRepair) {
  auto s = run_stats(transfer(false));
  EXPECT_EQ(s["tcp_bytes_sent"], 3000);
  EXPECT_EQ(s["tcp_bytes_received"], 3000);
  EXPECT_EQ(s["tcp_retransmissions"], 0);
  EXPECT_EQ(s["tcp_timeouts"], 0);
  EXPECT_EQ(s["tcp_fast_retransmits"], 0);
  // Every packet sent was a connection's segment, and every one arrived: a connection received
  // each but the SYN, which the listener took (the connection it made starts from it).
  EXPECT_GT(s["tcp_segments_sent"], 0);
  EXPECT_EQ(s["tcp_segments_sent"], s["tx"]);
  EXPECT_EQ(s["rx"], s["tx"]);
  EXPECT_EQ(s["tcp_segments_received"], s["tcp_segments_sent"] - 1);
}

TEST(RunStats, OutageIsRepairedByTimeouts) {
  auto s = run_stats(transfer(true));
  EXPECT_EQ(s["tcp_bytes_sent"], 3000);  // first transmissions only
  EXPECT_EQ(s["tcp_bytes_received"], 3000);
  // The three segments sent at 100 ms wait out the outage: the minimum RTO of 200 ms doubling
  // expires at 0.3, 0.7, 1.5 and 3.1 s into the dead link and at 6.3 s, when the first segment
  // gets through; the other two are resent after it.
  EXPECT_EQ(s["tcp_timeouts"], 5);
  EXPECT_EQ(s["tcp_retransmissions"], 7);
  EXPECT_EQ(s["tcp_fast_retransmits"], 0);
  // What was sent into the dead link is counted sent, not received (nor is the listener's SYN).
  EXPECT_GT(s["link_down"], 0);
  EXPECT_EQ(s["tcp_segments_sent"] - s["tcp_segments_received"], s["link_down"] + 1);
}

}  // namespace
}  // namespace netsim::scenario
