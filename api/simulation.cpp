// netsim::Simulation (include/netsim/simulation.h): the calls build the typed scenario
// (scenarios/scenario.h), and run() hands it to the scenario runner with the attached sinks: the
// JSONL writer's output, a record callback (a TraceObserver beside the online expectation
// matchers) and the matchers themselves. Steps, routes, expectations, TCP parameters and limits
// are written as the JSON a file holds and typed by the loader's own code
// (scenario::PieceLoader), so a call is checked exactly as the same key of a file. `netsim run`
// comes through SimulationAccess with a loaded scenario.
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

// The loader's problems with a piece at `pointer`, each after the key it is at.
[[noreturn]] void reject(std::string_view call, const std::vector<scenario::Diagnostic>& errors,
                         const std::string& pointer) {
  std::string problems;
  for (const scenario::Diagnostic& d : errors) {
    if (!problems.empty()) problems += "; ";
    std::string key = d.pointer.substr(std::min(pointer.size() + 1, d.pointer.size()));
    std::replace(key.begin(), key.end(), '/', '.');
    problems += (key.empty() ? "" : "`" + key + "`: ") + d.message;
  }
  reject(call, problems);
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

Prefix prefix_of(std::string_view call, const std::string& text) {
  if (auto p = Prefix::parse(text)) return *p;
  reject(call, "invalid prefix `" + text + "` (expected an address with its length: 10.0.0.1/24)");
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
  std::unique_ptr<scenario::PieceLoader> piece_loader;  // made at the first piece (netsim run makes none)
  bool ran = false;

  // Knows the model's hosts, interfaces and links; told of each new one before it joins the model.
  scenario::PieceLoader& pieces() {
    if (!piece_loader) piece_loader = std::make_unique<scenario::PieceLoader>(model);
    return *piece_loader;
  }
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
  // A step as the loader types the same object of a file's `steps`.
  void add_step(std::string_view call, const nlohmann::json& step) {
    const std::string pointer = "/steps/" + std::to_string(model.steps.size());
    std::vector<scenario::Diagnostic> errors;
    std::optional<scenario::Step> s = pieces().step(step, pointer, errors);
    if (!s) reject(call, errors, pointer);
    // The steps stay in time order, in the order of the calls among equal times (as the
    // loader orders a file's steps).
    const auto later = std::upper_bound(model.steps.begin(), model.steps.end(), s->at,
                                        [](SimTime t, const scenario::Step& x) { return t < x.at; });
    model.steps.insert(later, std::move(*s));
  }
  // A step object as a file writes it (no `host` for a link's), but for the op's own keys.
  nlohmann::json step(std::string_view call, Nanoseconds at, std::optional<HostHandle> h, const char* op,
                      std::string_view expect_error = {}) {
    nlohmann::json j = {{"at", at.count()}, {"op", op}};
    if (h) j["host"] = host(call, *h).name;
    if (!expect_error.empty()) j["expect_error"] = std::string(expect_error);
    return j;
  }
  // A route object as a host's `routes` or an add_route step holds it.
  nlohmann::json route(std::string_view call, HostHandle h, const std::string& to, const std::string& via,
                       const std::optional<InterfaceHandle>& dev, uint32_t metric) {
    nlohmann::json j = {{"to", to}, {"metric", metric}};
    if (!via.empty()) j["via"] = via;
    if (dev) j["dev"] = *device(call, h, dev);
    return j;
  }
  // An expectation as the loader types the same entry of a file's `expect`.
  void add_expectation(std::string_view call, const nlohmann::json& expectation);

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

void Simulation::set_tcp(const TcpParameters& p) {
  nlohmann::json tcp = nlohmann::json::object();
  const auto duration = [&](const char* key, const std::optional<Nanoseconds>& v) {
    if (v) tcp[key] = v->count();
  };
  const auto value = [&](const char* key, const auto& v) {
    if (v) tcp[key] = *v;
  };
  duration("msl", p.msl);
  duration("initial_rto", p.initial_rto);
  duration("min_rto", p.min_rto);
  duration("max_rto", p.max_rto);
  duration("delayed_ack_timeout", p.delayed_ack_timeout);
  duration("fin_wait_2_timeout", p.fin_wait_2_timeout);
  value("max_retries", p.max_retries);
  value("syn_retries", p.syn_retries);
  value("initial_cwnd_segments", p.initial_cwnd_segments);
  value("abc_limit", p.abc_limit);
  value("initial_ssthresh", p.initial_ssthresh);
  value("receive_buffer", p.receive_buffer);
  value("send_buffer", p.send_buffer);
  value("backlog", p.backlog);
  value("delayed_ack", p.delayed_ack);
  value("window_scaling", p.window_scaling);
  value("timestamps", p.timestamps);
  value("sack", p.sack);
  value("nodelay", p.nodelay);
  value("rfc1337", p.rfc1337);
  value("receive_sws_avoidance", p.receive_sws_avoidance);
  if (p.congestion) tcp["congestion"] = *p.congestion == Congestion::kCubic ? "cubic" : "newreno";
  if (p.recovery) tcp["recovery"] = *p.recovery == Recovery::kSack ? "sack" : "newreno";
  std::vector<scenario::Diagnostic> errors;
  std::optional<scenario::TcpParams> params = impl_->pieces().tcp(impl_->model.tcp, tcp, errors);
  if (!params) reject("set_tcp", errors, "/defaults/tcp");
  impl_->model.tcp = *params;
}

void Simulation::set_limits(const Limits& l) {
  nlohmann::json limits = nlohmann::json::object();
  if (l.events) limits["events"] = *l.events;
  if (l.time) limits["time"] = l.time->count();
  if (l.in_flight) limits["in_flight"] = *l.in_flight;
  std::vector<scenario::Diagnostic> errors;
  std::optional<scenario::Limits> limited = impl_->pieces().limits(impl_->model.limits, limits, errors);
  if (!limited) reject("set_limits", errors, "/limits");
  impl_->model.limits = *limited;
}

void Simulation::pin_fingerprint(const std::string& fingerprint) {
  if (fingerprint.empty()) reject("pin_fingerprint", "fingerprint must not be empty");
  impl_->model.fingerprint = fingerprint;
}

HostHandle Simulation::add_host(const std::string& name) {
  check_name("add_host", name, "host");
  for (const scenario::Host& h : impl_->model.hosts)
    if (h.name == name) reject("add_host", "host `" + name + "` exists");
  scenario::Host h;
  h.name = name;
  h.pointer = "/hosts/" + name;
  impl_->pieces().add_host(h);
  impl_->model.hosts.push_back(std::move(h));
  return HostHandle{static_cast<uint32_t>(impl_->model.hosts.size() - 1)};
}

void Simulation::set_forwarding(HostHandle host, bool forwarding) {
  impl_->host("set_forwarding", host).forwarding = forwarding;
}

void Simulation::set_host_model(HostHandle host, HostModel model) {
  impl_->host("set_host_model", host).host_model =
      model == HostModel::kStrong ? scenario::HostModel::kStrong : scenario::HostModel::kWeak;
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
  impl_->pieces().add_interface(h.name, itf);
  h.interfaces.push_back(std::move(itf));
  return InterfaceHandle{host.index, static_cast<uint32_t>(h.interfaces.size() - 1)};
}

InterfaceHandle Simulation::loopback(HostHandle host) const {
  impl_->host("loopback", host);
  return InterfaceHandle{host.index, Impl::kLoopbackIndex};
}

void Simulation::set_interface_up(InterfaceHandle interface, bool up) {
  impl_->interface("set_interface_up", interface);
  if (interface.index == Impl::kLoopbackIndex) reject("set_interface_up", "`lo` is always up");
  impl_->model.hosts[interface.host].interfaces[interface.index].up = up;
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
  impl_->pieces().add_link(l.name);
  m.links.push_back(std::move(l));
  return LinkHandle{static_cast<uint32_t>(m.links.size() - 1)};
}

void Simulation::add_route(HostHandle host, const std::string& to, const std::string& via,
                           std::optional<InterfaceHandle> dev, uint32_t metric) {
  constexpr std::string_view kCall = "add_route";
  scenario::Host& h = impl_->host(kCall, host);
  const std::string pointer = h.pointer + "/routes/" + std::to_string(h.routes.size());
  std::vector<scenario::Diagnostic> errors;
  std::optional<scenario::Route> r =
      impl_->pieces().route(h.name, impl_->route(kCall, host, to, via, dev, metric), pointer, errors);
  if (!r) reject(kCall, errors, pointer);
  h.routes.push_back(std::move(*r));
}

namespace {

const char* proto_name(Proto p) { return p == Proto::kTcp ? "tcp" : "udp"; }

// A socket's TCP options as a listen or connect step writes them.
// The keys a listen and a connect step share (their device aside): sharing and the TCP options.
template <typename Options>
void add_socket_options(nlohmann::json& step, const Options& options) {
  step["reuse_addr"] = options.reuse_addr;
  step["reuse_port"] = options.reuse_port;
  step["uid"] = options.uid;
  if (options.congestion) step["congestion"] = *options.congestion == Congestion::kCubic ? "cubic" : "newreno";
  if (options.recovery) step["recovery"] = *options.recovery == Recovery::kSack ? "sack" : "newreno";
  if (options.nodelay) step["nodelay"] = *options.nodelay;
}

const char* host_model_name(HostModel m) { return m == HostModel::kStrong ? "strong" : "weak"; }

}  // namespace

void Simulation::listen(Nanoseconds at, HostHandle host, Proto proto, const std::string& socket,
                        uint16_t port, const ListenOptions& options, std::string_view expect_error) {
  constexpr std::string_view kCall = "listen";
  nlohmann::json s = impl_->step(kCall, at, host, "listen", expect_error);
  s["proto"] = proto_name(proto);
  s["socket"] = socket;
  s["port"] = port;
  if (!options.addresses.empty()) s["addresses"] = options.addresses;
  if (options.family != ListenFamily::kBoth) s["family"] = options.family == ListenFamily::kIpv4 ? "ipv4" : "ipv6";
  if (options.device) s["device"] = *impl_->device(kCall, host, options.device);
  if (options.backlog) s["backlog"] = *options.backlog;
  add_socket_options(s, options);
  impl_->add_step(kCall, s);
}

void Simulation::connect(Nanoseconds at, HostHandle host, Proto proto, const std::string& socket,
                         const std::string& remote, const ConnectOptions& options,
                         std::string_view expect_error) {
  constexpr std::string_view kCall = "connect";
  nlohmann::json s = impl_->step(kCall, at, host, "connect", expect_error);
  s["proto"] = proto_name(proto);
  s["socket"] = socket;
  s["remote"] = remote;
  if (!options.local.empty()) s["local"] = options.local;
  if (options.device) s["device"] = *impl_->device(kCall, host, options.device);
  add_socket_options(s, options);
  impl_->add_step(kCall, s);
}

namespace {

// A send step's keys but its payload.
void add_send_options(nlohmann::json& step, const SendOptions& options) {
  if (!options.to.empty()) step["to"] = options.to;
  if (options.repeat)
    step["repeat"] = {{"count", options.repeat->count}, {"every", options.repeat->every.count()}};
}

}  // namespace

void Simulation::send(Nanoseconds at, HostHandle host, const std::string& socket, const std::string& data,
                      const std::string& to, std::string_view expect_error) {
  send(at, host, socket, data, SendOptions{.to = to}, expect_error);
}

void Simulation::send(Nanoseconds at, HostHandle host, const std::string& socket, const std::string& data,
                      const SendOptions& options, std::string_view expect_error) {
  nlohmann::json s = impl_->step("send", at, host, "send", expect_error);
  s["socket"] = socket;
  s["data"] = data;
  add_send_options(s, options);
  impl_->add_step("send", s);
}

void Simulation::send_bytes(Nanoseconds at, HostHandle host, const std::string& socket, uint64_t size,
                            const SendOptions& options, std::string_view expect_error) {
  nlohmann::json s = impl_->step("send_bytes", at, host, "send", expect_error);
  s["socket"] = socket;
  s["size"] = size;
  add_send_options(s, options);
  impl_->add_step("send_bytes", s);
}

void Simulation::close(Nanoseconds at, HostHandle host, const std::string& socket,
                       std::string_view expect_error) {
  nlohmann::json s = impl_->step("close", at, host, "close", expect_error);
  s["socket"] = socket;
  impl_->add_step("close", s);
}

void Simulation::shutdown(Nanoseconds at, HostHandle host, const std::string& socket, Shutdown how,
                          std::string_view expect_error) {
  constexpr const char* kHow[] = {"read", "write", "both"};
  nlohmann::json s = impl_->step("shutdown", at, host, "shutdown", expect_error);
  s["socket"] = socket;
  s["how"] = kHow[static_cast<int>(how)];
  impl_->add_step("shutdown", s);
}

void Simulation::add_address(Nanoseconds at, InterfaceHandle interface, const std::string& prefix,
                             std::string_view expect_error) {
  nlohmann::json s = impl_->step("add_address", at, HostHandle{interface.host}, "add_address", expect_error);
  s["interface"] = impl_->interface("add_address", interface);
  s["address"] = prefix;
  impl_->add_step("add_address", s);
}

void Simulation::remove_address(Nanoseconds at, InterfaceHandle interface, const std::string& address,
                                std::string_view expect_error) {
  nlohmann::json s =
      impl_->step("remove_address", at, HostHandle{interface.host}, "remove_address", expect_error);
  s["interface"] = impl_->interface("remove_address", interface);
  s["address"] = address;
  impl_->add_step("remove_address", s);
}

void Simulation::change_address(Nanoseconds at, InterfaceHandle interface, const std::string& from,
                                const std::string& to, std::string_view expect_error) {
  nlohmann::json s =
      impl_->step("change_address", at, HostHandle{interface.host}, "change_address", expect_error);
  s["interface"] = impl_->interface("change_address", interface);
  s["from"] = from;
  s["to"] = to;
  impl_->add_step("change_address", s);
}

void Simulation::set_interface_up(Nanoseconds at, InterfaceHandle interface, bool up) {
  const char* op = up ? "interface_up" : "interface_down";
  nlohmann::json s = impl_->step("set_interface_up", at, HostHandle{interface.host}, op);
  s["interface"] = impl_->interface("set_interface_up", interface);
  impl_->add_step("set_interface_up", s);
}

void Simulation::set_link_up(Nanoseconds at, LinkHandle link, bool up) {
  if (link.index >= impl_->model.links.size()) reject("set_link_up", "no link #" + std::to_string(link.index));
  nlohmann::json s = impl_->step("set_link_up", at, std::nullopt, up ? "link_up" : "link_down");
  s["link"] = impl_->model.links[link.index].name;
  impl_->add_step("set_link_up", s);
}

void Simulation::add_route(Nanoseconds at, HostHandle host, const std::string& to, const std::string& via,
                           std::optional<InterfaceHandle> dev, uint32_t metric, std::string_view expect_error) {
  nlohmann::json s = impl_->step("add_route", at, host, "add_route", expect_error);
  s.update(impl_->route("add_route", host, to, via, dev, metric));
  impl_->add_step("add_route", s);
}

void Simulation::remove_route(Nanoseconds at, HostHandle host, const std::string& to, const std::string& via,
                              std::optional<InterfaceHandle> dev, uint32_t metric,
                              std::string_view expect_error) {
  nlohmann::json s = impl_->step("remove_route", at, host, "remove_route", expect_error);
  s.update(impl_->route("remove_route", host, to, via, dev, metric));
  impl_->add_step("remove_route", s);
}

void Simulation::set_host_model(Nanoseconds at, HostHandle host, HostModel model) {
  nlohmann::json s = impl_->step("set_host_model", at, host, "set_host_model");
  s["host_model"] = host_model_name(model);
  impl_->add_step("set_host_model", s);
}

void Simulation::ping(Nanoseconds at, HostHandle host, const std::string& to, uint32_t count,
                      Nanoseconds every, uint32_t size) {
  nlohmann::json s = impl_->step("ping", at, host, "ping");
  s["to"] = to;
  s["count"] = count;
  s["every"] = every.count();
  s["size"] = size;
  impl_->add_step("ping", s);
}

namespace {

// A Match as a matcher object of a file's `expect`: its event kind and fields. A field named as
// a count or window key is refused: those are Count's.
nlohmann::json matcher_object(std::string_view call, const Match& m) {
  nlohmann::json j = {{"event", m.event()}};
  for (const auto& field : m.fields()) {
    // Named copies of the pair's parts: clang 14 cannot capture structured bindings in lambdas.
    const std::string& key = field.first;
    static constexpr std::string_view kReserved[] = {"event", "count", "min", "max", "never",
                                                     "after", "before", "sequence"};
    if (std::find(std::begin(kReserved), std::end(kReserved), key) != std::end(kReserved))
      reject(call, "`" + key + "` is not a field to match (Match's event, or Count)");
    std::visit([&](const auto& v) { j[key] = v; }, field.second);
  }
  return j;
}

// Count's keys, as an entry of a file's `expect` writes them.
void add_count(nlohmann::json& expectation, const Count& c) {
  if (c.exactly) expectation["count"] = *c.exactly;
  if (c.min) expectation["min"] = *c.min;
  if (c.max) expectation["max"] = *c.max;
  if (c.after) expectation["after"] = c.after->count();
  if (c.before) expectation["before"] = c.before->count();
}

}  // namespace

void Simulation::Impl::add_expectation(std::string_view call, const nlohmann::json& expectation) {
  const std::string pointer = "/expect/" + std::to_string(model.expect.size());
  std::vector<scenario::Diagnostic> errors;
  std::optional<scenario::Expectation> e = pieces().expectation(expectation, pointer, errors);
  if (!e) reject(call, errors, pointer);
  model.expect.push_back(std::move(*e));
}

void Simulation::expect(const Match& match, const Count& count) {
  nlohmann::json e = matcher_object("expect", match);
  add_count(e, count);
  impl_->add_expectation("expect", e);
}

void Simulation::expect_sequence(const std::vector<Match>& sequence, const Count& count) {
  nlohmann::json e = {{"sequence", nlohmann::json::array()}};
  for (const Match& m : sequence) e["sequence"].push_back(matcher_object("expect_sequence", m));
  add_count(e, count);
  impl_->add_expectation("expect_sequence", e);
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
