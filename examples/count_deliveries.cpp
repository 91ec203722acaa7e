// A custom trace sink: counts deliveries per (host, socket) through the netsim library's
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
  sim.add_interface("a", "eth0", {"10.0.0.1/24"});
  sim.add_interface("b", "eth0", {"10.0.0.2/24"});
  sim.add_interface("c", "eth0", {"10.0.0.3/24"});
  // A shared segment of three hosts, 2ms, 10% loss drawn from the seeded stream.
  sim.add_link({"a.eth0", "b.eth0", "c.eth0"}, {.latency = 2ms, .loss = 0.1});
  sim.listen(0ms, "b", netsim::Proto::kUdp, "sink", 9000);
  sim.listen(0ms, "c", netsim::Proto::kUdp, "sink", 9000);
  sim.listen(0ms, "a", netsim::Proto::kUdp, "src", 5000);
  for (int i = 0; i < 100; ++i) {
    sim.send(1ms * i, "a", "src", "to-b " + std::to_string(i), "10.0.0.2:9000");
    if (i % 2 == 0) sim.send(1ms * i, "a", "src", "to-c " + std::to_string(i), "10.0.0.3:9000");
  }

  std::map<std::pair<std::string, std::string>, int> deliveries;
  int drops = 0;
  sim.on_event([&](const netsim::TraceEvent& e) {
    if (e.event == "deliver") ++deliveries[{std::string(e.host), std::string(e.socket)}];
    if (e.event == "drop") ++drops;
  });
  std::ofstream trace;
  if (argc > 1) {
    trace.open(argv[1], std::ios::binary);
    sim.write_trace(trace);
  }
  netsim::RunReport report = sim.run();

  int total = 0;
  for (const auto& [key, n] : deliveries) {
    std::printf("%s/%s: %d deliveries\n", key.first.c_str(), key.second.c_str(), n);
    total += n;
  }
  std::printf("%d delivered, %d dropped, fingerprint %s\n", total, drops, report.fingerprint.c_str());
  // Every datagram sent (100 to b, 50 to c) is either delivered or dropped by the lossy link.
  const bool ok = report.passed && total + drops == 150 && drops > 0 && total > 0;
  if (!ok) std::printf("FAIL: %d delivered + %d dropped != 150 sent\n", total, drops);
  return ok ? 0 : 1;
}
