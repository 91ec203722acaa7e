// Memory per idle TCP connection: two hosts of a net::Network on one 1 us link (no trace), `--n`
// connections from the client to 80 listening ports of the server, opened 4 096 at a time every
// 100 ms of virtual time, then run until every handshake's retransmission timer has expired
// (the SYN's timer event stays pending for the initial RTO, 1 s, after the handshake; an idle
// connection holds none). `--burst` opens a batch every 100 us instead, as before, so those
// pending timers count too. Prints one RESULT line; per connection = (peak RSS - RSS before
// connecting) / n, each connection being two sockets (the client socket and the server's
// accepted child) with their TCP state and table entries; settled = the same from the RSS at
// the end.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "net/network.h"

namespace {

using namespace netsim;

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

long current_rss_kb() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, rss = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
  }
  return rss * 4;
}

class NullTrace : public TraceSink {
 public:
  int64_t emit(const StackEvent&) override { return -1; }
  bool wants(TraceKind) const override { return false; }
};

// Runs the loop for `d` of virtual time (run_until stops the clock at the last event it ran).
void advance(EventLoop& loop, Duration d) {
  const SimTime until = loop.now() + d;
  loop.schedule(until, [] {});
  loop.run_until(until);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 1000000;
  Duration batch_gap = Duration::milliseconds(100);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--n=", 4) == 0) n = std::strtoull(argv[i] + 4, nullptr, 10);
    if (std::strcmp(argv[i], "--burst") == 0) batch_gap = Duration::microseconds(100);
  }
  constexpr uint32_t kPorts = 80;
  NullTrace trace;
  Network net(trace, 1);
  HostConfig cc, sc;
  cc.name = "client";
  sc.name = "server";
  const HostId client_id = net.add_host(cc);
  const HostId server_id = net.add_host(sc);
  LinkParams wire;
  wire.latency = Duration{1000};
  const InterfaceRef client_eth0{client_id, net.add_interface(client_id, "eth0")};
  const InterfaceRef server_eth0{server_id, net.add_interface(server_id, "eth0")};
  if (!std::holds_alternative<LinkId>(net.add_link("wire", wire, {client_eth0, server_eth0}))) return 1;
  Host& client = net.host(client_id);
  Host& server = net.host(server_id);
  (void)client.add_address(client_eth0.index, Prefix(*IpAddr::parse("10.0.0.2"), 24));
  (void)server.add_address(server_eth0.index, Prefix(*IpAddr::parse("10.0.0.1"), 24));
  for (uint32_t p = 0; p < kPorts; ++p) {
    ListenRequest l;
    l.proto = TransportProto::kTcp;
    l.port = static_cast<Port>(1000 + p);
    l.backlog = UINT32_MAX;
    if (!server.listen(l)) return 1;
  }
  const long before = current_rss_kb();
  uint64_t failed = 0;
  for (uint64_t i = 0; i < n; ++i) {
    ConnectRequest c;
    c.proto = TransportProto::kTcp;
    c.remote = SocketAddr{*IpAddr::parse("10.0.0.1"), static_cast<Port>(1000 + i % kPorts)};
    if (!client.connect(c)) ++failed;
    if (i % 4096 == 4095) advance(net.loop(), batch_gap);
  }
  advance(net.loop(), Duration::seconds(2));
  // Every connection accepted: the server holds its listeners plus one socket per connection.
  if (server.socket_count() != kPorts + n) ++failed;
  const long peak = peak_rss_kb();
  const long settled = current_rss_kb();
  auto per = [&](long kb) { return n ? (kb - before) * 1024.0 / static_cast<double>(n) : 0; };
  std::printf("RESULT bench=idle-tcp connections=%llu failed=%llu pending_events=%llu rss_before_kb=%ld "
              "peak_rss_kb=%ld bytes_per_connection=%.0f settled_rss_kb=%ld settled_bytes_per_connection=%.0f\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(failed),
              static_cast<unsigned long long>(net.loop().pending()), before, peak, per(peak), settled,
              per(settled));
  return failed ? 1 : 0;
}
