// netsim::Simulation: a network (hosts, interfaces, links, routes) and a timeline of socket and
// address operations built in code, then run in virtual time (docs/library.md). It holds the
// typed model a scenario file loads into, and `netsim run` runs every file through this class,
// so a program and a file get the same rules, trace and verdicts. Contracts: single-threaded;
// each call checks its arguments against what was built before it and, when they are wrong,
// throws std::invalid_argument naming the call and the problem, changing nothing; handles are
// valid only with the Simulation that made them; run() runs once (std::logic_error after); the
// same calls and seed give the same trace, byte for byte.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netsim/expect.h>
#include <netsim/trace.h>

namespace netsim {

// Virtual time from the start of the run, whole nanoseconds (std::chrono literals work: 10ms).
using Nanoseconds = std::chrono::nanoseconds;

enum class Proto { kUdp, kTcp };
// The socket rules (docs/semantics.md, docs/policies.md): netsim's own, Fuchsia netstack3's, Linux's.
enum class Policy { kSeed, kNetstack3, kLinux };

// Handles to what a Simulation built, in the order it built them.
struct HostHandle { uint32_t index = 0; };
struct InterfaceHandle { uint32_t host = 0, index = 0; };
struct LinkHandle { uint32_t index = 0; };

// Every member of the option structs has a default, so designated initializers may name any
// subset: {.latency = 1ms}.
struct LinkOptions {
  std::string name{};                       // "" : "linkN", N counting the links from 0
  Nanoseconds latency{0};
  std::optional<uint64_t> bandwidth_bps{};  // absent: no serialisation delay
  double loss = 0;                          // per frame, 0..1, drawn from the link's seeded stream
  uint32_t queue = 1000;                    // frames that may wait per sending end, >= 1
  std::optional<uint32_t> mtu{};            // 68..65535; absent: the interfaces'
};

enum class ListenFamily { kBoth, kIpv4, kIpv6 };

struct ListenOptions {
  std::vector<std::string> addresses{};  // local addresses ("10.0.0.1"); empty: a wildcard listener
  ListenFamily family = ListenFamily::kBoth;  // a wildcard listener's families
  std::optional<InterfaceHandle> device{};    // bound to this interface of the host
  bool reuse_addr = false, reuse_port = false;
  uint32_t uid = 0;                      // owner (policy linux: who may share a reuse_port group)
  std::optional<uint32_t> backlog{};     // TCP; absent: the TCP parameters' default
};

struct ConnectOptions {
  std::string local{};                      // "addr" or "addr:port"; "" : chosen by the stack
  std::optional<InterfaceHandle> device{};  // bound to this interface of the host
  bool reuse_addr = false, reuse_port = false;
  uint32_t uid = 0;
};

enum class Shutdown { kRead, kWrite, kBoth };

// The outcome of Simulation::run(), as `netsim run` reports it.
struct RunReport {
  bool passed = false;  // every step and expectation held, and no resource guard stopped the run
  uint64_t steps_passed = 0, steps_failed = 0;
  uint64_t expectations_passed = 0, expectations_failed = 0;
  std::vector<std::string> failures;  // one readable report per failed step or expectation
  std::optional<std::string> guard;   // the resource guard that stopped the run, if one did
  std::string fingerprint;            // SHA-256 of the trace; "" when no trace was written
  uint64_t trace_events = 0;          // lines with a seq (records and `expect` lines)
  Nanoseconds end{0};                 // virtual time when the run ended
};

class Simulation {
 public:
  // `name` names the run (the trace header's `scenario`).
  explicit Simulation(std::string name = "program");
  ~Simulation();
  Simulation(Simulation&&) noexcept;
  Simulation& operator=(Simulation&&) noexcept;

  // --- Settings. Defaults: seed 1, policy kSeed, run until no event is left (at most one
  // virtual hour), static routes only.
  void set_seed(uint64_t seed);
  void set_policy(Policy policy);  // also resets the TCP parameters to the policy's
  void set_until(Nanoseconds until);
  // Shortest-path routes by latency on every host (docs/routing.md); run() checks that the
  // links' latencies add up to at most the clock's range.
  void use_auto_routes();

  // --- The network. Names: non-empty, without `.`, `/`, `#` or spaces, unique per kind (an
  // interface's per host); `lo` is every host's loopback (127.0.0.1/8, ::1/128).
  HostHandle add_host(const std::string& name);
  void set_forwarding(HostHandle host, bool forwarding);
  // `addresses` with their prefix length ("10.0.0.1/24", "fd00::1/64"), none assigned twice on
  // the host; `mtu` 68..65535, at least 1280 with an IPv6 address.
  InterfaceHandle add_interface(HostHandle host, const std::string& name,
                                const std::vector<std::string>& addresses, uint32_t mtu = 1500);
  InterfaceHandle loopback(HostHandle host) const;
  // Two ends: point to point; more: a shared segment. An interface is on at most one link.
  LinkHandle add_link(const std::vector<InterfaceHandle>& ends, const LinkOptions& options = {});
  // A static route to a prefix ("0.0.0.0/0"), through gateway `via` ("" : none) and/or out of
  // `dev`; at least one of the two. A gateway that is not on link leaves the route out.
  void add_route(HostHandle host, const std::string& to, const std::string& via,
                 std::optional<InterfaceHandle> dev = {}, uint32_t metric = 0);

  // --- Steps at virtual times, 0 .. 1e18 ns; steps at the same time run in the order of these
  // calls, before packet events of that instant. A step passes when its result is
  // `expect_error` ("" : ok; else an error kind, docs/scenario-format.md), else the run fails.
  // Socket names are the application's labels (a new one without `#`); a TCP listener L's
  // accepted connections are `L#1`, `L#2`, ...
  void listen(Nanoseconds at, HostHandle host, Proto proto, const std::string& socket, uint16_t port,
              const ListenOptions& options = {}, std::string_view expect_error = {});
  // `remote`: "10.0.0.1:80", "[fd00::1]:80".
  void connect(Nanoseconds at, HostHandle host, Proto proto, const std::string& socket,
               const std::string& remote, const ConnectOptions& options = {},
               std::string_view expect_error = {});
  // `to` ("addr:port") for an unconnected UDP socket, "" otherwise.
  void send(Nanoseconds at, HostHandle host, const std::string& socket, const std::string& data,
            const std::string& to = "", std::string_view expect_error = {});
  void close(Nanoseconds at, HostHandle host, const std::string& socket,
             std::string_view expect_error = {});
  void shutdown(Nanoseconds at, HostHandle host, const std::string& socket, Shutdown how,
                std::string_view expect_error = {});
  void add_address(Nanoseconds at, InterfaceHandle interface, const std::string& prefix,
                   std::string_view expect_error = {});
  // `address` may carry a prefix length, which is ignored.
  void remove_address(Nanoseconds at, InterfaceHandle interface, const std::string& address,
                      std::string_view expect_error = {});
  void set_interface_up(Nanoseconds at, InterfaceHandle interface, bool up);
  void set_link_up(Nanoseconds at, LinkHandle link, bool up);
  // ICMP echo requests to `to`, `count` of them `every` apart.
  void ping(Nanoseconds at, HostHandle host, const std::string& to, uint32_t count = 1,
            Nanoseconds every = std::chrono::seconds(1));

  // --- Expectations, checked online while the run goes (docs/scenario-format.md, EXPECTATION):
  // the events `match` matches, or the occurrences of `sequence` (each element matched strictly
  // after the previous one), counted in the window of `count`.
  void expect(const Match& match, const Count& count = {});
  void expect_sequence(const std::vector<Match>& sequence, const Count& count = {});

  // --- Trace sinks, any number, attached before run().
  // The JSONL trace (docs/trace-format.md), as `netsim run --trace` writes it. `out` must
  // outlive run(); its errors are the caller's to check.
  void write_trace(std::ostream& out);
  // Every record as it is made (trace.h); costs nothing per record when none is attached.
  void on_record(std::function<void(const TraceRecord&)> callback);

  // Runs to the end: `until`, or no event left, or a resource guard. Throws std::logic_error
  // when called twice, std::invalid_argument when use_auto_routes()'s latencies overflow.
  RunReport run();

 private:
  friend class SimulationAccess;  // netsim's own command line (api/simulation_access.h)
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netsim
