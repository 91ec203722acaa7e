// netsim::Simulation: a network (hosts, interfaces, links, routes) and a timeline of socket and
// address operations built in code, then run in virtual time (docs/library.md). It holds the
// typed model a scenario file loads into, and `netsim run` runs every file through this class,
// so a program and a file get the same rules, trace and verdicts. Contracts: single-threaded;
// each call checks its arguments against what was built before it and, when they are wrong,
// throws std::invalid_argument naming the call and the problem, changing nothing; handles are
// valid only with the Simulation that made them; run() runs once (std::logic_error after); the
// same calls and seed give the same trace, byte for byte. Every key of a scenario file has a
// call, and a call accepts exactly what the file accepts for that key (the loader checks both).
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
// Which of its addresses a host accepts on which interface (docs/semantics.md).
enum class HostModel { kWeak, kStrong };
// TCP congestion control (RFC 5681 NewReno, RFC 9438 CUBIC) and loss recovery (RFC 6675 SACK,
// RFC 6582 NewReno).
enum class Congestion { kNewReno, kCubic };
enum class Recovery { kSack, kNewReno };

// Handles to what a Simulation built, in the order it built them.
struct HostHandle { uint32_t index = 0; };
struct InterfaceHandle { uint32_t host = 0, index = 0; };
struct LinkHandle { uint32_t index = 0; };

// Every member of the option structs has a default, so designated initializers may name any
// subset, in the order of the members: {.latency = 1ms}. An empty optional leaves the setting
// at its default.
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
  std::optional<Congestion> congestion{};  // TCP, for the connections it accepts
  std::optional<Recovery> recovery{};      // TCP, likewise
  std::optional<bool> nodelay{};           // TCP, likewise: true sends short segments at once
};

struct ConnectOptions {
  std::string local{};                      // "addr" or "addr:port"; "" : chosen by the stack
  std::optional<InterfaceHandle> device{};  // bound to this interface of the host
  bool reuse_addr = false, reuse_port = false;
  uint32_t uid = 0;
  std::optional<Congestion> congestion{};  // TCP only
  std::optional<Recovery> recovery{};      // TCP only
  std::optional<bool> nodelay{};           // TCP only: true sends short segments at once (no Nagle)
};

// `count` sends in all, `every` apart, the first at the step's time; count >= 1.
struct Repeat {
  uint32_t count = 1;
  Nanoseconds every{0};
};

struct SendOptions {
  std::string to{};                // "addr:port" for an unconnected UDP socket; "" otherwise
  std::optional<Repeat> repeat{};  // absent: once
};

// TCP parameters of every host (a scenario file's `defaults.tcp`; docs/scenario-format.md gives
// each one's meaning, range and default). Durations are 0 .. 1e18 ns; initial_rto and max_rto
// are above 0, min_rto at most max_rto; the initial window, abc_limit, the initial threshold and
// the buffers are at least 1.
struct TcpParameters {
  std::optional<Nanoseconds> msl{}, initial_rto{}, min_rto{}, max_rto{}, delayed_ack_timeout{},
      fin_wait_2_timeout{};
  std::optional<uint32_t> max_retries{}, syn_retries{}, initial_cwnd_segments{}, abc_limit{},
      initial_ssthresh{}, receive_buffer{}, send_buffer{}, backlog{};
  std::optional<bool> delayed_ack{}, window_scaling{}, timestamps{}, sack{}, nodelay{}, rfc1337{},
      receive_sws_avoidance{};
  std::optional<Congestion> congestion{};
  std::optional<Recovery> recovery{};
};

// The run's own resource guards (a scenario file's `limits`): simulator events (>= 1), virtual
// time when there is no `until` (> 0), packets queued or on links at once (>= 1). A run that hits
// one stops and fails (RunReport::guard).
struct Limits {
  std::optional<uint64_t> events{};
  std::optional<Nanoseconds> time{};
  std::optional<uint64_t> in_flight{};
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
  // virtual hour), static routes only, the policy's TCP parameters, netsim's resource guards.
  void set_seed(uint64_t seed);
  void set_policy(Policy policy);  // also resets the TCP parameters to the policy's
  void set_until(Nanoseconds until);
  // Shortest-path routes by latency on every host (docs/routing.md); run() checks that the
  // links' latencies add up to at most the clock's range.
  void use_auto_routes();
  // Sets the parameters given, keeping the others (after set_policy, which resets them all).
  void set_tcp(const TcpParameters& parameters);
  // Sets the guards given, keeping the others.
  void set_limits(const Limits& limits);
  // The run fails unless its trace's fingerprint (RunReport::fingerprint) is this one.
  void pin_fingerprint(const std::string& fingerprint);

  // --- The network as the run starts (the calls that take a time `at` are steps instead).
  // Names: non-empty, without `.`, `/`, `#` or spaces, unique per kind (an interface's per
  // host); `lo` is every host's loopback (127.0.0.1/8, ::1/128).
  HostHandle add_host(const std::string& name);
  void set_forwarding(HostHandle host, bool forwarding);
  void set_host_model(HostHandle host, HostModel model);  // default: the policy's
  // `addresses` with their prefix length ("10.0.0.1/24", "fd00::1/64"), none assigned twice on
  // the host; `mtu` 68..65535, at least 1280 with an IPv6 address.
  InterfaceHandle add_interface(HostHandle host, const std::string& name,
                                const std::vector<std::string>& addresses, uint32_t mtu = 1500);
  InterfaceHandle loopback(HostHandle host) const;
  // Whether the interface starts up (default true); not the loopback.
  void set_interface_up(InterfaceHandle interface, bool up);
  // Two ends: point to point; more: a shared segment. An interface is on at most one link.
  LinkHandle add_link(const std::vector<InterfaceHandle>& ends, const LinkOptions& options = {});
  // A static route to a prefix ("0.0.0.0/0"), through gateway `via` ("" : none) and/or out of
  // `dev`; at least one of the two, else refused. A gateway that is not on link leaves the
  // route out.
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
  void send(Nanoseconds at, HostHandle host, const std::string& socket, const std::string& data,
            const SendOptions& options, std::string_view expect_error = {});
  // `size` bytes of generated payload (0 .. 4294967295).
  void send_bytes(Nanoseconds at, HostHandle host, const std::string& socket, uint64_t size,
                  const SendOptions& options = {}, std::string_view expect_error = {});
  void close(Nanoseconds at, HostHandle host, const std::string& socket,
             std::string_view expect_error = {});
  void shutdown(Nanoseconds at, HostHandle host, const std::string& socket, Shutdown how,
                std::string_view expect_error = {});
  void add_address(Nanoseconds at, InterfaceHandle interface, const std::string& prefix,
                   std::string_view expect_error = {});
  // `address` may carry a prefix length, which is ignored.
  void remove_address(Nanoseconds at, InterfaceHandle interface, const std::string& address,
                      std::string_view expect_error = {});
  // Removes `from` (a prefix length is ignored), then adds `to` (with its length), in one step.
  void change_address(Nanoseconds at, InterfaceHandle interface, const std::string& from,
                      const std::string& to, std::string_view expect_error = {});
  // A static route added or removed as a step; the arguments are add_route's above. A route
  // the host cannot install (no `via` or `dev`, a gateway not on link) fails add_route with
  // network_unreachable; one it does not hold fails remove_route with invalid_argument.
  void add_route(Nanoseconds at, HostHandle host, const std::string& to, const std::string& via,
                 std::optional<InterfaceHandle> dev = {}, uint32_t metric = 0,
                 std::string_view expect_error = {});
  void remove_route(Nanoseconds at, HostHandle host, const std::string& to, const std::string& via,
                    std::optional<InterfaceHandle> dev = {}, uint32_t metric = 0,
                    std::string_view expect_error = {});
  void set_host_model(Nanoseconds at, HostHandle host, HostModel model);
  void set_interface_up(Nanoseconds at, InterfaceHandle interface, bool up);
  void set_link_up(Nanoseconds at, LinkHandle link, bool up);
  // ICMP echo requests to `to`, `count` of them `every` apart, each with `size` bytes of
  // payload (0 .. 65507; the packet must fit the first hop's MTU).
  void ping(Nanoseconds at, HostHandle host, const std::string& to, uint32_t count = 1,
            Nanoseconds every = std::chrono::seconds(1), uint32_t size = 56);

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
