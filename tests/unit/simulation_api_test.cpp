// The library API's contracts (include/netsim/simulation.h): a Simulation built in code gives
// the trace `netsim run` gives for its scenario_json(), byte for byte; the same calls give the
// same trace; callbacks see every line in order; an invalid network throws ScenarioError with
// every problem; a simulation runs once; a failed expectation is reported.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <netsim/netsim.h>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The client's link and the UDP query's size on it: the query's arrival time follows from them.
constexpr int64_t kClientLatencyNs = 1'000'000, kWanLatencyNs = 2'000'000;
constexpr uint64_t kClientBandwidthBps = 100'000'000;
const std::string kQuery = "query";

// TCP across a router with static routes, a UDP listener shadowing a wildcard one and an
// address change: most of what the API can build.
netsim::Simulation routed_network() {
  netsim::Simulation sim("api-routed");
  sim.set_seed(7);
  sim.set_until(2s);
  sim.add_interface("client", "eth0", {"10.0.1.2/24"});
  sim.add_interface("router", "eth0", {"10.0.1.1/24"});
  sim.add_interface("router", "eth1", {"10.0.2.1/24"});
  sim.set_forwarding("router", true);
  sim.add_interface("server", "eth0", {"10.0.2.2/24", "10.0.2.3/24"});
  netsim::LinkOptions client_link, wan;
  client_link.latency = std::chrono::nanoseconds(kClientLatencyNs);
  client_link.bandwidth_bps = kClientBandwidthBps;
  wan.name = "wan";
  wan.latency = std::chrono::nanoseconds(kWanLatencyNs);
  wan.loss = 0.05;
  sim.add_link({"client.eth0", "router.eth0"}, client_link);
  sim.add_link({"router.eth1", "server.eth0"}, wan);
  sim.add_route("client", "0.0.0.0/0", "10.0.1.1");
  sim.add_route("server", "10.0.1.0/24", "10.0.2.1", "eth0");
  sim.listen(0ms, "server", netsim::Proto::kTcp, "web", 80);
  sim.listen(0ms, "server", netsim::Proto::kUdp, "any", 53);
  sim.listen(0ms, "server", netsim::Proto::kUdp, "dns", 53, {.addresses = {"10.0.2.2"}});
  sim.listen(0ms, "client", netsim::Proto::kUdp, "u", 5000);
  sim.connect(1ms, "client", netsim::Proto::kTcp, "conn", "10.0.2.2:80");
  sim.send(50ms, "client", "conn", "GET /");
  sim.send(60ms, "client", "u", kQuery, "10.0.2.2:53");
  sim.remove_address(70ms, "server", "eth0", "10.0.2.3/24");
  sim.ping(80ms, "client", "10.0.2.2");
  sim.step(90ms, R"({"host": "server", "op": "shutdown", "socket": "dns", "how": "read"})");
  sim.close(100ms, "client", "conn");
  sim.expect(R"({"event": "deliver", "socket": "dns", "match": "specific", "shadowed": ["any"]})");
  sim.expect(R"({"event": "accept", "host": "server"})");
  return sim;
}

std::string run_netsim(const fs::path& scenario, const fs::path& trace) {
  std::string cmd = std::string(NETSIM_BINARY) + " run " + scenario.string() + " --trace " +
                    trace.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = p ? pclose(p) : -1;
  out += "exit " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return out;
}

TEST(SimulationApi, TraceIsNetsimRunsTraceOfScenarioJson) {
  netsim::Simulation sim = routed_network();
  std::ostringstream trace;
  sim.write_trace(trace);
  const std::string scenario = sim.scenario_json();
  netsim::RunReport report = sim.run();
  ASSERT_TRUE(report.passed) << (report.failures.empty() ? "" : report.failures[0]);
  EXPECT_EQ(report.expectations_passed, 2u);
  EXPECT_EQ(report.fingerprint.size(), 64u);

  const fs::path dir = fs::temp_directory_path() / "netsim-simulation-api";
  fs::create_directories(dir);
  { std::ofstream(dir / "api-routed.json", std::ios::binary) << scenario; }
  std::string out = run_netsim(dir / "api-routed.json", dir / "trace.jsonl");
  EXPECT_NE(out.find("exit 0"), std::string::npos) << out;
  std::ifstream in(dir / "trace.jsonl", std::ios::binary);
  std::stringstream file;
  file << in.rdbuf();
  EXPECT_EQ(file.str(), trace.str());
  EXPECT_NE(out.find(report.fingerprint), std::string::npos) << out;
  fs::remove_all(dir);
}

TEST(SimulationApi, SameCallsSameTrace) {
  std::ostringstream a, b;
  netsim::Simulation first = routed_network(), second = routed_network();
  first.write_trace(a);
  second.write_trace(b);
  EXPECT_EQ(first.run().fingerprint, second.run().fingerprint);
  EXPECT_EQ(a.str(), b.str());
  EXPECT_GT(a.str().size(), 1000u);
}

TEST(SimulationApi, CallbackSeesEveryLineInOrder) {
  netsim::Simulation sim = routed_network();
  std::ostringstream trace;
  sim.write_trace(trace);
  std::vector<std::string> kinds;
  std::vector<std::string> lines;
  uint64_t records = 0;  // lines with a seq: every line but the header and the summary
  bool seq_increasing = true;
  int specific_deliveries = 0;
  sim.on_event([&](const netsim::TraceEvent& e) {
    kinds.emplace_back(e.event);
    lines.emplace_back(e.line);
    if (e.event != "header" && e.event != "summary")
      seq_increasing = seq_increasing && e.seq == records++;
    if (e.event == "deliver" && e.socket == "dns") {
      ++specific_deliveries;
      EXPECT_EQ(e.host, "server");
      EXPECT_EQ(e.match, "specific");
      ASSERT_EQ(e.shadowed.size(), 1u);
      EXPECT_EQ(e.shadowed[0], "any");
      EXPECT_EQ(e.data, "query");
      // Sent at 60ms: serialised onto the client's link (IPv4 20 + UDP 8 + payload bytes, plus
      // 2 bytes of point-to-point framing, at its bandwidth, rounded up to the ns), then the
      // two links' latencies; the wan link has no bandwidth, so no serialisation delay.
      const uint64_t bits = (20 + 8 + kQuery.size() + 2) * 8;
      const int64_t serialisation_ns =
          static_cast<int64_t>((bits * 1'000'000'000 + kClientBandwidthBps - 1) / kClientBandwidthBps);
      EXPECT_EQ(e.t_ns, 60'000'000 + serialisation_ns + kClientLatencyNs + kWanLatencyNs);
    }
  });
  netsim::RunReport report = sim.run();
  ASSERT_GE(kinds.size(), 3u);
  EXPECT_EQ(kinds.front(), "header");
  EXPECT_EQ(kinds.back(), "summary");
  EXPECT_TRUE(seq_increasing);
  EXPECT_EQ(specific_deliveries, 1);
  std::string joined;
  for (const std::string& l : lines) joined += l + "\n";
  EXPECT_EQ(joined, trace.str());
  EXPECT_EQ(report.trace_events, records);
}

TEST(SimulationApi, InvalidNetworkListsEveryProblem) {
  netsim::Simulation sim("bad");
  sim.add_interface("a", "eth0", {"10.0.0.1/33"});
  sim.add_link({"a.eth0", "nowhere.eth0"});
  sim.listen(0ms, "ghost", netsim::Proto::kUdp, "s", 7);
  try {
    sim.run();
    FAIL() << "accepted";
  } catch (const netsim::ScenarioError& e) {
    ASSERT_EQ(e.problems().size(), 3u) << e.what();
    for (const std::string& p : e.problems()) EXPECT_EQ(p.rfind("bad.json:", 0), 0u) << p;
    EXPECT_NE(std::string(e.what()).find("/hosts/a/interfaces/eth0/addresses/0"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/links/0/between/1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/steps/0"), std::string::npos) << e.what();
  }
}

TEST(SimulationApi, StepOrExpectationThatIsNoJsonObjectThrowsAtOnce) {
  netsim::Simulation sim("text");
  EXPECT_THROW(sim.step(0ms, "{\"op\": "), std::invalid_argument);
  EXPECT_THROW(sim.expect("[1, 2]"), std::invalid_argument);
  EXPECT_EQ(sim.scenario_json().find("\"steps\": []"), sim.scenario_json().find("\"steps\""));
}

TEST(SimulationApi, RunsOnce) {
  netsim::Simulation sim("once");
  sim.add_interface("a", "eth0", {"10.0.0.1/24"});
  EXPECT_TRUE(sim.run().passed);
  EXPECT_THROW(sim.run(), std::logic_error);
}

TEST(SimulationApi, FailedStepAndExpectationAreReported) {
  netsim::Simulation sim("fails");
  sim.add_interface("a", "eth0", {"10.0.0.1/24"});
  sim.listen(0ms, "a", netsim::Proto::kUdp, "s", 7);
  sim.listen(0ms, "a", netsim::Proto::kUdp, "t", 7, {}, "address_in_use");  // as expected
  sim.listen(0ms, "a", netsim::Proto::kUdp, "u", 7);                          // fails: in use
  sim.expect(R"({"event": "deliver", "socket": "s"})");
  netsim::RunReport report = sim.run();
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.exit_code, 1);
  EXPECT_EQ(report.steps_passed, 2u);
  EXPECT_EQ(report.steps_failed, 1u);
  EXPECT_EQ(report.expectations_failed, 1u);
  ASSERT_EQ(report.failures.size(), 2u);
  EXPECT_NE(report.failures[0].find("/steps/2"), std::string::npos) << report.failures[0];
  EXPECT_NE(report.failures[1].find("/expect/0"), std::string::npos) << report.failures[1];
  EXPECT_TRUE(report.fingerprint.empty());  // no sink: no trace made
}

}  // namespace
