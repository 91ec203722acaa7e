// netsim::Simulation (include/netsim/simulation.h): the calls build the typed scenario
// (scenarios/scenario.h) directly, checking each argument as the loader checks the same key of a
// file, and run() hands it to the scenario runner with the attached sinks: the JSONL writer's
// output, a record callback (a TraceObserver beside the online expectation matchers) and the
// matchers themselves. `netsim run` comes through SimulationAccess with a loaded scenario.
#include <netsim/simulation.h>

#include <algorithm>
#include <ostream>
#include <stdexcept>
#include <utility>

#include "api/simulation_access.h"
#include "scenarios/loader.h"
#include "sim/topology.h"
#include "viz/trace_fields.h"
#include "viz/trace_writer.h"

namespace netsim {
namespace {

// The largest time the scenario format accepts (scenarios/loader.h, parse_duration).
constexpr int64_t kMaxTimeNs = 1'000'000'000'000'000'000;

[[noreturn]] void reject(std::string_view call, const std::string& problem) {
  throw std::invalid_argument("netsim::Simulation::" + std::string(call) + ": " + problem);
}

void check_name(std::string_view call, const std::string& name, const std::string& what) {
  if (name.empty()) reject(call, what + " name must not be empty");
  if (name.find_first_of(". \t/#") != std::string::npos)
    reject(call, what + " name `" + name + "` may not contain `.`, `/`, `#` or spaces");
}

SimTime time_of(std::string_view call, Nanoseconds at) {
  if (at.count() < 0 || at.count() > kMaxTimeNs)
    reject(call, "time " + std::to_string(at.count()) + " ns is outside 0 .. 1e18 ns");
  return SimTime{at.count()};
}

IpAddr address_of(std::string_view call, const std::string& text, bool allow_prefix = false) {
  if (auto a = IpAddr::parse(text)) return *a;
  if (allow_prefix)
    if (auto p = Prefix::parse(text)) return p->addr();
  reject(call, "invalid IP address `" + text + "`");
}

Prefix prefix_of(std::string_view call, const std::string& text) {
  if (auto p = Prefix::parse(text)) return *p;
  reject(call, "invalid prefix `" + text + "` (expected an address with its length: 10.0.0.1/24)");
}

SocketAddr socket_address_of(std::string_view call, const std::string& text, bool allow_no_port) {
  if (auto a = SocketAddr::parse(text)) return *a;
  if (allow_no_port)
    if (auto a = IpAddr::parse(text)) return SocketAddr{*a, 0};
  reject(call, "invalid socket address `" + text + "` (expected `10.0.0.1:80` or `[fd00::1]:80`)");
}

std::optional<NetError> expected_error(std::string_view call, std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (auto e = net_error_from_string(text)) return e;
  reject(call, "unknown error kind `" + std::string(text) + "`");
}

scenario::Proto proto_of(Proto p) { return p == Proto::kTcp ? scenario::Proto::kTcp : scenario::Proto::kUdp; }

void check_new_socket(std::string_view call, const std::string& socket) {
  if (socket.empty()) reject(call, "socket name must not be empty");
  if (socket.find('#') != std::string::npos)
    reject(call, "socket name `" + socket + "` may not contain `#` (`LISTENER#N` names the "
                 "connections a TCP listener accepts)");
}

// The MTU rules of interfaces and links: 68..65535, and at least 1280 where IPv6 is.
void check_mtu(std::string_view call, uint32_t mtu, bool ipv6) {
  if (mtu < 68 || mtu > 65535) reject(call, "mtu " + std::to_string(mtu) + " is outside 68..65535");
  if (ipv6 && mtu < 1280)
    reject(call, "mtu " + std::to_string(mtu) + " is below 1280, the minimum with IPv6");
}

bool has_ipv6(const scenario::Interface& i) {
  return std::any_of(i.addresses.begin(), i.addresses.end(),
                     [](const Prefix& p) { return p.family() == Family::kV6; });
}

// The JSONL trace, to every attached stream and to the runner's own output (if any).
class StreamOutput : public TraceOutput {
 public:
  StreamOutput(const std::vector<std::ostream*>& streams, TraceOutput* also)
      : streams_(streams), also_(also) {}
  void write(std::string_view bytes) override {
    for (std::ostream* s : streams_) s->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (also_) also_->write(bytes);
  }

 private:
  const std::vector<std::ostream*>& streams_;
  TraceOutput* also_;
};

// Hands every record to the callbacks (and to the runner's own observer, if any).
class RecordFeed : public TraceObserver {
 public:
  RecordFeed(const std::vector<std::function<void(const TraceRecord&)>>& callbacks, TraceObserver* also)
      : callbacks_(callbacks), also_(also) {}
  void on_event(const TraceEventView& event) override;

 private:
  const std::vector<std::function<void(const TraceRecord&)>>& callbacks_;
  TraceObserver* also_;
};

// Finds one top-level field of a record.
class FieldFinder : public FieldSink {
 public:
  explicit FieldFinder(std::string_view key) : key_(key) {}
  void string(std::string_view key, std::string_view value) override {
    if (key == key_) text = value;
  }
  void integer(std::string_view key, int64_t value) override {
    if (key == key_) number = value;
  }
  void unsigned_integer(std::string_view key, uint64_t value) override {
    if (key == key_ && value <= static_cast<uint64_t>(INT64_MAX)) number = static_cast<int64_t>(value);
  }
  void string_list(std::string_view key, const std::vector<std::string>& values) override {
    if (key == key_) list = values;
  }
  void object(std::string_view, const FieldSource&) override {}
  void json(std::string_view, const nlohmann::json&) override {}

  std::string text;
  std::optional<int64_t> number;
  std::vector<std::string> list;

 private:
  std::string_view key_;
};

}  // namespace

void RecordFeed::on_event(const TraceEventView& event) {
  const TraceRecord record = SimulationAccess::record(event);
  for (const auto& callback : callbacks_) callback(record);
  if (also_) also_->on_event(event);
}

// --- TraceRecord ---------------------------------------------------------------

std::string_view TraceRecord::event() const { return view_.kind(); }
uint64_t TraceRecord::seq() const { return static_cast<uint64_t>(view_.seq()); }
std::chrono::nanoseconds TraceRecord::t() const { return std::chrono::nanoseconds(view_.t()); }

std::string TraceRecord::field(std::string_view key) const {
  FieldFinder f(key);
  view_.fields(f);
  return f.text;
}

std::optional<int64_t> TraceRecord::integer(std::string_view key) const {
  FieldFinder f(key);
  view_.fields(f);
  return f.number;
}

std::vector<std::string> TraceRecord::list(std::string_view key) const {
  FieldFinder f(key);
  view_.fields(f);
  return f.list;
}

std::string TraceRecord::json() const { return view_.to_json().dump(); }

// --- Simulation ------------------------------------------------------------------

struct Simulation::Impl {
  scenario::Scenario model;
  std::vector<std::pair<uint32_t, uint32_t>> linked;  // (host, interface) already on a link
  std::vector<std::ostream*> streams;
  std::vector<std::function<void(const TraceRecord&)>> callbacks;
  bool ran = false;

  scenario::Host& host(std::string_view call, HostHandle h) {
    if (h.index >= model.hosts.size()) reject(call, "no host #" + std::to_string(h.index));
    return model.hosts[h.index];
  }
  // The interface's name on its host ("lo" for the loopback).
  const std::string& interface(std::string_view call, InterfaceHandle i) {
    static const std::string kLoopback = "lo";
    scenario::Host& h = host(call, HostHandle{i.host});
    if (i.index == kLoopbackIndex) return kLoopback;
    if (i.index >= h.interfaces.size())
      reject(call, "host `" + h.name + "` has no interface #" + std::to_string(i.index));
    return h.interfaces[i.index].name;
  }
  // An interface of `h` given as a step's or socket's device.
  std::optional<std::string> device(std::string_view call, HostHandle h, const std::optional<InterfaceHandle>& i) {
    if (!i) return std::nullopt;
    if (i->host != h.index) reject(call, "the device is an interface of another host");
    return interface(call, *i);
  }
  void add_step(std::string_view call, Nanoseconds at, const std::string& host_name, std::string op,
                scenario::StepOp action, std::string_view expect_error = {}) {
    scenario::Step s;
    s.at = time_of(call, at);
    s.expect_error = expected_error(call, expect_error);
    s.host = host_name;
    s.op = std::move(op);
    s.action = std::move(action);
    s.pointer = "/steps/" + std::to_string(model.steps.size());
    // The steps stay in time order, in the order of the calls among equal times (as the
    // loader orders a file's steps).
    const auto later = std::upper_bound(model.steps.begin(), model.steps.end(), s.at,
                                        [](SimTime t, const scenario::Step& x) { return t < x.at; });
    model.steps.insert(later, std::move(s));
  }
  scenario::EventMatcher matcher(std::string_view call, const Match& m, std::string pointer) const;
  // `e` with its match or sequence; adds the count and window and its pointer.
  void add_expectation(std::string_view call, scenario::Expectation e, const Count& c);
  std::string next_expectation() const { return "/expect/" + std::to_string(model.expect.size()); }

  static constexpr uint32_t kLoopbackIndex = UINT32_MAX;
};

Simulation::Simulation(std::string name) : impl_(std::make_unique<Impl>()) {
  impl_->model.name = std::move(name);
  set_policy(Policy::kSeed);
}
Simulation::~Simulation() = default;
Simulation::Simulation(Simulation&&) noexcept = default;
Simulation& Simulation::operator=(Simulation&&) noexcept = default;

void Simulation::set_seed(uint64_t seed) { impl_->model.seed = seed; }

void Simulation::set_policy(Policy policy) {
  constexpr scenario::Policy kPolicies[] = {scenario::Policy::kSeed, scenario::Policy::kNetstack3,
                                            scenario::Policy::kLinux};
  impl_->model.policy = kPolicies[static_cast<int>(policy)];
  impl_->model.tcp = scenario::policy_tcp_params(impl_->model.policy);
}

void Simulation::set_until(Nanoseconds until) { impl_->model.until = time_of("set_until", until); }

void Simulation::use_auto_routes() { impl_->model.auto_routes = true; }

HostHandle Simulation::add_host(const std::string& name) {
  check_name("add_host", name, "host");
  for (const scenario::Host& h : impl_->model.hosts)
    if (h.name == name) reject("add_host", "host `" + name + "` exists");
  scenario::Host h;
  h.name = name;
  h.pointer = "/hosts/" + name;
  impl_->model.hosts.push_back(std::move(h));
  return HostHandle{static_cast<uint32_t>(impl_->model.hosts.size() - 1)};
}

void Simulation::set_forwarding(HostHandle host, bool forwarding) {
  impl_->host("set_forwarding", host).forwarding = forwarding;
}

InterfaceHandle Simulation::add_interface(HostHandle host, const std::string& name,
                                          const std::vector<std::string>& addresses, uint32_t mtu) {
  constexpr std::string_view kCall = "add_interface";
  scenario::Host& h = impl_->host(kCall, host);
  check_name(kCall, name, "interface");
  if (name == "lo") reject(kCall, "`lo` exists on every host (127.0.0.1/8, ::1/128)");
  for (const scenario::Interface& i : h.interfaces)
    if (i.name == name) reject(kCall, "host `" + h.name + "` has an interface `" + name + "`");
  scenario::Interface itf;
  itf.name = name;
  itf.pointer = h.pointer + "/interfaces/" + name;
  itf.mtu = mtu;
  for (const std::string& text : addresses) {
    const Prefix p = prefix_of(kCall, text);
    bool assigned = p.addr() == IpAddr::loopback(p.family());
    for (const scenario::Interface& i : h.interfaces)
      for (const Prefix& q : i.addresses) assigned = assigned || q.addr() == p.addr();
    for (const Prefix& q : itf.addresses) assigned = assigned || q.addr() == p.addr();
    if (assigned)
      reject(kCall, "address " + p.addr().to_string() + " is assigned twice on host `" + h.name + "`");
    itf.addresses.push_back(p);
  }
  check_mtu(kCall, mtu, has_ipv6(itf));
  h.interfaces.push_back(std::move(itf));
  return InterfaceHandle{host.index, static_cast<uint32_t>(h.interfaces.size() - 1)};
}

InterfaceHandle Simulation::loopback(HostHandle host) const {
  impl_->host("loopback", host);
  return InterfaceHandle{host.index, Impl::kLoopbackIndex};
}

LinkHandle Simulation::add_link(const std::vector<InterfaceHandle>& ends, const LinkOptions& options) {
  constexpr std::string_view kCall = "add_link";
  scenario::Scenario& m = impl_->model;
  if (ends.size() < 2) reject(kCall, "a link needs at least 2 interfaces, got " + std::to_string(ends.size()));
  scenario::Link l;
  l.name = options.name.empty() ? "link" + std::to_string(m.links.size()) : options.name;
  l.pointer = "/links/" + std::to_string(m.links.size());
  for (const scenario::Link& other : m.links)
    if (other.name == l.name) reject(kCall, "duplicate link name `" + l.name + "`");
  bool ipv6 = false;
  std::vector<std::pair<uint32_t, uint32_t>> linked;
  for (const InterfaceHandle& e : ends) {
    const std::string& name = impl_->interface(kCall, e);
    const std::string end = m.hosts[e.host].name + "." + name;
    if (e.index == Impl::kLoopbackIndex) reject(kCall, "`" + end + "`: the loopback interface cannot be on a link");
    const std::pair<uint32_t, uint32_t> key{e.host, e.index};
    if (std::count(impl_->linked.begin(), impl_->linked.end(), key) ||
        std::count(linked.begin(), linked.end(), key))
      reject(kCall, "interface `" + end + "` is already on a link");
    linked.push_back(key);
    ipv6 = ipv6 || has_ipv6(m.hosts[e.host].interfaces[e.index]);
    l.between.push_back(scenario::Endpoint{m.hosts[e.host].name, name});
  }
  if (options.latency.count() < 0 || options.latency.count() > kMaxTimeNs)
    reject(kCall, "latency " + std::to_string(options.latency.count()) + " ns is outside 0 .. 1e18 ns");
  if (options.bandwidth_bps && *options.bandwidth_bps == 0) reject(kCall, "bandwidth must be greater than 0");
  if (!(options.loss >= 0 && options.loss <= 1)) reject(kCall, "loss must be between 0 and 1");
  if (options.queue == 0) reject(kCall, "queue must be at least 1");
  if (options.mtu) check_mtu(kCall, *options.mtu, ipv6);
  l.latency = Duration{options.latency.count()};
  l.bandwidth_bps = options.bandwidth_bps;
  l.loss = options.loss;
  l.queue = options.queue;
  l.mtu = options.mtu;
  impl_->linked.insert(impl_->linked.end(), linked.begin(), linked.end());
  m.links.push_back(std::move(l));
  return LinkHandle{static_cast<uint32_t>(m.links.size() - 1)};
}

void Simulation::add_route(HostHandle host, const std::string& to, const std::string& via,
                           std::optional<InterfaceHandle> dev, uint32_t metric) {
  constexpr std::string_view kCall = "add_route";
  scenario::Host& h = impl_->host(kCall, host);
  scenario::Route r;
  r.to = prefix_of(kCall, to).network();
  if (!via.empty()) {
    r.via = address_of(kCall, via);
    if (r.via->family() != r.to.family())
      reject(kCall, "`via` " + via + " is not of the family of `to` " + r.to.to_string());
  }
  r.dev = impl_->device(kCall, host, dev);
  if (!r.via && !r.dev) reject(kCall, "a route needs a gateway (`via`) or an interface (`dev`)");
  r.metric = metric;
  r.pointer = h.pointer + "/routes/" + std::to_string(h.routes.size());
  h.routes.push_back(std::move(r));
}

void Simulation::listen(Nanoseconds at, HostHandle host, Proto proto, const std::string& socket,
                        uint16_t port, const ListenOptions& options, std::string_view expect_error) {
  constexpr std::string_view kCall = "listen";
  const scenario::Host& h = impl_->host(kCall, host);
  check_new_socket(kCall, socket);
  scenario::ListenStep s;
  s.proto = proto_of(proto);
  s.socket = socket;
  s.port = port;
  for (const std::string& text : options.addresses) {
    const IpAddr a = address_of(kCall, text);
    if (std::count(s.addresses.begin(), s.addresses.end(), a))
      reject(kCall, "address " + a.to_string() + " is listed twice");
    s.addresses.push_back(a);
  }
  if (options.family != ListenFamily::kBoth && !s.addresses.empty())
    reject(kCall, "`family` applies to wildcard listeners only (no `addresses`)");
  s.family = options.family == ListenFamily::kIpv4   ? scenario::FamilyFilter::kV4
             : options.family == ListenFamily::kIpv6 ? scenario::FamilyFilter::kV6
                                                     : scenario::FamilyFilter::kBoth;
  s.device = impl_->device(kCall, host, options.device);
  s.reuse_addr = options.reuse_addr;
  s.reuse_port = options.reuse_port;
  s.uid = options.uid;
  s.backlog = options.backlog;
  impl_->add_step(kCall, at, h.name, "listen", std::move(s), expect_error);
}

void Simulation::connect(Nanoseconds at, HostHandle host, Proto proto, const std::string& socket,
                         const std::string& remote, const ConnectOptions& options,
                         std::string_view expect_error) {
  constexpr std::string_view kCall = "connect";
  const scenario::Host& h = impl_->host(kCall, host);
  check_new_socket(kCall, socket);
  scenario::ConnectStep s;
  s.proto = proto_of(proto);
  s.socket = socket;
  s.remote = socket_address_of(kCall, remote, false);
  if (!options.local.empty()) {
    s.local = socket_address_of(kCall, options.local, true);
    if (s.local->addr.family() != s.remote.addr.family())
      reject(kCall, "`local` " + options.local + " and `remote` " + remote + " are of different families");
  }
  s.device = impl_->device(kCall, host, options.device);
  s.reuse_addr = options.reuse_addr;
  s.reuse_port = options.reuse_port;
  s.uid = options.uid;
  impl_->add_step(kCall, at, h.name, "connect", std::move(s), expect_error);
}

void Simulation::send(Nanoseconds at, HostHandle host, const std::string& socket, const std::string& data,
                      const std::string& to, std::string_view expect_error) {
  constexpr std::string_view kCall = "send";
  const scenario::Host& h = impl_->host(kCall, host);
  if (socket.empty()) reject(kCall, "socket name must not be empty");
  scenario::SendStep s;
  s.socket = socket;
  s.data = data;
  if (!to.empty()) s.to = socket_address_of(kCall, to, false);
  impl_->add_step(kCall, at, h.name, "send", std::move(s), expect_error);
}

void Simulation::close(Nanoseconds at, HostHandle host, const std::string& socket,
                       std::string_view expect_error) {
  const scenario::Host& h = impl_->host("close", host);
  if (socket.empty()) reject("close", "socket name must not be empty");
  impl_->add_step("close", at, h.name, "close", scenario::CloseStep{socket}, expect_error);
}

void Simulation::shutdown(Nanoseconds at, HostHandle host, const std::string& socket, Shutdown how,
                          std::string_view expect_error) {
  const scenario::Host& h = impl_->host("shutdown", host);
  if (socket.empty()) reject("shutdown", "socket name must not be empty");
  const scenario::ShutdownHow kHow[] = {scenario::ShutdownHow::kRead, scenario::ShutdownHow::kWrite,
                                        scenario::ShutdownHow::kBoth};
  impl_->add_step("shutdown", at, h.name, "shutdown",
                  scenario::ShutdownStep{socket, kHow[static_cast<int>(how)]}, expect_error);
}

void Simulation::add_address(Nanoseconds at, InterfaceHandle interface, const std::string& prefix,
                             std::string_view expect_error) {
  const std::string& name = impl_->interface("add_address", interface);
  impl_->add_step("add_address", at, impl_->model.hosts[interface.host].name, "add_address",
                  scenario::AddAddressStep{name, prefix_of("add_address", prefix)}, expect_error);
}

void Simulation::remove_address(Nanoseconds at, InterfaceHandle interface, const std::string& address,
                                std::string_view expect_error) {
  const std::string& name = impl_->interface("remove_address", interface);
  impl_->add_step("remove_address", at, impl_->model.hosts[interface.host].name, "remove_address",
                  scenario::RemoveAddressStep{name, address_of("remove_address", address, true)},
                  expect_error);
}

void Simulation::set_interface_up(Nanoseconds at, InterfaceHandle interface, bool up) {
  const std::string& name = impl_->interface("set_interface_up", interface);
  const std::string& host = impl_->model.hosts[interface.host].name;
  if (up) impl_->add_step("set_interface_up", at, host, "interface_up", scenario::InterfaceUpStep{name});
  else impl_->add_step("set_interface_up", at, host, "interface_down", scenario::InterfaceDownStep{name});
}

void Simulation::set_link_up(Nanoseconds at, LinkHandle link, bool up) {
  if (link.index >= impl_->model.links.size()) reject("set_link_up", "no link #" + std::to_string(link.index));
  const std::string& name = impl_->model.links[link.index].name;
  if (up) impl_->add_step("set_link_up", at, "", "link_up", scenario::LinkUpStep{name});
  else impl_->add_step("set_link_up", at, "", "link_down", scenario::LinkDownStep{name});
}

void Simulation::ping(Nanoseconds at, HostHandle host, const std::string& to, uint32_t count,
                      Nanoseconds every) {
  constexpr std::string_view kCall = "ping";
  const scenario::Host& h = impl_->host(kCall, host);
  scenario::PingStep s;
  s.to = address_of(kCall, to);
  if (count == 0) reject(kCall, "count must be at least 1");
  s.count = count;
  if (every.count() <= 0 || every.count() > kMaxTimeNs) reject(kCall, "every must be within 1 .. 1e18 ns");
  s.every = Duration{every.count()};
  impl_->add_step(kCall, at, h.name, "ping", std::move(s));
}

scenario::EventMatcher Simulation::Impl::matcher(std::string_view call, const Match& m,
                                                 std::string pointer) const {
  const std::vector<std::string>& kinds = scenario::trace_event_kinds();
  if (std::find(kinds.begin(), kinds.end(), m.event()) == kinds.end())
    reject(call, "unknown event kind `" + m.event() + "`");
  scenario::EventMatcher out;
  out.pointer = std::move(pointer);
  out.fields["event"] = m.event();
  for (const auto& field : m.fields()) {
    // Named copies of the pair's parts: clang 14 cannot capture structured bindings in lambdas.
    const auto& key = field.first;
    const auto& value = field.second;
    static constexpr std::string_view kReserved[] = {"event", "count", "min", "max", "never",
                                                     "after", "before", "sequence"};
    if (std::find(std::begin(kReserved), std::end(kReserved), key) != std::end(kReserved))
      reject(call, "`" + key + "` is not a field to match (Match's event, or Count)");
    if (key == "host") {
      const std::string* name = std::get_if<std::string>(&value);
      const bool known = name && std::any_of(model.hosts.begin(), model.hosts.end(),
                                             [&](const scenario::Host& h) { return h.name == *name; });
      if (!known) reject(call, "`host` does not name a host of the network");
    }
    std::visit([&](const auto& v) { out.fields[key] = v; }, value);
  }
  return out;
}

void Simulation::Impl::add_expectation(std::string_view call, scenario::Expectation e, const Count& c) {
  e.pointer = next_expectation();
  if (c.exactly && (c.min || c.max)) reject(call, "`exactly` cannot be combined with `min` or `max`");
  if (c.min && c.max && *c.min > *c.max) reject(call, "`max` is below `min`");
  if (c.after) e.after = time_of(call, *c.after);
  if (c.before) e.before = time_of(call, *c.before);
  if (e.after && e.before && *e.after >= *e.before)
    reject(call, "empty window: `before` must be later than `after`");
  e.count = c.exactly;
  e.min = c.min;
  e.max = c.max;
  model.expect.push_back(std::move(e));
}

void Simulation::expect(const Match& match, const Count& count) {
  scenario::Expectation e;
  e.match = impl_->matcher("expect", match, impl_->next_expectation());
  impl_->add_expectation("expect", std::move(e), count);
}

void Simulation::expect_sequence(const std::vector<Match>& sequence, const Count& count) {
  constexpr std::string_view kCall = "expect_sequence";
  if (sequence.empty()) reject(kCall, "a sequence must hold at least one Match");
  scenario::Expectation e;
  for (size_t k = 0; k < sequence.size(); ++k)
    e.sequence.push_back(impl_->matcher(kCall, sequence[k],
                                        impl_->next_expectation() + "/sequence/" + std::to_string(k)));
  impl_->add_expectation(kCall, std::move(e), count);
}

void Simulation::write_trace(std::ostream& out) { impl_->streams.push_back(&out); }

void Simulation::on_record(std::function<void(const TraceRecord&)> callback) {
  impl_->callbacks.push_back(std::move(callback));
}

RunReport Simulation::run() {
  scenario::RunResult r = SimulationAccess::run(*this, {});
  RunReport report;
  report.passed = r.exit_code == 0;
  report.steps_passed = r.steps_passed;
  report.steps_failed = r.steps_failed;
  report.expectations_passed = r.expectations_passed;
  report.expectations_failed = r.expectations_failed;
  report.failures = std::move(r.failures);
  report.guard = std::move(r.guard);
  report.fingerprint = std::move(r.fingerprint);
  report.trace_events = r.trace_events;
  report.end = Nanoseconds(r.end.ns);
  return report;
}

// --- SimulationAccess --------------------------------------------------------------

Simulation SimulationAccess::from_scenario(scenario::Scenario scenario) {
  Simulation simulation;
  simulation.impl_->model = std::move(scenario);
  return simulation;
}

const scenario::Scenario& SimulationAccess::scenario(const Simulation& simulation) {
  return simulation.impl_->model;
}

scenario::RunResult SimulationAccess::run(Simulation& simulation, scenario::RunOptions options) {
  Simulation::Impl& impl = *simulation.impl_;
  if (impl.ran) throw std::logic_error("netsim::Simulation::run: a simulation runs once");
  impl.ran = true;
  const scenario::Scenario& m = impl.model;
  if (m.auto_routes) {
    std::vector<Duration> latencies;
    for (const scenario::Link& l : m.links) latencies.push_back(l.latency);
    if (auto i = latency_sum_overflow(latencies))
      reject("run", "with automatic routes the latencies of all links must add up to at most "
                    "9223372036854775807 ns; link `" + m.links[*i].name + "` takes the sum past it");
  }
  StreamOutput streams(impl.streams, options.trace_output);
  if (!impl.streams.empty()) options.trace_output = &streams;
  RecordFeed records(impl.callbacks, options.observer);
  if (!impl.callbacks.empty()) options.observer = &records;
  return scenario::run_scenario(m, options);
}

}  // namespace netsim
