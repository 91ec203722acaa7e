// Demux cost of SocketTable::lookup with 10 to 1 000 000 sockets: it must not grow with the
// table (three hash lookups, six levels). A server-like table under netstack3 TCP: half
// listeners on distinct addresses of port 80, half connections accepted on 10.0.0.1:80, plus a
// listener on 10.0.0.1:80 and a wildcard on 443. `per_lookup` is the time of one lookup.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

#include "stack/socket_table.h"

namespace netsim {
namespace {

struct Packet4 {
  SocketAddr dst, src;
};

IpAddr v4(uint32_t bits) { return IpAddr::v4(bits); }

struct Fixture {
  SocketTable table{SocketPolicy::kNetstack3, TransportProto::kTcp};
  std::vector<Packet4> connection, listener, wildcard, miss;

  explicit Fixture(uint32_t sockets) {
    const IpAddr server = v4(0x0a000001);  // 10.0.0.1
    uint32_t id = 1;
    auto check = [](Result<void> r) {
      if (!r) std::abort();
    };
    check(table.insert_listener(SocketId{id++, 0}, ListenerAddr{{server}, FamilySet::kBoth, 80, {}}, {}));
    check(table.insert_listener(SocketId{id++, 0}, ListenerAddr{{}, FamilySet::kBoth, 443, {}}, {}));
    const uint32_t half = sockets / 2;
    for (uint32_t i = 0; i < half; ++i) {
      const IpAddr addr = v4(0x0a010000 + i);  // 10.1.x.y
      check(table.insert_listener(SocketId{id++, 0}, ListenerAddr{{addr}, FamilySet::kBoth, 80, {}}, {}));
      const SocketAddr peer{v4(0xac100000 + i / 8), static_cast<Port>(40000 + i % 8)};  // 172.16/12
      check(table.insert_connection(SocketId{id++, 0}, ConnAddr{SocketAddr{server, 80}, peer, {}}, {}));
    }
    // Up to 1024 packets per kind, spread evenly over the table.
    const uint32_t count = std::min<uint32_t>(half, 1024);
    for (uint32_t k = 0; k < count; ++k) {
      const uint32_t i = static_cast<uint32_t>(uint64_t{k} * half / count);
      const SocketAddr peer{v4(0xac100000 + i / 8), static_cast<Port>(40000 + i % 8)};
      const SocketAddr stranger{v4(0xc0a80000 + k), 12345};  // 192.168/16: no connection
      connection.push_back({SocketAddr{server, 80}, peer});
      listener.push_back({SocketAddr{v4(0x0a010000 + i), 80}, stranger});
      wildcard.push_back({SocketAddr{v4(0x0a020000 + k), 443}, stranger});
      miss.push_back({SocketAddr{v4(0x0a010000 + i), 9}, stranger});
    }
  }
};

Fixture& fixture(uint32_t sockets) {
  static std::map<uint32_t, std::unique_ptr<Fixture>> cache;
  auto& f = cache[sockets];
  if (!f) f = std::make_unique<Fixture>(sockets);
  return *f;
}

// Args: (sockets, distinct packets cycled through). 4 packets keep the same few cache lines hot
// whatever the table size (the algorithmic cost); 1024 spread packets add the memory traffic.
void run(benchmark::State& state, std::vector<Packet4> Fixture::*packets) {
  Fixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  const std::vector<Packet4>& all = f.*packets;
  const size_t keys = std::min<size_t>(all.size(), static_cast<size_t>(state.range(1)));
  // Every (size / keys)-th packet, so that the keys are spread over the whole table.
  std::vector<Packet4> p;
  for (size_t k = 0; k < keys; ++k) p.push_back(all[k * all.size() / keys]);
  size_t next = 0;
  for (auto _ : state) {
    const Packet4& pkt = p[next];
    next = next + 1 == p.size() ? 0 : next + 1;
    benchmark::DoNotOptimize(f.table.lookup(pkt.dst, pkt.src, DeviceId{1}));
  }
  state.counters["sockets"] = static_cast<double>(f.table.size());
  state.counters["keys"] = static_cast<double>(keys);
  state.counters["per_lookup"] =
      benchmark::Counter(static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Level 2: an accepted connection (shadows the listener on 10.0.0.1:80).
void BM_LookupConnection(benchmark::State& state) { run(state, &Fixture::connection); }
// Level 4: a specific listener, after missing the connection level.
void BM_LookupSpecificListener(benchmark::State& state) { run(state, &Fixture::listener); }
// Level 6: the wildcard, after missing every narrower level.
void BM_LookupWildcard(benchmark::State& state) { run(state, &Fixture::wildcard); }
// No socket at all.
void BM_LookupMiss(benchmark::State& state) { run(state, &Fixture::miss); }

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"sockets", "keys"});
  for (int64_t keys : {4, 1024})
    for (int64_t sockets : {10, 1000, 100000, 1000000}) b->Args({sockets, keys});
}

BENCHMARK(BM_LookupConnection)->Apply(sizes);
BENCHMARK(BM_LookupSpecificListener)->Apply(sizes);
BENCHMARK(BM_LookupWildcard)->Apply(sizes);
BENCHMARK(BM_LookupMiss)->Apply(sizes);

}  // namespace
}  // namespace netsim

BENCHMARK_MAIN();
