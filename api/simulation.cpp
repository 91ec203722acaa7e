// netsim::Simulation (include/netsim/simulation.h): the calls build the scenario document the
// loader reads (scenarios/loader.h), so a program gets the loader's checks and messages and the
// runner's semantics unchanged; run() loads it and runs it with scenario::run_scenario, its trace
// going to every attached sink.
#include <netsim/simulation.h>

#include <utility>

#include <nlohmann/json.hpp>

#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "viz/trace_writer.h"

namespace netsim {
namespace {

using Json = nlohmann::ordered_json;

std::string duration_text(Nanoseconds d) { return std::to_string(d.count()) + "ns"; }

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

// A JSON object given as text to step() or expect(); std::invalid_argument otherwise.
Json parse_object(const std::string& text, const char* where) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw std::invalid_argument(std::string("netsim::Simulation::") + where + ": not a JSON object: " + text);
  return j;
}

std::string_view string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>())
                                          : std::string_view();
}

// Splits the trace into lines and hands each to the callbacks as a TraceEvent, and the bytes
// to the streams.
class SinkOutput : public TraceOutput {
 public:
  SinkOutput(const std::vector<std::ostream*>& streams,
             const std::vector<std::function<void(const TraceEvent&)>>& callbacks)
      : streams_(streams), callbacks_(callbacks) {}
  void write(std::string_view bytes) override {
    for (std::ostream* s : streams_) s->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (callbacks_.empty()) return;
    for (char c : bytes) {
      if (c != '\n') {
        line_.push_back(c);
        continue;
      }
      deliver();
      line_.clear();
    }
  }

 private:
  void deliver() {
    nlohmann::json j = nlohmann::json::parse(line_);
    TraceEvent e;
    e.event = string_field(j, "event");
    if (auto it = j.find("seq"); it != j.end() && it->is_number_unsigned()) e.seq = it->get<uint64_t>();
    if (auto it = j.find("t"); it != j.end() && it->is_number()) e.t_ns = it->get<int64_t>();
    e.host = string_field(j, "host");
    e.socket = string_field(j, "socket");
    e.match = string_field(j, "match");
    e.data = string_field(j, "data");
    if (auto it = j.find("shadowed"); it != j.end() && it->is_array())
      for (const auto& s : *it)
        if (s.is_string()) e.shadowed.push_back(s.get_ref<const std::string&>());
    e.line = line_;
    for (const auto& callback : callbacks_) callback(e);
  }
  const std::vector<std::ostream*>& streams_;
  const std::vector<std::function<void(const TraceEvent&)>>& callbacks_;
  std::string line_;
};

}  // namespace

ScenarioError::ScenarioError(std::vector<std::string> problems)
    : std::runtime_error("invalid scenario:\n" + join(problems)), problems_(std::move(problems)) {}

struct Simulation::Impl {
  std::string name;
  Json doc;
  std::vector<std::ostream*> streams;
  std::vector<std::function<void(const TraceEvent&)>> callbacks;
  bool ran = false;

  Json& host(const std::string& h) {
    Json& hosts = doc["hosts"];
    if (!hosts.contains(h)) hosts[h] = Json{{"interfaces", Json::object()}};
    return hosts[h];
  }
  Json& add_step(Nanoseconds at, const std::string& host, const char* op) {
    Json s{{"at", duration_text(at)}};
    if (!host.empty()) s["host"] = host;
    s["op"] = op;
    doc["steps"].push_back(std::move(s));
    return doc["steps"].back();
  }
  void address_step(Nanoseconds at, const std::string& host, const char* op, const std::string& interface,
                    const std::string& address) {
    Json& s = add_step(at, host, op);
    s["interface"] = interface;
    s["address"] = address;
  }
  static void bind_options(Json& s, const SocketOptions& o, bool listen) {
    if (listen && !o.addresses.empty()) s["addresses"] = o.addresses;
    if (!o.device.empty()) s["device"] = o.device;
    if (listen && !o.family.empty()) s["family"] = o.family;
    if (!listen && !o.local.empty()) s["local"] = o.local;
    if (o.reuse_addr) s["reuse_addr"] = true;
    if (o.reuse_port) s["reuse_port"] = true;
    if (o.uid) s["uid"] = *o.uid;
    if (listen && o.backlog) s["backlog"] = *o.backlog;
  }
  static void expect_error(Json& s, const std::string& error) {
    if (!error.empty()) s["expect_error"] = error;
  }
};

Simulation::Simulation(std::string name) : impl_(std::make_unique<Impl>()) {
  impl_->name = std::move(name);
  impl_->doc = Json{{"format", scenario::kScenarioFormat},
                    {"name", impl_->name},
                    {"hosts", Json::object()},
                    {"links", Json::array()},
                    {"steps", Json::array()},
                    {"expect", Json::array()}};
}
Simulation::~Simulation() = default;
Simulation::Simulation(Simulation&&) noexcept = default;
Simulation& Simulation::operator=(Simulation&&) noexcept = default;

void Simulation::set_seed(uint64_t seed) { impl_->doc["seed"] = seed; }
void Simulation::set_policy(const std::string& policy) { impl_->doc["policy"] = policy; }
void Simulation::set_until(Nanoseconds until) { impl_->doc["until"] = duration_text(until); }
void Simulation::use_auto_routes() { impl_->doc["routes"] = "auto"; }

void Simulation::add_interface(const std::string& host, const std::string& interface,
                               const std::vector<std::string>& addresses, std::optional<uint32_t> mtu) {
  Json i{{"addresses", addresses}};
  if (mtu) i["mtu"] = *mtu;
  impl_->host(host)["interfaces"][interface] = std::move(i);
}

void Simulation::set_forwarding(const std::string& host, bool forwarding) {
  impl_->host(host)["forwarding"] = forwarding;
}

void Simulation::add_link(const std::vector<std::string>& ends, const LinkOptions& options) {
  Json l{{"between", ends}, {"latency", duration_text(options.latency)}};
  if (!options.name.empty()) l["name"] = options.name;
  if (options.bandwidth_bps) l["bandwidth"] = *options.bandwidth_bps;
  if (options.loss != 0) l["loss"] = options.loss;
  if (options.queue) l["queue"] = *options.queue;
  if (options.mtu) l["mtu"] = *options.mtu;
  impl_->doc["links"].push_back(std::move(l));
}

void Simulation::add_route(const std::string& host, const std::string& to, const std::string& via,
                           const std::string& dev, uint32_t metric) {
  Json r{{"to", to}};
  if (!via.empty()) r["via"] = via;
  if (!dev.empty()) r["dev"] = dev;
  if (metric) r["metric"] = metric;
  impl_->host(host)["routes"].push_back(std::move(r));
}

void Simulation::listen(Nanoseconds at, const std::string& host, Proto proto, const std::string& socket,
                        uint16_t port, const SocketOptions& options, const std::string& expect_error) {
  Json& s = impl_->add_step(at, host, "listen");
  s["proto"] = proto == Proto::kTcp ? "tcp" : "udp";
  s["socket"] = socket;
  s["port"] = port;
  Impl::bind_options(s, options, true);
  Impl::expect_error(s, expect_error);
}

void Simulation::connect(Nanoseconds at, const std::string& host, Proto proto, const std::string& socket,
                         const std::string& remote, const SocketOptions& options,
                         const std::string& expect_error) {
  Json& s = impl_->add_step(at, host, "connect");
  s["proto"] = proto == Proto::kTcp ? "tcp" : "udp";
  s["socket"] = socket;
  s["remote"] = remote;
  Impl::bind_options(s, options, false);
  Impl::expect_error(s, expect_error);
}

void Simulation::send(Nanoseconds at, const std::string& host, const std::string& socket,
                      const std::string& data, const std::string& to, const std::string& expect_error) {
  Json& s = impl_->add_step(at, host, "send");
  s["socket"] = socket;
  s["data"] = data;
  if (!to.empty()) s["to"] = to;
  Impl::expect_error(s, expect_error);
}

void Simulation::close(Nanoseconds at, const std::string& host, const std::string& socket) {
  impl_->add_step(at, host, "close")["socket"] = socket;
}

void Simulation::add_address(Nanoseconds at, const std::string& host, const std::string& interface,
                             const std::string& address) {
  impl_->address_step(at, host, "add_address", interface, address);
}

void Simulation::remove_address(Nanoseconds at, const std::string& host, const std::string& interface,
                                const std::string& address) {
  impl_->address_step(at, host, "remove_address", interface, address);
}

void Simulation::ping(Nanoseconds at, const std::string& host, const std::string& to) {
  impl_->add_step(at, host, "ping")["to"] = to;
}

void Simulation::step(Nanoseconds at, const std::string& step_json) {
  Json step{{"at", duration_text(at)}};
  const Json given = parse_object(step_json, "step");
  for (const auto& [key, value] : given.items()) step[key] = value;
  impl_->doc["steps"].push_back(std::move(step));
}

void Simulation::expect(const std::string& expectation_json) {
  impl_->doc["expect"].push_back(parse_object(expectation_json, "expect"));
}

void Simulation::write_trace(std::ostream& out) { impl_->streams.push_back(&out); }

void Simulation::on_event(std::function<void(const TraceEvent&)> callback) {
  impl_->callbacks.push_back(std::move(callback));
}

std::string Simulation::scenario_json() const { return impl_->doc.dump(2) + "\n"; }

RunReport Simulation::run() {
  if (impl_->ran) throw std::logic_error("netsim::Simulation::run: a simulation runs once");
  impl_->ran = true;
  scenario::LoadResult loaded = scenario::load_scenario_text(scenario_json(), impl_->name + ".json");
  if (!loaded.scenario) {
    std::vector<std::string> problems;
    for (const auto& d : loaded.errors) problems.push_back(scenario::format_diagnostic(d));
    throw ScenarioError(std::move(problems));
  }
  SinkOutput sinks(impl_->streams, impl_->callbacks);
  scenario::RunOptions options;
  const bool tracing = !impl_->streams.empty() || !impl_->callbacks.empty();
  if (tracing) options.trace_output = &sinks;
  scenario::RunResult r = scenario::run_scenario(*loaded.scenario, options);
  RunReport report;
  report.exit_code = r.exit_code;
  report.passed = r.exit_code == 0;
  report.steps_passed = r.steps_passed;
  report.steps_failed = r.steps_failed;
  report.expectations_passed = r.expectations_passed;
  report.expectations_failed = r.expectations_failed;
  report.failures = r.failures;
  report.guard = r.guard;
  report.fingerprint = r.fingerprint;
  report.trace_events = r.trace_events;
  report.end_ns = r.end.ns;
  return report;
}

}  // namespace netsim
