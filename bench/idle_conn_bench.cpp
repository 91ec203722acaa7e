// Memory per idle TCP connection: two hosts on one 1 us "wire" (a minimal HostEnvironment,
// no trace), `--n` connections from the client to 80 listening ports of the server, run
// until every handshake is done, then peak RSS. Prints one RESULT line; per connection =
// (peak RSS - RSS before connecting) / n, each connection being two sockets (client socket
// and the server's accepted child), with their TCP state and table entries.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim/event_loop.h"
#include "sim/random.h"
#include "stack/host.h"

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
  int64_t emit(const TraceRecord&) override { return -1; }
  bool wants(TraceKind) const override { return false; }
};

class Wire : public HostEnvironment {
 public:
  EventLoop& loop() override { return loop_; }
  TraceSink& trace() override { return trace_; }
  uint64_t next_packet_id() override { return next_id_++; }
  void transmit(uint32_t host, uint32_t, const IpAddr&, Packet packet) override {
    Host* to = hosts_[1 - host];
    loop_.schedule_in(Duration{1000}, [to, p = std::make_shared<Packet>(std::move(packet))]() mutable {
      to->receive(1, std::move(*p));
    });
  }
  std::optional<uint32_t> link_mtu(uint32_t, uint32_t) const override { return std::nullopt; }
  Host* hosts_[2] = {nullptr, nullptr};

 private:
  EventLoop loop_;
  NullTrace trace_;
  uint64_t next_id_ = 1;
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 1000000;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--n=", 4) == 0) n = std::strtoull(argv[i] + 4, nullptr, 10);
  constexpr uint32_t kPorts = 80;
  Wire wire;
  HostConfig cc, sc;
  cc.name = "client";
  sc.name = "server";
  Host client(0, cc, wire, Rng(1));
  Host server(1, sc, wire, Rng(2));
  wire.hosts_[0] = &client;
  wire.hosts_[1] = &server;
  client.add_interface("eth0", 1500, true);
  server.add_interface("eth0", 1500, true);
  (void)client.add_address(1, Prefix(*IpAddr::parse("10.0.0.2"), 24));
  (void)server.add_address(1, Prefix(*IpAddr::parse("10.0.0.1"), 24));
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
    if (i % 4096 == 4095) wire.loop().run_until(wire.loop().now() + Duration{100000});
  }
  wire.loop().run_until(wire.loop().now() + Duration{1000000});
  const long peak = peak_rss_kb();
  const double per = n ? (peak - before) * 1024.0 / static_cast<double>(n) : 0;
  std::printf("RESULT bench=idle-tcp connections=%llu failed=%llu rss_before_kb=%ld peak_rss_kb=%ld "
              "bytes_per_connection=%.0f\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(failed), before, peak,
              per);
  return failed ? 1 : 0;
}
