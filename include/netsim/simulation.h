// netsim as a library: build a network in code (hosts, interfaces and their addresses, links,
// static or automatic routes), schedule socket and address operations at virtual times, state
// expectations, attach trace sinks (the JSONL writer, a callback), run. A Simulation is what a
// scenario file describes (docs/scenario-format.md), built by calls instead of JSON: the same
// rules, names, units and errors, and scenario_json() gives the equivalent file, which
// `netsim run` runs to the byte-identical trace. Contracts: single-threaded; run() runs once (a
// second call throws std::logic_error); nothing is validated until run(), which throws
// ScenarioError listing every problem at once (each with its JSON Pointer in scenario_json());
// the same calls and seed give the same trace, byte for byte, on every run.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <netsim/trace.h>

namespace netsim {

// Times are virtual, from the start of the run, in whole nanoseconds (std::chrono literals
// work: 10ms).
using Nanoseconds = std::chrono::nanoseconds;

enum class Proto { kUdp, kTcp };

// The scenario is invalid: every problem, formatted "program.json: /pointer: message".
class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// Every member has a default, so designated initializers may name any subset.
struct LinkOptions {
  std::string name{};                       // "" : "linkN" (N counts the links from 0)
  Nanoseconds latency{0};
  std::optional<uint64_t> bandwidth_bps{};  // absent: infinite
  double loss = 0;                          // 0..1, drawn from the link's seeded stream
  std::optional<uint32_t> queue{};          // packets; absent: 1000
  std::optional<uint32_t> mtu{};
};

// How a socket binds (listen and connect): scenario-format.md, "STEP" and the option table.
struct SocketOptions {
  std::vector<std::string> addresses{};  // listen: the addresses; empty: a wildcard listener
  std::string device{};                  // bind to this interface ("" : none)
  std::string family{};                  // wildcard listen only: "ipv4" / "ipv6" ("" : both)
  std::string local{};                   // connect: "addr" or "addr:port" ("" : chosen by the stack)
  bool reuse_addr = false, reuse_port = false;
  std::optional<uint32_t> uid{}, backlog{};
};

class Simulation {
 public:
  // `name` names the scenario (the trace header's `scenario`, error messages' file name).
  explicit Simulation(std::string name = "program");
  ~Simulation();
  Simulation(Simulation&&) noexcept;
  Simulation& operator=(Simulation&&) noexcept;

  // --- The run's settings (defaults: seed 1, policy "seed", run until no event is left).
  void set_seed(uint64_t seed);
  void set_policy(const std::string& policy);  // "seed", "netstack3" or "linux"
  void set_until(Nanoseconds until);
  void use_auto_routes();  // shortest-path routes on every host (docs/routing.md)

  // --- The network. Hosts are created by their first interface; every host has `lo`.
  // `addresses` with their prefix ("10.0.0.1/24", "fd00::1/64").
  void add_interface(const std::string& host, const std::string& interface,
                     const std::vector<std::string>& addresses, std::optional<uint32_t> mtu = {});
  void set_forwarding(const std::string& host, bool forwarding);
  // Two ends (point to point) or more (a segment), each "host.interface".
  void add_link(const std::vector<std::string>& ends, const LinkOptions& options = {});
  // A static route: to a prefix, through `via` (a gateway) and/or `dev` (an interface).
  void add_route(const std::string& host, const std::string& to, const std::string& via,
                 const std::string& dev = "", uint32_t metric = 0);

  // --- Steps at virtual times (same time: in the order of these calls). A step's result
  // (ok or an error kind) must be `expect_error` ("" : ok), else the run fails.
  void listen(Nanoseconds at, const std::string& host, Proto proto, const std::string& socket,
              uint16_t port, const SocketOptions& options = {}, const std::string& expect_error = "");
  void connect(Nanoseconds at, const std::string& host, Proto proto, const std::string& socket,
               const std::string& remote, const SocketOptions& options = {},
               const std::string& expect_error = "");
  // `to` ("addr:port") for an unconnected UDP socket, "" otherwise.
  void send(Nanoseconds at, const std::string& host, const std::string& socket, const std::string& data,
            const std::string& to = "", const std::string& expect_error = "");
  void close(Nanoseconds at, const std::string& host, const std::string& socket);
  void add_address(Nanoseconds at, const std::string& host, const std::string& interface,
                   const std::string& address);
  void remove_address(Nanoseconds at, const std::string& host, const std::string& interface,
                      const std::string& address);
  void ping(Nanoseconds at, const std::string& host, const std::string& to);
  // Any other step, as the scenario format writes it: a JSON object with `op` and its keys;
  // `at` is added. Text that is not a JSON object throws std::invalid_argument at once.
  void step(Nanoseconds at, const std::string& step_json);

  // --- Expectations, checked while the run goes (the online matchers): a JSON object as the
  // scenario format's `expect` entries, e.g. {"event":"deliver","socket":"echo","count":1}.
  // Text that is not a JSON object throws std::invalid_argument at once.
  void expect(const std::string& expectation_json);

  // --- Trace sinks: any number, each gets every line in order.
  void write_trace(std::ostream& out);  // the JSONL trace, as `netsim run --trace` writes it
  void on_event(std::function<void(const TraceEvent&)> callback);

  // Validates, then runs to the end. Throws ScenarioError (invalid), std::logic_error (twice).
  RunReport run();

  // The equivalent scenario file (pretty-printed JSON).
  std::string scenario_json() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netsim
