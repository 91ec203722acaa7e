// Event loop benchmark on the anchors' scheduler workloads (bench/anchors/limit/workload.h):
//
//   event_loop_bench --n=10000000 --mode=hold --pending=10000   (hold model, P pending)
//   event_loop_bench --n=1000000 --mode=bulk                    (N events at uniform times in [0,1 s))
//
// Events are scheduled as Callback lambdas through EventLoop::schedule and each
// executed event folds now() into the order hash, exactly like `limit` and ns-3
// `events`, so the printed order_hash must equal theirs. Exits 1 when it does not
// match the anchors' table for the standard sizes. Options --range --mean --seed
// as in `limit`.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/resource.h>

#include "sim/event_loop.h"

namespace {

// Copied from bench/anchors/limit/workload.h (SplitMix64, FNV-1a-style order hash).
struct SplitMix64 {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t bound) { return next() % bound; }
};

struct OrderHash {
  uint64_t h = 0xcbf29ce484222325ULL;
  void add(uint64_t t) { h = (h ^ t) * 0x100000001b3ULL; }
};

constexpr uint64_t kDefaultSeed = 12345;
constexpr uint64_t kDefaultRangeNs = 1000000000ULL;
constexpr uint64_t kDefaultMeanNs = 1000ULL;

// order_hash of the anchors' table (bench/anchors/README.md) for the default seed/range/mean.
struct Golden {
  const char* mode;
  uint64_t n;
  uint64_t pending;  // hold only
  uint64_t hash;
};
constexpr Golden kGolden[] = {
    {"bulk", 1000000, 0, 0x505998564acee7d9ULL},
    {"bulk", 10000000, 0, 0xc5a16524062b5cdcULL},
    {"hold", 1000000, 10000, 0x99b9fcd9d470e1bfULL},
    {"hold", 10000000, 10000, 0x805f633c9ff8f44fULL},
};

struct Ctx {
  netsim::EventLoop loop;
  SplitMix64 rng{kDefaultSeed};
  OrderHash hash;
  uint64_t executed = 0;
  uint64_t to_schedule = 0;
  uint64_t mean_ns = kDefaultMeanNs;
};

void tick(Ctx& c) {
  ++c.executed;
  c.hash.add(static_cast<uint64_t>(c.loop.now().ns));
}

uint64_t hold_increment(Ctx& c) { return 1 + c.rng.below(2 * c.mean_ns); }

void hold(Ctx& c) {
  ++c.executed;
  c.hash.add(static_cast<uint64_t>(c.loop.now().ns));
  if (c.to_schedule > 0) {
    --c.to_schedule;
    c.loop.schedule_in(netsim::Duration::nanoseconds(static_cast<int64_t>(hold_increment(c))),
                       [&c] { hold(c); });
  }
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

bool arg_value(const char* arg, const char* name, std::string& out) {
  size_t len = std::strlen(name);
  if (std::strncmp(arg, "--", 2) == 0 && std::strncmp(arg + 2, name, len) == 0 && arg[2 + len] == '=') {
    out = arg + 3 + len;
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char* argv[]) {
  const double t_start = now_seconds();
  uint64_t n = 1000000, pending = 10000, range_ns = kDefaultRangeNs, seed = kDefaultSeed;
  std::string mode = "bulk";
  Ctx c;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (arg_value(argv[i], "n", v)) {
      n = std::strtoull(v.c_str(), nullptr, 10);
    } else if (arg_value(argv[i], "mode", v)) {
      mode = v;
    } else if (arg_value(argv[i], "pending", v)) {
      pending = std::strtoull(v.c_str(), nullptr, 10);
    } else if (arg_value(argv[i], "range", v)) {
      range_ns = std::strtoull(v.c_str(), nullptr, 10);
    } else if (arg_value(argv[i], "mean", v)) {
      c.mean_ns = std::strtoull(v.c_str(), nullptr, 10);
    } else if (arg_value(argv[i], "seed", v)) {
      seed = std::strtoull(v.c_str(), nullptr, 10);
    } else {
      std::fprintf(stderr,
                   "usage: event_loop_bench [--n=N] [--mode=bulk|hold] [--pending=P] [--range=NS] "
                   "[--mean=NS] [--seed=S]\n");
      return 2;
    }
  }
  if (mode != "bulk" && mode != "hold") {
    std::fprintf(stderr, "mode must be bulk or hold\n");
    return 2;
  }
  if (pending > n) pending = n;
  c.rng = SplitMix64{seed};

  const double t0 = now_seconds();
  if (mode == "bulk") {
    for (uint64_t i = 0; i < n; ++i) {
      c.loop.schedule(netsim::SimTime{static_cast<int64_t>(c.rng.below(range_ns))}, [&c] { tick(c); });
    }
  } else {
    c.to_schedule = n - pending;
    for (uint64_t i = 0; i < pending; ++i) {
      c.loop.schedule(netsim::SimTime{static_cast<int64_t>(hold_increment(c))}, [&c] { hold(c); });
    }
  }
  const double t1 = now_seconds();
  c.loop.run_until(netsim::SimTime::max());
  const double t2 = now_seconds();

  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const double loop_s = t2 - t0;
  const char* check = "n/a";
  bool ok = c.executed == n;
  if (seed == kDefaultSeed && range_ns == kDefaultRangeNs && c.mean_ns == kDefaultMeanNs) {
    for (const Golden& g : kGolden) {
      if (mode == g.mode && n == g.n && (mode == "bulk" || pending == g.pending)) {
        check = c.hash.h == g.hash ? "match" : "MISMATCH";
        ok = ok && c.hash.h == g.hash;
      }
    }
  }
  std::printf("RESULT bench=netsim mode=%s n=%llu pending=%llu executed=%llu end_ns=%lld "
              "schedule_s=%.6f run_s=%.6f loop_s=%.6f events_per_s=%.0f ns_per_event=%.1f "
              "main_s=%.6f peak_rss_kb=%ld slots=%u order_hash=%016llx hash_check=%s\n",
              mode.c_str(), static_cast<unsigned long long>(n),
              static_cast<unsigned long long>(mode == "hold" ? pending : n),
              static_cast<unsigned long long>(c.executed), static_cast<long long>(c.loop.now().ns),
              t1 - t0, t2 - t1, loop_s, c.executed / loop_s, 1e9 * loop_s / c.executed,
              now_seconds() - t_start, ru.ru_maxrss, c.loop.slot_capacity(),
              static_cast<unsigned long long>(c.hash.h), check);
  return ok ? 0 : 1;
}
