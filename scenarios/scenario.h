// The typed scenario: what the loader makes of a scenario file (format v1,
// docs/scenario-format.md) and the only thing the runner reads.
// Every string of the file that names something has been resolved or checked
// here; names stay as strings only where they are user labels (hosts, sockets).
// Each element keeps the JSON Pointer it came from for error reports.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/time.h"
#include "stack/host.h"
#include "stack/ip_addr.h"
#include "stack/net_error.h"
#include "stack/policy.h"
#include "stack/socket_table.h"
#include "stack/tcp/params.h"

namespace netsim::scenario {

// The stack's own vocabulary, used as is (the loader parses it, the runner passes it on).
using Policy = netsim::SocketPolicy;
// The policy's name as a scenario file writes it.
constexpr const char* policy_name(Policy p) {
  switch (p) {
    case Policy::kSeed: return "seed";
    case Policy::kNetstack3: return "netstack3";
    case Policy::kLinux: return "linux";
  }
  return "seed";
}
// Every policy, in the order the docs give them (completion and man page list these).
inline constexpr Policy kAllPolicies[] = {Policy::kSeed, Policy::kNetstack3, Policy::kLinux};
using HostModel = netsim::IpHostModel;
using Proto = netsim::TransportProto;
using FamilyFilter = netsim::FamilySet;  // which families a wildcard listener covers
enum class ShutdownHow : uint8_t { kRead, kWrite, kBoth };

struct LinkDefaults {
  std::optional<Duration> latency;
  std::optional<uint64_t> bandwidth_bps;
  std::optional<double> loss;
  std::optional<uint32_t> queue;
  std::optional<uint32_t> mtu;
};

// TCP parameters (`defaults.tcp`, an extension of v1): stack/tcp/params.h.
using TcpParams = netsim::tcp::Params;
// What a policy's hosts start from before `defaults.tcp`: its congestion control, the
// timestamps and SACK-permitted options it offers, Nagle's algorithm and the FIN_WAIT_2 timeout.
inline TcpParams policy_tcp_params(Policy policy) {
  TcpParams p = tcp::policy_defaults(policy);
  const PolicyRules& rules = policy_rules(policy);
  p.timestamps = rules.tcp_timestamps;
  p.sack = rules.tcp_sack;
  p.nodelay = !rules.tcp_nagle;
  p.fin_wait_2_timeout = rules.tcp_fin_wait_2_timeout;
  return p;
}

struct Interface {
  std::string name;
  std::vector<Prefix> addresses;
  uint32_t mtu = 1500;
  bool up = true;
  std::string pointer;
};

struct Route {
  Prefix to;  // network (host bits cleared by the loader)
  std::optional<IpAddr> via;
  std::optional<std::string> dev;  // interface name, checked to exist on the host
  uint32_t metric = 0;
  std::string pointer;
};

struct Host {
  std::string name;
  std::optional<HostModel> host_model;  // absent: the policy's default
  bool forwarding = false;
  std::vector<Interface> interfaces;  // in file order
  std::vector<Route> routes;
  std::string pointer;
};

struct Endpoint {
  std::string host;
  std::string interface;
};

struct Link {
  std::string name;  // given, or "linkN"
  std::vector<Endpoint> between;  // two: point to point; more: a shared segment
  Duration latency{};
  std::optional<uint64_t> bandwidth_bps;  // absent: infinite
  double loss = 0.0;
  uint32_t queue = 1000;
  std::optional<uint32_t> mtu;
  std::string pointer;
};

// --- steps ---------------------------------------------------------------

struct ListenStep {
  Proto proto = Proto::kUdp;
  std::string socket;
  Port port = 0;
  std::vector<IpAddr> addresses;  // empty: wildcard
  FamilyFilter family = FamilyFilter::kBoth;
  std::optional<std::string> device;
  bool reuse_addr = false;
  bool reuse_port = false;
  uint32_t uid = 0;  // the socket's owner (policy linux: who may share a reuse_port group)
  std::optional<uint32_t> backlog;
  tcp::SocketOptions tcp;  // for the connections it accepts
};

struct ConnectStep {
  Proto proto = Proto::kUdp;
  std::string socket;
  SocketAddr remote;
  std::optional<SocketAddr> local;  // port may be 0
  std::optional<std::string> device;
  bool reuse_addr = false;
  bool reuse_port = false;
  uint32_t uid = 0;
  tcp::SocketOptions tcp;
};

struct Repeat {
  uint32_t count = 1;
  Duration every{};
};

struct SendStep {
  std::string socket;
  std::optional<std::string> data;  // exactly one of data / size
  std::optional<uint64_t> size;
  std::optional<SocketAddr> to;
  std::optional<Repeat> repeat;
};

struct CloseStep { std::string socket; };
struct ShutdownStep { std::string socket; ShutdownHow how = ShutdownHow::kBoth; };
struct AddAddressStep { std::string interface; Prefix address; };
struct RemoveAddressStep { std::string interface; IpAddr address; };
struct ChangeAddressStep { std::string interface; IpAddr from; Prefix to; };
struct InterfaceDownStep { std::string interface; };
struct InterfaceUpStep { std::string interface; };
struct LinkDownStep { std::string link; };  // resolved link name
struct LinkUpStep { std::string link; };
struct AddRouteStep { Route route; };
struct RemoveRouteStep { Route route; };
struct SetHostModelStep { HostModel host_model = HostModel::kWeak; };
// Extension: ICMP echo request to `to`, `count` times `every` apart.
struct PingStep { IpAddr to; uint32_t count = 1; Duration every = Duration::seconds(1); uint32_t size = 56; };

using StepOp = std::variant<ListenStep, ConnectStep, SendStep, CloseStep, ShutdownStep,
                            AddAddressStep, RemoveAddressStep, ChangeAddressStep,
                            InterfaceDownStep, InterfaceUpStep, LinkDownStep, LinkUpStep,
                            AddRouteStep, RemoveRouteStep, SetHostModelStep, PingStep>;

struct Step {
  SimTime at{};
  std::string host;  // empty for link ops
  std::string op;    // the op name as written, for the trace
  StepOp action;
  std::optional<NetError> expect_error;
  std::string pointer;  // "/steps/3"
};

// --- expectations ----------------------------------------------------------

// A matcher on trace events: `fields` holds the keys to match (everything but
// the count / window keys), matched per scenario-format.md.
struct EventMatcher {
  nlohmann::json fields = nlohmann::json::object();
  std::string pointer;
};

struct Expectation {
  // Exactly one of: a single matcher, or a sequence.
  std::optional<EventMatcher> match;
  std::vector<EventMatcher> sequence;
  std::optional<uint64_t> count;  // never: count 0
  std::optional<uint64_t> min;
  std::optional<uint64_t> max;
  std::optional<SimTime> after;   // inclusive
  std::optional<SimTime> before;  // exclusive
  std::string pointer;  // "/expect/2"
};

// Extension `limits`: the scenario's own resource guards (runner.h RunOptions);
// unset ones keep the runner's defaults.
struct Limits {
  std::optional<uint64_t> events;     // simulator events executed
  std::optional<Duration> time;       // virtual time, when there is no `until`
  std::optional<uint64_t> in_flight;  // packets queued or on links at once
};

struct Scenario {
  std::string name;
  std::string description;
  uint64_t seed = 1;
  Policy policy = Policy::kSeed;
  std::optional<SimTime> until;
  LinkDefaults link_defaults;
  std::optional<HostModel> default_host_model;
  TcpParams tcp;
  std::vector<Host> hosts;  // in file order
  std::vector<Link> links;
  bool auto_routes = false;
  std::vector<Step> steps;
  std::vector<Expectation> expect;
  std::optional<std::string> fingerprint;  // extension: pinned trace fingerprint
  Limits limits;  // extension: resource guards

  std::string source_path;
  std::string source_sha256;  // of the file bytes
};

}  // namespace netsim::scenario
