// A custom trace sink: counts deliveries per (host, socket) through the netsim library's record
// callback while a small UDP network runs, prints the counts, and checks them against what the
// steps send (exit 1 if they differ). Also writes the JSONL trace when given a file name.
#include <netsim/netsim.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <utility>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  netsim::Simulation sim("count-deliveries");
  const netsim::HostHandle a = sim.add_host("a"), b = sim.add_host("b"), c = sim.add_host("c");
  const netsim::InterfaceHandle a0 = sim.add_interface(a, "eth0", {"10.0.0.1/24"});
  const netsim::InterfaceHandle b0 = sim.add_interface(b, "eth0", {"10.0.0.2/24"});
  const netsim::InterfaceHandle c0 = sim.add_interface(c, "eth0", {"10.0.0.3/24"});
  // A shared segment of three hosts, 2ms, 10% loss drawn from the seeded stream.
  sim.add_link({a0, b0, c0}, {.latency = 2ms, .loss = 0.1});
  sim.listen(0ms, b, netsim::Proto::kUdp, "sink", 9000);
  sim.listen(0ms, c, netsim::Proto::kUdp, "sink", 9000);
  sim.listen(0ms, a, netsim::Proto::kUdp, "src", 5000);
  constexpr int kToB = 100, kToC = kToB / 2;
  for (int i = 0; i < kToB; ++i) {
    sim.send(1ms * i, a, "src", "to-b " + std::to_string(i), "10.0.0.2:9000");
    if (i % 2 == 0) sim.send(1ms * i, a, "src", "to-c " + std::to_string(i), "10.0.0.3:9000");
  }

  std::map<std::pair<std::string, std::string>, int> deliveries;
  int lost = 0;
  sim.on_record([&](const netsim::TraceRecord& r) {
    if (r.event() == "deliver") ++deliveries[{r.field("host"), r.field("socket")}];
    if (r.event() == "drop" && r.field("reason") == "loss") ++lost;
  });
  std::ofstream trace;
  if (argc > 1) {
    trace.open(argv[1], std::ios::binary);
    sim.write_trace(trace);
  }
  const netsim::RunReport report = sim.run();

  int total = 0;
  for (const auto& [key, n] : deliveries) {
    std::printf("%s/%s: %d deliveries\n", key.first.c_str(), key.second.c_str(), n);
    total += n;
  }
  std::printf("%d delivered, %d lost on the link\n", total, lost);
  if (argc > 1) std::printf("trace %s, fingerprint %s\n", argv[1], report.fingerprint.c_str());
  // Every datagram sent is either delivered or lost by the lossy segment.
  const bool ok = report.passed && total + lost == kToB + kToC && lost > 0 && total > 0;
  if (!ok) std::printf("FAIL: %d delivered + %d lost != %d sent\n", total, lost, kToB + kToC);
  return ok ? 0 : 1;
}
