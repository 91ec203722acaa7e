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

// Runs `program` and the file `scenario_text` (loaded as `netsim run` loads it, and through
// `netsim run` itself): both pass, and their traces are the same but for the header's file hash.
void expect_same_trace_as_file(netsim::Simulation& program, const char* scenario_text, const std::string& name,
                               uint64_t expectations) {
  std::ostringstream program_trace;
  program.write_trace(program_trace);
  const netsim::RunReport report = program.run();
  ASSERT_TRUE(report.passed) << (report.failures.empty() ? "" : report.failures[0]);
  EXPECT_EQ(report.expectations_passed, expectations);
  EXPECT_EQ(report.fingerprint.size(), 64u);

  // The file, loaded and run as `netsim run` runs it: through a Simulation.
  netsim::scenario::LoadResult loaded = netsim::scenario::load_scenario_text(scenario_text, name + ".json");
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
  { std::ofstream(dir / (name + ".json"), std::ios::binary) << scenario_text; }
  const std::string out = run_netsim(dir / (name + ".json"), dir / "trace.jsonl");
  EXPECT_NE(out.find("exit 0"), std::string::npos) << out;
  std::ifstream in(dir / "trace.jsonl", std::ios::binary);
  std::stringstream written;
  written << in.rdbuf();
  EXPECT_EQ(written.str(), file_trace.str());
  fs::remove_all(dir);
}

TEST(SimulationApi, ProgramAndScenarioFileGiveTheSameTrace) {
  RoutedNetwork program;
  expect_same_trace_as_file(program.sim, kRoutedScenario, "api-routed", 2);
}

// Every other step and setting of the format: TCP parameters and limits, host models, an
// interface that starts down, generated and repeated sends, per-socket congestion control,
// recovery and nodelay, an address changed, routes added and removed as steps, a ping with a payload size.
struct EveryStepNetwork {
  netsim::Simulation sim{"api-every-step"};
  netsim::HostHandle a = sim.add_host("a"), b = sim.add_host("b");

  EveryStepNetwork() {
    sim.set_seed(3);
    sim.set_until(2s);
    sim.set_policy(netsim::Policy::kLinux);
    sim.set_tcp({.min_rto = 100ms, .initial_cwnd_segments = 4, .send_buffer = 16384,
                 .timestamps = false, .recovery = netsim::Recovery::kNewReno});
    sim.set_limits({.events = 1'000'000, .time = 10s});
    sim.set_host_model(b, netsim::HostModel::kStrong);
    const auto a0 = sim.add_interface(a, "eth0", {"10.0.0.1/24"});
    const auto b0 = sim.add_interface(b, "eth0", {"10.0.0.2/24"});
    const auto b1 = sim.add_interface(b, "eth1", {"10.9.0.1/24"});
    sim.set_interface_up(b1, false);
    sim.add_link({a0, b0}, {.latency = 2ms, .bandwidth_bps = 10'000'000, .queue = 20});
    sim.listen(0ms, b, Proto::kTcp, "web", 80, {.congestion = netsim::Congestion::kNewReno, .nodelay = false});
    sim.listen(0ms, b, Proto::kUdp, "echo", 7);
    sim.connect(1ms, a, Proto::kTcp, "c", "10.0.0.2:80",
                {.congestion = netsim::Congestion::kCubic, .recovery = netsim::Recovery::kSack, .nodelay = true});
    sim.connect(1ms, a, Proto::kUdp, "u", "10.0.0.2:7");
    sim.send_bytes(10ms, a, "c", 40000);
    sim.send(20ms, a, "u", "tick", {.repeat = netsim::Repeat{.count = 3, .every = 5ms}});
    sim.send_bytes(30ms, a, "u", 100, {.repeat = netsim::Repeat{.count = 2, .every = 1ms}});
    sim.add_route(40ms, a, "10.9.0.0/24", "10.0.0.2");
    sim.set_interface_up(45ms, b1, true);
    sim.ping(50ms, a, "10.9.0.1", 2, 10ms, 200);
    sim.set_host_model(60ms, b, netsim::HostModel::kWeak);
    sim.ping(70ms, a, "10.9.0.1");
    sim.change_address(80ms, b1, "10.9.0.1", "10.9.0.7/24");
    sim.remove_route(90ms, a, "10.9.0.0/24", "10.0.0.2");
    sim.remove_route(95ms, a, "10.9.0.0/24", "10.0.0.2", {}, 0, "invalid_argument");
    sim.close(100ms, a, "c");
    sim.expect(Match("deliver").where("socket", "echo"), {.exactly = 5});
    sim.expect(Match("accept").where("host", "b"), {.exactly = 1});
  }
};

constexpr const char* kEveryStepScenario = R"({
  "format": "netsim-scenario/1", "name": "api-every-step", "seed": 3, "until": "2s", "policy": "linux",
  "defaults": {"tcp": {"min_rto": "100ms", "initial_cwnd_segments": 4, "send_buffer": 16384,
                       "timestamps": false, "recovery": "newreno"}},
  "limits": {"events": 1000000, "time": "10s"},
  "hosts": {
    "a": {"interfaces": {"eth0": {"addresses": ["10.0.0.1/24"]}}},
    "b": {"host_model": "strong",
          "interfaces": {"eth0": {"addresses": ["10.0.0.2/24"]},
                         "eth1": {"addresses": ["10.9.0.1/24"], "up": false}}}
  },
  "links": [{"between": ["a.eth0", "b.eth0"], "latency": "2ms", "bandwidth": "10Mbps", "queue": 20}],
  "steps": [
    {"at": "0ms", "host": "b", "op": "listen", "proto": "tcp", "socket": "web", "port": 80, "congestion": "newreno",
     "nodelay": false},
    {"at": "0ms", "host": "b", "op": "listen", "proto": "udp", "socket": "echo", "port": 7},
    {"at": "1ms", "host": "a", "op": "connect", "proto": "tcp", "socket": "c", "remote": "10.0.0.2:80",
     "congestion": "cubic", "recovery": "sack", "nodelay": true},
    {"at": "1ms", "host": "a", "op": "connect", "proto": "udp", "socket": "u", "remote": "10.0.0.2:7"},
    {"at": "10ms", "host": "a", "op": "send", "socket": "c", "size": 40000},
    {"at": "20ms", "host": "a", "op": "send", "socket": "u", "data": "tick", "repeat": {"count": 3, "every": "5ms"}},
    {"at": "30ms", "host": "a", "op": "send", "socket": "u", "size": 100, "repeat": {"count": 2, "every": "1ms"}},
    {"at": "40ms", "host": "a", "op": "add_route", "to": "10.9.0.0/24", "via": "10.0.0.2"},
    {"at": "45ms", "host": "b", "op": "interface_up", "interface": "eth1"},
    {"at": "50ms", "host": "a", "op": "ping", "to": "10.9.0.1", "count": 2, "every": "10ms", "size": 200},
    {"at": "60ms", "host": "b", "op": "set_host_model", "host_model": "weak"},
    {"at": "70ms", "host": "a", "op": "ping", "to": "10.9.0.1"},
    {"at": "80ms", "host": "b", "op": "change_address", "interface": "eth1", "from": "10.9.0.1", "to": "10.9.0.7/24"},
    {"at": "90ms", "host": "a", "op": "remove_route", "to": "10.9.0.0/24", "via": "10.0.0.2"},
    {"at": "95ms", "host": "a", "op": "remove_route", "to": "10.9.0.0/24", "via": "10.0.0.2",
     "expect_error": "invalid_argument"},
    {"at": "100ms", "host": "a", "op": "close", "socket": "c"}
  ],
  "expect": [
    {"event": "deliver", "socket": "echo", "count": 5},
    {"event": "accept", "host": "b", "count": 1}
  ]
})";

TEST(SimulationApi, EveryStepAndSettingGivesTheFilesTrace) {
  EveryStepNetwork program;
  expect_same_trace_as_file(program.sim, kEveryStepScenario, "api-every-step", 2);
}

// set_tcp sets each parameter as the same key of `defaults.tcp` does, and keeps the others.
TEST(SimulationApi, SetTcpIsDefaultsTcp) {
  netsim::Simulation sim;
  sim.set_tcp({.msl = 1s, .initial_rto = 2s, .min_rto = 3ms, .max_rto = 4s});
  sim.set_tcp({.delayed_ack_timeout = 5ms, .fin_wait_2_timeout = 6s, .max_retries = 7, .syn_retries = 8,
               .initial_cwnd_segments = 9, .abc_limit = 10, .initial_ssthresh = 11, .receive_buffer = 12,
               .send_buffer = 13, .backlog = 14, .delayed_ack = false, .window_scaling = false,
               .timestamps = true, .sack = true, .nodelay = false, .rfc1337 = true,
               .receive_sws_avoidance = true, .congestion = netsim::Congestion::kCubic,
               .recovery = netsim::Recovery::kSack});
  const char* file = R"({"format": "netsim-scenario/1", "defaults": {"tcp": {
    "msl": "1s", "initial_rto": "2s", "min_rto": "3ms", "max_rto": "4s", "delayed_ack_timeout": "5ms",
    "fin_wait_2_timeout": "6s", "max_retries": 7, "syn_retries": 8, "initial_cwnd_segments": 9,
    "abc_limit": 10, "initial_ssthresh": 11, "receive_buffer": 12, "send_buffer": 13, "backlog": 14,
    "delayed_ack": false, "window_scaling": false, "timestamps": true, "sack": true, "nodelay": false,
    "rfc1337": true, "receive_sws_avoidance": true, "congestion": "cubic", "recovery": "sack"}}})";
  netsim::scenario::LoadResult loaded = netsim::scenario::load_scenario_text(file, "tcp.json");
  ASSERT_TRUE(loaded.scenario);
  const netsim::scenario::TcpParams& want = loaded.scenario->tcp;
  const netsim::scenario::TcpParams& got = netsim::SimulationAccess::scenario(sim).tcp;
  const netsim::scenario::TcpParams policy = netsim::scenario::policy_tcp_params(netsim::scenario::Policy::kSeed);
  // Every parameter differs from the policy's, so a parameter set from the wrong member shows.
  const auto fields = [](const netsim::scenario::TcpParams& p) {
    return std::vector<int64_t>{p.msl.ns, p.initial_rto.ns, p.min_rto.ns, p.max_rto.ns,
                                p.delayed_ack_timeout.ns, p.fin_wait_2_timeout.ns, p.max_retries,
                                p.syn_retries, p.initial_cwnd_segments, p.abc_limit, p.initial_ssthresh,
                                p.receive_buffer, p.send_buffer, p.backlog, p.delayed_ack, p.window_scaling,
                                p.timestamps, p.sack, p.nodelay, p.rfc1337, p.receive_sws_avoidance,
                                static_cast<int64_t>(p.congestion), static_cast<int64_t>(p.recovery)};
  };
  EXPECT_EQ(fields(got), fields(want));
  for (size_t i = 0; i < fields(policy).size(); ++i)
    EXPECT_NE(fields(policy)[i], fields(want)[i]) << "parameter " << i << " is the policy's";
}

// A pinned fingerprint passes the run that makes it and fails any other.
TEST(SimulationApi, PinnedFingerprintIsChecked) {
  const auto run = [](const std::string& pin) {
    EveryStepNetwork n;
    std::ostringstream trace;
    n.sim.write_trace(trace);
    if (!pin.empty()) n.sim.pin_fingerprint(pin);
    return n.sim.run();
  };
  const netsim::RunReport first = run("");
  ASSERT_TRUE(first.passed);
  EXPECT_TRUE(run(first.fingerprint).passed);
  const netsim::RunReport other = run(std::string(64, '0'));
  EXPECT_FALSE(other.passed);
  ASSERT_EQ(other.failures.size(), 1u);
  EXPECT_NE(other.failures[0].find("/fingerprint"), std::string::npos) << other.failures[0];
}

// A run that hits a guard set by set_limits stops and fails, naming the guard.
TEST(SimulationApi, LimitsStopTheRun) {
  EveryStepNetwork n;
  n.sim.set_limits({.events = 20});
  const netsim::RunReport report = n.sim.run();
  EXPECT_FALSE(report.passed);
  ASSERT_TRUE(report.guard.has_value());
  EXPECT_NE(report.guard->find("events"), std::string::npos) << *report.guard;
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
      {"negative time", [](RoutedNetwork& n) { n.sim.close(-1ms, n.client, "u"); },
       "close: `at`: durations cannot be negative"},
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
      {"ping count", [](RoutedNetwork& n) { n.sim.ping(0ms, n.client, "10.0.2.2", 0); },
       "`count`: count must be an integer from 1 to 4294967295, got 0"},
      {"ping size", [](RoutedNetwork& n) { n.sim.ping(0ms, n.client, "10.0.2.2", 1, 1s, 65508); },
       "`size`: size must be an integer from 0 to 65507"},
      {"send size", [](RoutedNetwork& n) { n.sim.send_bytes(0ms, n.client, "u", uint64_t{1} << 32); },
       "send_bytes: `size`: size must be an integer from 0 to 4294967295"},
      {"repeat count", [](RoutedNetwork& n) {
         n.sim.send(0ms, n.client, "u", "x", {.to = "10.0.2.2:53", .repeat = netsim::Repeat{.count = 0}});
       }, "send: `repeat.count`: count must be an integer from 1"},
      {"repeat every", [](RoutedNetwork& n) {
         n.sim.send_bytes(0ms, n.client, "u", 1, {.repeat = netsim::Repeat{.count = 2, .every = -1ms}});
       }, "`repeat.every`: durations cannot be negative"},
      {"send to", [](RoutedNetwork& n) { n.sim.send_bytes(0ms, n.client, "u", 1, {.to = "10.0.2.2"}); },
       "`to`: invalid socket address"},
      {"udp congestion", [](RoutedNetwork& n) {
         n.sim.listen(0ms, n.client, Proto::kUdp, "x", 1, {.congestion = netsim::Congestion::kCubic});
       }, "`congestion`: `congestion` applies to TCP sockets only"},
      {"udp recovery", [](RoutedNetwork& n) {
         n.sim.connect(0ms, n.client, Proto::kUdp, "x", "10.0.2.2:53", {.recovery = netsim::Recovery::kSack});
       }, "`recovery`: `recovery` applies to TCP sockets only"},
      {"udp nodelay", [](RoutedNetwork& n) {
         n.sim.listen(0ms, n.client, Proto::kUdp, "x", 1, {.nodelay = true});
       }, "`nodelay`: `nodelay` applies to TCP sockets only"},
      {"change to", [](RoutedNetwork& n) {
         n.sim.change_address(0ms, netsim::InterfaceHandle{2, 0}, "10.0.2.3", "10.0.2.4");
       }, "change_address: `to`: `10.0.2.4` lacks a prefix length"},
      {"change from", [](RoutedNetwork& n) {
         n.sim.change_address(0ms, netsim::InterfaceHandle{2, 0}, "nowhere", "10.0.2.4/24");
       }, "`from`: invalid IP address"},
      {"route step family", [](RoutedNetwork& n) { n.sim.add_route(0ms, n.client, "fd00::/64", "10.0.1.1"); },
       "add_route: `via`: `via` 10.0.1.1 is not of the family of `to`"},
      {"route step device", [](RoutedNetwork& n) {
         n.sim.remove_route(0ms, n.client, "10.9.0.0/16", "", netsim::InterfaceHandle{2, 0});
       }, "remove_route: the device is an interface of another host"},
      {"route step prefix", [](RoutedNetwork& n) { n.sim.remove_route(0ms, n.client, "10.9.0.0", "10.0.1.1"); },
       "`to`: `10.9.0.0` lacks a prefix length"},
      {"host model host", [](RoutedNetwork& n) {
         n.sim.set_host_model(0ms, netsim::HostHandle{9}, netsim::HostModel::kWeak);
       }, "set_host_model: no host #9"},
      {"lo down", [](RoutedNetwork& n) { n.sim.set_interface_up(n.sim.loopback(n.client), false); },
       "set_interface_up: `lo` is always up"},
      {"tcp rto order", [](RoutedNetwork& n) { n.sim.set_tcp({.msl = 1s, .min_rto = 2s, .max_rto = 1s}); },
       "set_tcp: min_rto (2000000000 ns) exceeds max_rto (1000000000 ns)"},
      {"tcp zero rto", [](RoutedNetwork& n) { n.sim.set_tcp({.initial_rto = 0ns}); },
       "set_tcp: `initial_rto`: initial_rto must be greater than 0"},
      {"tcp window", [](RoutedNetwork& n) { n.sim.set_tcp({.initial_cwnd_segments = 0}); },
       "`initial_cwnd_segments`: initial_cwnd_segments must be an integer from 1"},
      {"tcp duration", [](RoutedNetwork& n) { n.sim.set_tcp({.msl = -1s}); },
       "`msl`: durations cannot be negative"},
      {"limits events", [](RoutedNetwork& n) { n.sim.set_limits({.events = 0}); },
       "set_limits: `events`: `events` must be an integer >= 1, got 0"},
      {"limits time", [](RoutedNetwork& n) { n.sim.set_limits({.events = 5, .time = 0s}); },
       "set_limits: `time`: `time` must be greater than 0"},
      {"fingerprint", [](RoutedNetwork& n) { n.sim.pin_fingerprint(""); }, "must not be empty"},
      {"event kind", [](RoutedNetwork& n) { n.sim.expect(Match("delivered")); }, "unknown event kind"},
      {"unknown host", [](RoutedNetwork& n) { n.sim.expect(Match("deliver").where("host", "nobody")); },
       "expect: `host`: unknown host `nobody`"},
      {"unknown host in a sequence", [](RoutedNetwork& n) {
         n.sim.expect_sequence({Match("deliver"), Match("accept").where("host", "nobody")});
       }, "expect_sequence: `sequence.1.host`: unknown host `nobody`"},
      {"sequence count", [](RoutedNetwork& n) { n.sim.expect_sequence({Match("deliver")}, {.min = 3, .max = 2}); },
       "expect_sequence: `max`: `max` is below `min`"},
      {"count key", [](RoutedNetwork& n) { n.sim.expect(Match("deliver").where("count", 1)); }, "not a field"},
      {"count", [](RoutedNetwork& n) { n.sim.expect(Match("deliver"), {.exactly = 1, .min = 1}); },
       "cannot be combined"},
      {"window", [](RoutedNetwork& n) { n.sim.expect(Match("deliver"), {.after = 2ms, .before = 1ms}); },
       "empty window"},
      {"empty sequence", [](RoutedNetwork& n) { n.sim.expect_sequence({}); },
       "`sequence`: `sequence` must hold at least one matcher"},
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
      // Occurrences of a sequence, one after another: deliver then deliver, twice in three.
      {[&](netsim::Simulation& s) { s.expect_sequence({delivered, delivered}, {.exactly = 1}); }, true},
      {[&](netsim::Simulation& s) { s.expect_sequence({delivered, delivered}, {.exactly = 2}); }, false},
      {[&](netsim::Simulation& s) { s.expect_sequence({delivered}, {.exactly = 2, .after = 15ms}); }, true},
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
