// The library API's contracts (include/netsim/simulation.h): a network built in code runs as
// the same network in a scenario file does (the trace byte for byte, but for the header's file
// hash), and `netsim run` gives that trace for the file; the same calls give the same trace; the
// record callback sees every record in order, as the trace writes it; each call refuses a bad
// argument at once and changes nothing; a simulation runs once; failed steps and expectations
// are reported; counts, windows and sequences are checked online.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <netsim/netsim.h>

#include "api/simulation_access.h"
#include "scenarios/loader.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using netsim::Match;
using netsim::Proto;

// The client's link and the UDP query sent over it: its arrival time follows from them.
constexpr int64_t kClientLatencyNs = 1'000'000, kWanLatencyNs = 2'000'000;
constexpr uint64_t kClientBandwidthBps = 100'000'000;
constexpr int64_t kQueryAtNs = 60'000'000;
const std::string kQuery = "query";

// TCP across a router with static routes, a UDP listener shadowing a wildcard one, an address
// removed, a ping, a shutdown, a link going down and up: most of what the API can build.
struct RoutedNetwork {
  netsim::Simulation sim{"api-routed"};
  netsim::HostHandle client = sim.add_host("client"), router = sim.add_host("router"),
                     server = sim.add_host("server");

  RoutedNetwork() {
    sim.set_seed(7);
    sim.set_until(2s);
    const auto c0 = sim.add_interface(client, "eth0", {"10.0.1.2/24"});
    const auto r0 = sim.add_interface(router, "eth0", {"10.0.1.1/24"});
    const auto r1 = sim.add_interface(router, "eth1", {"10.0.2.1/24"});
    sim.set_forwarding(router, true);
    const auto s0 = sim.add_interface(server, "eth0", {"10.0.2.2/24", "10.0.2.3/24"});
    sim.add_link({c0, r0}, {.latency = std::chrono::nanoseconds(kClientLatencyNs),
                            .bandwidth_bps = kClientBandwidthBps});
    const auto wan = sim.add_link({r1, s0}, {.name = "wan", .latency = std::chrono::nanoseconds(kWanLatencyNs),
                                             .loss = 0.05});
    sim.add_route(client, "0.0.0.0/0", "10.0.1.1");
    sim.add_route(server, "10.0.1.0/24", "10.0.2.1", s0);
    sim.listen(0ms, server, Proto::kTcp, "web", 80);
    sim.listen(0ms, server, Proto::kUdp, "any", 53);
    sim.listen(0ms, server, Proto::kUdp, "dns", 53, {.addresses = {"10.0.2.2"}});
    sim.listen(0ms, client, Proto::kUdp, "u", 5000);
    sim.connect(1ms, client, Proto::kTcp, "conn", "10.0.2.2:80");
    sim.send(50ms, client, "conn", "GET /");
    sim.send(std::chrono::nanoseconds(kQueryAtNs), client, "u", kQuery, "10.0.2.2:53");
    sim.remove_address(70ms, s0, "10.0.2.3/24");
    sim.ping(80ms, client, "10.0.2.2");
    sim.shutdown(90ms, server, "dns", netsim::Shutdown::kRead);
    sim.close(100ms, client, "conn");
    sim.set_link_up(150ms, wan, false);
    sim.set_link_up(160ms, wan, true);
    sim.expect(Match("deliver").where("socket", "dns").where("match", "specific").where_list("shadowed", {"any"}));
    sim.expect(Match("accept").where("host", "server"), {.exactly = 1});
  }
};

// The same network as a scenario file.
constexpr const char* kRoutedScenario = R"({
  "format": "netsim-scenario/1", "name": "api-routed", "seed": 7, "until": "2s",
  "hosts": {
    "client": {"interfaces": {"eth0": {"addresses": ["10.0.1.2/24"]}},
               "routes": [{"to": "0.0.0.0/0", "via": "10.0.1.1"}]},
    "router": {"forwarding": true, "interfaces": {"eth0": {"addresses": ["10.0.1.1/24"]},
                                                  "eth1": {"addresses": ["10.0.2.1/24"]}}},
    "server": {"interfaces": {"eth0": {"addresses": ["10.0.2.2/24", "10.0.2.3/24"]}},
               "routes": [{"to": "10.0.1.0/24", "via": "10.0.2.1", "dev": "eth0"}]}
  },
  "links": [
    {"between": ["client.eth0", "router.eth0"], "latency": "1ms", "bandwidth": "100Mbps"},
    {"name": "wan", "between": ["router.eth1", "server.eth0"], "latency": "2ms", "loss": 0.05}
  ],
  "steps": [
    {"at": "0ms", "host": "server", "op": "listen", "proto": "tcp", "socket": "web", "port": 80},
    {"at": "0ms", "host": "server", "op": "listen", "proto": "udp", "socket": "any", "port": 53},
    {"at": "0ms", "host": "server", "op": "listen", "proto": "udp", "socket": "dns", "port": 53,
     "addresses": ["10.0.2.2"]},
    {"at": "0ms", "host": "client", "op": "listen", "proto": "udp", "socket": "u", "port": 5000},
    {"at": "1ms", "host": "client", "op": "connect", "proto": "tcp", "socket": "conn", "remote": "10.0.2.2:80"},
    {"at": "50ms", "host": "client", "op": "send", "socket": "conn", "data": "GET /"},
    {"at": "60ms", "host": "client", "op": "send", "socket": "u", "data": "query", "to": "10.0.2.2:53"},
    {"at": "70ms", "host": "server", "op": "remove_address", "interface": "eth0", "address": "10.0.2.3/24"},
    {"at": "80ms", "host": "client", "op": "ping", "to": "10.0.2.2"},
    {"at": "90ms", "host": "server", "op": "shutdown", "socket": "dns", "how": "read"},
    {"at": "100ms", "host": "client", "op": "close", "socket": "conn"},
    {"at": "150ms", "op": "link_down", "link": "wan"},
    {"at": "160ms", "op": "link_up", "link": "wan"}
  ],
  "expect": [
    {"event": "deliver", "socket": "dns", "match": "specific", "shadowed": ["any"]},
    {"event": "accept", "host": "server", "count": 1}
  ]
})";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The header line without its `scenario_sha256` (a program has no file to hash).
std::string header_without_file_hash(const std::string& header) {
  const std::string key = "\"scenario_sha256\":\"";
  const size_t at = header.find(key);
  if (at == std::string::npos) return header;
  return header.substr(0, at) + header.substr(header.find('"', at + key.size()) + 2);
}

std::string run_netsim(const fs::path& scenario, const fs::path& trace) {
  const std::string cmd = std::string(NETSIM_BINARY) + " run " + scenario.string() + " --trace " +
                          trace.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = p ? pclose(p) : -1;
  return out + "exit " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

TEST(SimulationApi, ProgramAndScenarioFileGiveTheSameTrace) {
  RoutedNetwork program;
  std::ostringstream program_trace;
  program.sim.write_trace(program_trace);
  const netsim::RunReport report = program.sim.run();
  ASSERT_TRUE(report.passed) << (report.failures.empty() ? "" : report.failures[0]);
  EXPECT_EQ(report.expectations_passed, 2u);
  EXPECT_EQ(report.fingerprint.size(), 64u);

  // The file, loaded and run as `netsim run` runs it: through a Simulation.
  netsim::scenario::LoadResult loaded = netsim::scenario::load_scenario_text(kRoutedScenario, "api-routed.json");
  ASSERT_TRUE(loaded.scenario) << netsim::scenario::format_diagnostic(loaded.errors.at(0));
  netsim::Simulation file = netsim::SimulationAccess::from_scenario(std::move(*loaded.scenario));
  std::ostringstream file_trace;
  file.write_trace(file_trace);
  EXPECT_TRUE(file.run().passed);

  const std::vector<std::string> a = lines_of(program_trace.str()), b = lines_of(file_trace.str());
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 50u);
  EXPECT_NE(a[0].find("\"scenario_sha256\":\"\""), std::string::npos) << a[0];
  EXPECT_EQ(header_without_file_hash(a[0]), header_without_file_hash(b[0]));
  for (size_t i = 1; i + 1 < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "line " << i + 1;

  // `netsim run` on the same file writes the file's trace, byte for byte.
  const fs::path dir = fs::temp_directory_path() / ("netsim-simulation-api-" + std::to_string(getpid()));
  fs::create_directories(dir);
  { std::ofstream(dir / "api-routed.json", std::ios::binary) << kRoutedScenario; }
  const std::string out = run_netsim(dir / "api-routed.json", dir / "trace.jsonl");
  EXPECT_NE(out.find("exit 0"), std::string::npos) << out;
  std::ifstream in(dir / "trace.jsonl", std::ios::binary);
  std::stringstream written;
  written << in.rdbuf();
  EXPECT_EQ(written.str(), file_trace.str());
  fs::remove_all(dir);
}

TEST(SimulationApi, SameCallsSameTrace) {
  RoutedNetwork first, second;
  std::ostringstream a, b;
  first.sim.write_trace(a);
  second.sim.write_trace(b);
  EXPECT_EQ(first.sim.run().fingerprint, second.sim.run().fingerprint);
  EXPECT_EQ(a.str(), b.str());
  EXPECT_GT(a.str().size(), 1000u);
}

TEST(SimulationApi, RecordsAreTheTraceLinesInOrder) {
  RoutedNetwork n;
  std::ostringstream trace;
  n.sim.write_trace(trace);
  std::vector<std::string> records;
  bool in_order = true;
  int dns_deliveries = 0;
  n.sim.on_record([&](const netsim::TraceRecord& r) {
    in_order = in_order && r.seq() == records.size();
    records.push_back(r.json());
    if (r.event() == "deliver" && r.field("socket") == "dns") {
      ++dns_deliveries;
      EXPECT_EQ(r.field("host"), "server");
      EXPECT_EQ(r.field("match"), "specific");
      EXPECT_EQ(r.list("shadowed"), std::vector<std::string>{"any"});
      EXPECT_EQ(r.field("data"), kQuery);
      EXPECT_TRUE(r.integer("cause").has_value());
      // Serialised onto the client's link (IPv4 20 + UDP 8 + payload bytes, plus 2 bytes of
      // point-to-point framing, at its bandwidth, rounded up to the ns), then both links'
      // latencies; the wan link has no bandwidth, so no serialisation delay there.
      const uint64_t bits = (20 + 8 + kQuery.size() + 2) * 8;
      const int64_t serialisation_ns =
          static_cast<int64_t>((bits * 1'000'000'000 + kClientBandwidthBps - 1) / kClientBandwidthBps);
      EXPECT_EQ(r.t().count(), kQueryAtNs + serialisation_ns + kClientLatencyNs + kWanLatencyNs);
    }
  });
  const netsim::RunReport report = n.sim.run();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(dns_deliveries, 1);
  // Every line with a seq but the `expect` lines is a record, as the trace writes it.
  std::vector<std::string> lines = lines_of(trace.str());
  ASSERT_EQ(lines.size(), records.size() + report.expectations_passed + 2);  // + header, summary
  lines.erase(lines.begin());
  lines.resize(records.size());
  EXPECT_EQ(lines, records);
  EXPECT_EQ(report.trace_events, records.size() + report.expectations_passed);
}

// Each row: a call with a bad argument, and what its message must say.
struct BadCall {
  const char* name;
  std::function<void(RoutedNetwork&)> call;
  const char* message;
};

TEST(SimulationApi, EachCallRefusesABadArgumentAndChangesNothing) {
  const std::vector<BadCall> rows = {
      {"host exists", [](RoutedNetwork& n) { n.sim.add_host("client"); }, "add_host: host `client` exists"},
      {"host name", [](RoutedNetwork& n) { n.sim.add_host("a.b"); }, "may not contain"},
      {"prefix", [](RoutedNetwork& n) { n.sim.add_interface(n.client, "eth1", {"10.0.0.1/33"}); }, "invalid prefix"},
      {"address twice",
       [](RoutedNetwork& n) { n.sim.add_interface(n.client, "eth1", {"10.0.1.2/24"}); }, "assigned twice"},
      {"lo", [](RoutedNetwork& n) { n.sim.add_interface(n.client, "lo", {}); }, "`lo` exists"},
      {"ipv6 mtu",
       [](RoutedNetwork& n) { n.sim.add_interface(n.client, "eth1", {"fd00::1/64"}, 1000); }, "below 1280"},
      {"foreign host", [](RoutedNetwork& n) { n.sim.set_forwarding(netsim::HostHandle{7}, true); }, "no host #7"},
      {"one end",
       [](RoutedNetwork& n) { n.sim.add_link({netsim::InterfaceHandle{0, 0}}); }, "at least 2 interfaces"},
      {"linked twice",
       [](RoutedNetwork& n) { n.sim.add_link({netsim::InterfaceHandle{0, 0}, netsim::InterfaceHandle{2, 0}}); },
       "`client.eth0` is already on a link"},
      {"loopback on a link",
       [](RoutedNetwork& n) { n.sim.add_link({n.sim.loopback(n.client), n.sim.loopback(n.server)}); },
       "loopback interface cannot be on a link"},
      {"link name", [](RoutedNetwork& n) {
         const auto a = n.sim.add_host("a"), b = n.sim.add_host("b");
         n.sim.add_link({n.sim.add_interface(a, "e", {}), n.sim.add_interface(b, "e", {})}, {.name = "wan"});
       }, "duplicate link name `wan`"},
      {"route family", [](RoutedNetwork& n) { n.sim.add_route(n.client, "fd00::/64", "10.0.1.1"); }, "family"},
      {"route", [](RoutedNetwork& n) { n.sim.add_route(n.client, "10.9.0.0/16", ""); }, "needs a gateway"},
      {"negative time", [](RoutedNetwork& n) { n.sim.close(-1ms, n.client, "u"); }, "outside 0 .. 1e18"},
      {"new socket", [](RoutedNetwork& n) { n.sim.listen(0ms, n.client, Proto::kUdp, "x#1", 1); }, "`#`"},
      {"listen address", [](RoutedNetwork& n) {
         n.sim.listen(0ms, n.client, Proto::kUdp, "x", 1, {.addresses = {"10.0.1.2", "10.0.1.2"}});
       }, "listed twice"},
      {"family", [](RoutedNetwork& n) {
         n.sim.listen(0ms, n.client, Proto::kUdp, "x", 1,
                      {.addresses = {"10.0.1.2"}, .family = netsim::ListenFamily::kIpv4});
       }, "wildcard listeners only"},
      {"device of another host", [](RoutedNetwork& n) {
         n.sim.listen(0ms, n.client, Proto::kUdp, "x", 1, {.device = netsim::InterfaceHandle{2, 0}});
       }, "another host"},
      {"remote", [](RoutedNetwork& n) { n.sim.connect(0ms, n.client, Proto::kTcp, "x", "10.0.2.2"); },
       "invalid socket address"},
      {"families", [](RoutedNetwork& n) {
         n.sim.connect(0ms, n.client, Proto::kTcp, "x", "10.0.2.2:80", {.local = "fd00::1"});
       }, "different families"},
      {"error kind", [](RoutedNetwork& n) { n.sim.close(0ms, n.client, "u", "no_such_error"); },
       "unknown error kind"},
      {"ping count", [](RoutedNetwork& n) { n.sim.ping(0ms, n.client, "10.0.2.2", 0); }, "at least 1"},
      {"event kind", [](RoutedNetwork& n) { n.sim.expect(Match("delivered")); }, "unknown event kind"},
      {"unknown host", [](RoutedNetwork& n) { n.sim.expect(Match("deliver").where("host", "nobody")); },
       "does not name a host"},
      {"count key", [](RoutedNetwork& n) { n.sim.expect(Match("deliver").where("count", 1)); }, "not a field"},
      {"count", [](RoutedNetwork& n) { n.sim.expect(Match("deliver"), {.exactly = 1, .min = 1}); },
       "cannot be combined"},
      {"window", [](RoutedNetwork& n) { n.sim.expect(Match("deliver"), {.after = 2ms, .before = 1ms}); },
       "empty window"},
      {"empty sequence", [](RoutedNetwork& n) { n.sim.expect_sequence({}); }, "at least one Match"},
  };
  RoutedNetwork reference;
  std::ostringstream expected;
  reference.sim.write_trace(expected);
  reference.sim.run();
  for (const BadCall& row : rows) {
    RoutedNetwork n;
    try {
      row.call(n);
      ADD_FAILURE() << row.name << ": accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(row.message), std::string::npos) << row.name << ": " << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("netsim::Simulation::", 0), 0u) << e.what();
    }
    if (std::string_view(row.name) == "link name") continue;  // its first calls added hosts
    std::ostringstream trace;
    n.sim.write_trace(trace);
    n.sim.run();
    EXPECT_EQ(trace.str(), expected.str()) << row.name << " changed the simulation";
  }
}

TEST(SimulationApi, AutoRoutesWhoseLatenciesOverflowTheClockAreRefusedAtRun) {
  netsim::Simulation sim("overflow");
  sim.use_auto_routes();
  std::vector<netsim::HostHandle> hosts;
  for (int i = 0; i < 11; ++i) {
    hosts.push_back(sim.add_host("h" + std::to_string(i)));
    sim.add_interface(hosts.back(), "a", {});
    sim.add_interface(hosts.back(), "b", {});
  }
  for (uint32_t i = 0; i + 1 < hosts.size(); ++i)
    sim.add_link({netsim::InterfaceHandle{i, 1}, netsim::InterfaceHandle{i + 1, 0}},
                 {.latency = std::chrono::nanoseconds(1'000'000'000'000'000'000)});
  EXPECT_THROW(sim.run(), std::invalid_argument);
}

TEST(SimulationApi, RunsOnce) {
  netsim::Simulation sim("once");
  sim.add_interface(sim.add_host("a"), "eth0", {"10.0.0.1/24"});
  EXPECT_TRUE(sim.run().passed);
  EXPECT_THROW(sim.run(), std::logic_error);
}

TEST(SimulationApi, FailedStepAndExpectationAreReported) {
  netsim::Simulation sim("fails");
  const netsim::HostHandle a = sim.add_host("a");
  sim.add_interface(a, "eth0", {"10.0.0.1/24"});
  sim.listen(0ms, a, Proto::kUdp, "s", 7);
  sim.listen(0ms, a, Proto::kUdp, "t", 7, {}, "address_in_use");  // as expected
  sim.listen(0ms, a, Proto::kUdp, "u", 7);                          // fails: in use
  sim.expect(Match("deliver").where("socket", "s"));
  const netsim::RunReport report = sim.run();
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.steps_passed, 2u);
  EXPECT_EQ(report.steps_failed, 1u);
  EXPECT_EQ(report.expectations_failed, 1u);
  ASSERT_EQ(report.failures.size(), 2u);
  EXPECT_NE(report.failures[0].find("/steps/2"), std::string::npos) << report.failures[0];
  EXPECT_NE(report.failures[1].find("/expect/0"), std::string::npos) << report.failures[1];
  EXPECT_TRUE(report.fingerprint.empty());  // no sink: no trace made
}

// Three datagrams a -> b at 10, 20 and 30 ms over a 1 ms link: counts, windows and a sequence.
TEST(SimulationApi, CountsWindowsAndSequencesAreCheckedOnline) {
  struct Row {
    std::function<void(netsim::Simulation&)> expect;
    bool holds;
  };
  const Match delivered = Match("deliver").where("socket", "in");
  const std::vector<Row> rows = {
      {[&](netsim::Simulation& s) { s.expect(delivered, {.exactly = 3}); }, true},
      {[&](netsim::Simulation& s) { s.expect(delivered, {.exactly = 2}); }, false},
      {[&](netsim::Simulation& s) { s.expect(delivered, {.min = 2, .max = 3}); }, true},
      {[&](netsim::Simulation& s) { s.expect(delivered, {.max = 2}); }, false},
      {[&](netsim::Simulation& s) { s.expect(delivered, {.exactly = 1, .after = 15ms, .before = 25ms}); }, true},
      {[&](netsim::Simulation& s) { s.expect(delivered, {.exactly = 0, .after = 32ms}); }, true},
      {[&](netsim::Simulation& s) {
         s.expect_sequence({Match("deliver").where("data", "one"), Match("deliver").where("data", "three")});
       }, true},
      {[&](netsim::Simulation& s) {
         s.expect_sequence({Match("deliver").where("data", "three"), Match("deliver").where("data", "one")});
       }, false},
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    netsim::Simulation sim("counts");
    const auto a = sim.add_host("a"), b = sim.add_host("b");
    sim.add_link({sim.add_interface(a, "eth0", {"10.0.0.1/24"}), sim.add_interface(b, "eth0", {"10.0.0.2/24"})},
                 {.latency = 1ms});
    sim.listen(0ms, b, Proto::kUdp, "in", 7);
    sim.connect(0ms, a, Proto::kUdp, "out", "10.0.0.2:7");
    sim.send(10ms, a, "out", "one");
    sim.send(20ms, a, "out", "two");
    sim.send(30ms, a, "out", "three");
    rows[i].expect(sim);
    const netsim::RunReport report = sim.run();
    EXPECT_EQ(report.passed, rows[i].holds) << "row " << i;
    EXPECT_EQ(report.expectations_failed, rows[i].holds ? 0u : 1u) << "row " << i;
  }
}

}  // namespace
