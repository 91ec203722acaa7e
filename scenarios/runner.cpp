#include "scenarios/runner.h"

#include <chrono>
#include <sstream>

#include "scenarios/expect.h"
#include "scenarios/run_records.h"
#include "scenarios/socket_names.h"
#include "scenarios/world.h"
#include "viz/trace_writer.h"

namespace netsim::scenario {
namespace {

// Plays the scenario's steps against a World and records their results.
class Runner {
 public:
  Runner(const Scenario& s, const RunOptions& o)
      : scenario_(s),
        options_(o),
        seed_(o.seed.value_or(s.seed)),
        max_events_(effective(o.max_events, s.limits.events)),
        max_time_(SimTime{effective(o.max_time.ns, s.limits.time ? std::optional<int64_t>(s.limits.time->ns)
                                                                 : std::nullopt)}),
        max_in_flight_(effective(o.max_in_flight, s.limits.in_flight)),
        matchers_(s.expect.begin(), s.expect.end()),
        writer_(header(o.trace_output || o.fingerprint || s.fingerprint), o.trace_output,
                o.fingerprint || s.fingerprint.has_value(),
                matchers_.empty() && !o.observer ? nullptr : &observer_),
        names_(s.hosts.size()),
        world_(s, seed_, writer_) {
    writer_.set_namer(&names_);
    for (HostId h : world_.network().host_ids()) world_.host(h).set_socket_observer(&names_);
    step_hosts_.reserve(s.steps.size());
    for (const Step& step : s.steps)
      step_hosts_.push_back(step.host.empty() ? nullptr : &world_.host(step.host));
    writer_.set_clock([this] { return world_.loop().now(); });
    if (o.trace_level != TraceLevel::kAll) writer_.set_kinds(kept_kinds());
    if (o.stats) world_.enable_latency_stats();
    world_.loop().set_tie_breaker(o.tie_breaker);
  }

  RunResult run() {
    schedule_steps();
    SimTime limit = stop_time();
    EventLoop& loop = world_.loop();
    uint64_t ran = 0;
    // Packets in flight are counted between chunks: a run stops within kChunk events of
    // crossing the limit.
    constexpr uint64_t kChunk = 1 << 12;
    const auto started = std::chrono::steady_clock::now();
    while (true) {
      uint64_t budget = std::min(kChunk, max_events_ - ran);
      uint64_t n = loop.run_until(limit, budget);
      ran += n;
      if (loop.empty() || loop.next_time() > limit) break;
      if (ran >= max_events_) {
        guard("events", max_events_, ran,
              "event limit of " + std::to_string(max_events_) + " events reached");
        break;
      }
      if (uint64_t f = world_.packets_in_flight(); f > max_in_flight_) {
        guard("in_flight", max_in_flight_, ran,
              "more than " + std::to_string(max_in_flight_) + " packets in flight (" +
                  std::to_string(f) + ")");
        break;
      }
    }
    result_.loop_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!scenario_.until && !loop.empty() && !result_.guard)
      guard("time", static_cast<uint64_t>(max_time_.ns), ran,
            "virtual time limit of " + format_duration(max_time_.ns) + " reached with " +
                std::to_string(loop.pending() + unscheduled_repetitions_) + " events pending, the next at t=" +
                format_duration(loop.next_time().ns) + " (set `until`, or `limits.time`)");
    result_.events = ran;
    if (options_.stats) collect_stats();
    result_.end = loop.now();
    check_expectations();
    writer_.finish(result_.steps_passed, result_.steps_failed, result_.expectations_passed,
                   result_.expectations_failed);
    result_.fingerprint = writer_.fingerprint();
    if (scenario_.fingerprint && options_.trace_level == TraceLevel::kAll &&
        *scenario_.fingerprint != result_.fingerprint) {
      result_.failures.push_back("/fingerprint: pinned " + *scenario_.fingerprint + ", trace has " +
                                 result_.fingerprint);
    }
    if (scenario_.fingerprint && options_.trace_level != TraceLevel::kAll)
      result_.notes.push_back("/fingerprint: not checked (filtered trace: its fingerprint differs)");
    result_.trace_events = writer_.event_count();
    result_.exit_code = result_.failures.empty() ? 0 : 1;
    return std::move(result_);
  }

 private:
  // The TraceKind bit mask a filtered trace keeps (see TraceLevel).
  uint64_t kept_kinds() const {
    auto names = referenced_event_kinds(scenario_.expect);
    if (!names) return TraceWriter::kAllKinds;  // some matcher can match any kind
    auto bit = [](TraceKind k) { return uint64_t{1} << static_cast<unsigned>(k); };
    uint64_t mask = 0;
    if (options_.trace_level == TraceLevel::kSockets)
      mask = TraceWriter::kAllKinds & ~(bit(TraceKind::kTx) | bit(TraceKind::kRx) | bit(TraceKind::kForward));
    mask |= bit(TraceKind::kGuard);  // a guard that stops the run is always in the trace
    for (const std::string& n : *names)
      if (auto k = trace_kind_named(n)) mask |= bit(*k);
    return mask;
  }

  void collect_stats() {
    World::Stats s = world_.stats();
    auto& out = result_.stats;
    auto add = [&](std::string key, int64_t v) { out.emplace_back(std::move(key), v); };
    add("events", static_cast<int64_t>(result_.events));
    add("end_ns", world_.loop().now().ns);
    add("tx", static_cast<int64_t>(s.hosts.tx));
    add("rx", static_cast<int64_t>(s.hosts.rx));
    add("forwarded", static_cast<int64_t>(s.hosts.forwarded));
    add("delivered", static_cast<int64_t>(s.hosts.delivered));
    add("dropped", static_cast<int64_t>(s.hosts.dropped));
    add("link_queue_full", static_cast<int64_t>(s.link_queue_full));
    add("link_lost", static_cast<int64_t>(s.link_lost));
    add("link_down", static_cast<int64_t>(s.link_down));
    add("udp_delivered", static_cast<int64_t>(s.udp_delivered));
    add("udp_latency_matched", static_cast<int64_t>(s.latency_matched));
    add("udp_latency_unmatched", static_cast<int64_t>(s.latency_unmatched));
    add("udp_latency_min_ns", s.latency_min_ns);
    add("udp_latency_max_ns", s.latency_max_ns);
    int64_t router_rx = 0;
    for (const auto& [name, c] : s.forwarders) router_rx += static_cast<int64_t>(c.rx);
    add("forwarder_rx", router_rx);
    add("tcp_segments_sent", static_cast<int64_t>(s.tcp.segments_sent));
    add("tcp_segments_received", static_cast<int64_t>(s.tcp.segments_received));
    add("tcp_bytes_sent", static_cast<int64_t>(s.tcp.bytes_sent));
    add("tcp_bytes_received", static_cast<int64_t>(s.tcp.bytes_received));
    add("tcp_retransmissions", static_cast<int64_t>(s.tcp.retransmissions));
    add("tcp_timeouts", static_cast<int64_t>(s.tcp.timeouts));
    add("tcp_fast_retransmits", static_cast<int64_t>(s.tcp.fast_retransmits));
    add("tcp_persist_probes", static_cast<int64_t>(s.tcp.persist_probes));
    add("tcp_challenge_acks", static_cast<int64_t>(s.tcp.challenge_acks));
    add("tcp_bad_segments", static_cast<int64_t>(s.tcp.bad_segments));
  }

  // The header line; its topology object (large for large networks) only when lines are
  // rendered at all.
  TraceHeader header(bool rendered) const {
    TraceHeader h;
    h.netsim_version = NETSIM_VERSION;
    h.policy = std::string(policy_name(scenario_.policy));
    h.scenario = scenario_.name;
    h.scenario_sha256 = scenario_.source_sha256;
    h.seed = seed_;
    if (rendered) h.topology = topology_json(scenario_);
    return h;
  }


  // A resource guard stopped the run: a `guard` trace event and a failure that say which
  // guard, its limit and where it was hit (virtual time, events run and pending, packets
  // in flight and the link holding most of them).
  void guard(const std::string& kind, uint64_t limit, uint64_t ran, const std::string& what) {
    EventLoop& loop = world_.loop();
    GuardRecord r;
    r.guard = kind;
    r.limit = limit;
    r.events = ran;
    r.pending = loop.pending() + unscheduled_repetitions_;
    r.in_flight = world_.packets_in_flight();
    std::string where = "at t=" + format_duration(loop.now().ns) + " after " + std::to_string(ran) +
                        " events";
    const auto busiest = world_.busiest_link();
    if (busiest) {
      r.busiest_link = std::pair<std::string_view, uint64_t>(busiest->first, busiest->second);
      if (kind == "in_flight")
        where += "; " + std::to_string(busiest->second) + " of them on link `" + busiest->first + "`";
    }
    writer_.clear_context();
    writer_.emit(RunRecordBody(RunRecord(r)));
    result_.guard = kind;
    result_.failures.push_back("guard " + kind + ": " + what + " " + where);
  }

  // How many of `count` repetitions `every` apart from `at` to schedule: never more
  // than can run before the stop time or the event guard (each one is an event), so a
  // huge count costs nothing up front and the guards still trip as they would.
  uint64_t repetitions(SimTime at, uint32_t count, Duration every) const {
    // One past the last that could run keeps the loop non-empty, so the time guard
    // still sees pending events.
    uint64_t n = std::min<uint64_t>(count, options_.max_repeat);
    if (max_events_ < UINT64_MAX) n = std::min<uint64_t>(n, max_events_ + 1);
    SimTime limit = stop_time();
    if (at > limit) return std::min<uint64_t>(n, 1);
    if (every.ns > 0) n = std::min<uint64_t>(n, static_cast<uint64_t>((limit - at).ns / every.ns) + 2);
    return n;
  }

  SimTime stop_time() const { return scenario_.until.value_or(max_time_); }

  // The guards in force: the runner's, replaced (or, with cap_scenario_limits, lowered)
  // by the scenario's `limits`.
  template <typename T>
  T effective(T runner, const std::optional<T>& scenario) const {
    if (!scenario) return runner;
    return options_.cap_scenario_limits ? std::min(runner, *scenario) : *scenario;
  }

  // Every step goes on the loop's timeline (ahead of packet events at the same instant,
  // in file order among themselves). A repeating step (`send` with `repeat`, `ping`)
  // schedules its next repetition when one runs, so memory stays O(steps) whatever
  // the count; `unscheduled_repetitions_` keeps `pending` in guard reports counting
  // the repetitions still to come.
  void schedule_steps() {
    for (size_t i = 0; i < scenario_.steps.size(); ++i) {
      const Step& step = scenario_.steps[i];
      uint64_t n = 1;
      if (const auto* send = std::get_if<SendStep>(&step.action); send && send->repeat)
        n = repetitions(step.at, send->repeat->count, send->repeat->every);
      else if (const auto* ping = std::get_if<PingStep>(&step.action))
        n = repetitions(step.at, ping->count, ping->every);
      if (n == 0) continue;
      unscheduled_repetitions_ += n - 1;
      schedule_repetition(i, 0, n);
    }
  }

  void schedule_repetition(size_t index, uint64_t rep, uint64_t total) {
    const Step& step = scenario_.steps[index];
    world_.loop().schedule_timeline(step.at + repeat_interval(step) * static_cast<int64_t>(rep), index,
                                    [this, index, rep, total] {
                                      const Step& s = scenario_.steps[index];
                                      if (rep + 1 < total) {
                                        --unscheduled_repetitions_;
                                        schedule_repetition(index, rep + 1, total);
                                      }
                                      run_step(s);
                                    },
                                    EventTag::on(EventKind::kStep, step_hosts_[index]
                                                                       ? step_hosts_[index]->id().value()
                                                                       : EventTag::kNoHost));
  }

  static Duration repeat_interval(const Step& step) {
    if (const auto* send = std::get_if<SendStep>(&step.action); send && send->repeat)
      return send->repeat->every;
    if (const auto* ping = std::get_if<PingStep>(&step.action)) return ping->every;
    return Duration{};
  }

  void run_step(const Step& step) {
    if (const auto* ping = std::get_if<PingStep>(&step.action)) {
      writer_.set_context(-1, step.pointer);
      finish_step(step, "", host(step).ping(ping->to, ping->size));
      return;
    }
    execute(step);
  }

  void execute(const Step& step) {
    writer_.set_context(-1, step.pointer);
    std::string socket;
    Result<void> result = apply(step, socket);
    finish_step(step, socket, result);
  }

  // listen / connect steps that worked show the binding the stack chose (an extension).
  void describe_binding(const Step& step, StepRecord& r) {
    if (!std::holds_alternative<ListenStep>(step.action) &&
        !std::holds_alternative<ConnectStep>(step.action))
      return;
    netsim::Host& h = host(step);
    auto id = names_.find(h.id(), std::string(r.socket));
    auto info = id ? h.socket_info(*id) : std::nullopt;
    if (!info) return;
    r.proto = info->proto == TransportProto::kUdp ? "udp" : "tcp";
    std::optional<DeviceId> device;
    if (info->listener) {
      r.port = info->listen.port;
      r.addresses = info->listen.addresses;
      device = info->listen.device;
    } else {
      r.local = info->conn.local;
      r.remote = info->conn.remote;
      device = info->conn.device;
    }
    if (device) r.device = h.interface_name(*device);
  }

  void finish_step(const Step& step, const std::string& socket, Result<void> result) {
    writer_.set_context(-1, step.pointer);
    if (writer_.wants(TraceKind::kStep)) {
      StepRecord r;
      r.host = step.host;
      r.op = step.op;
      r.socket = socket;
      if (result) describe_binding(step, r);
      if (!result) r.result = result.error();
      r.expected = step.expect_error;
      writer_.emit(RunRecordBody(RunRecord(std::move(r))));
    }
    writer_.clear_context();
    bool pass = step.expect_error ? (!result.ok() && result.error() == *step.expect_error) : result.ok();
    if (pass) {
      ++result_.steps_passed;
      return;
    }
    ++result_.steps_failed;
    std::ostringstream out;
    out << step.pointer << " (" << step.op << " at t=" << step.at.ns << "ns on "
        << (step.host.empty() ? std::string("the network") : step.host) << "): expected "
        << (step.expect_error ? std::string(to_string(*step.expect_error)) : std::string("ok"))
        << ", got " << (result ? std::string("ok") : std::string(to_string(result.error())));
    result_.failures.push_back(out.str());
  }

  Result<void> apply(const Step& step, std::string& socket) {
    return std::visit(
        [&](const auto& op) -> Result<void> { return apply_op(step, op, socket); }, step.action);
  }

  // The host a step runs on, looked up once per step. Requires: `s` is one of scenario_.steps
  // and names a host.
  netsim::Host& host(const Step& s) { return *step_hosts_[static_cast<size_t>(&s - scenario_.steps.data())]; }
  InterfaceId interface(const Step& s, const std::string& name) { return *host(s).find_interface(name); }

  // A new socket's name must not name an open socket on the host (socket_exists); a name
  // whose socket the stack closed or severed is free again. A socket opened is recorded
  // (`socket`, with its key) as soon as it has its name, before the step's own record.
  Result<void> bind_new(netsim::Host& h, const Step& step, const std::string& name, Result<SocketId> opened) {
    if (!opened) return opened.error();
    names_.bind(h.id(), name, *opened);
    record_socket(h, step, *opened);
    return {};
  }
  void record_socket(netsim::Host& h, const Step& step, SocketId id) {
    if (!writer_.wants(TraceKind::kSocket)) return;
    const auto info = h.socket_info(id);
    if (!info) return;
    SocketRecord r;
    r.socket = id;
    std::optional<DeviceId> device;
    if (info->listener) {
      r.origin = SocketOrigin::kListen;
      r.port = info->listen.port;
      r.addresses = info->listen.addresses;
      device = info->listen.device;
    } else {
      r.origin = SocketOrigin::kConnect;
      r.local = info->conn.local;
      r.remote = info->conn.remote;
      device = info->conn.device;
    }
    if (device) r.device = h.interface_name(*device);
    writer_.emit(StackEvent{r, step.host, h.id()});
  }
  bool name_open(netsim::Host& h, const std::string& name) const {
    auto id = names_.find(h.id(), name);
    return id && h.is_open(*id);
  }

  Result<void> apply_op(const Step& s, const ListenStep& op, std::string& socket) {
    socket = op.socket;
    netsim::Host& h = host(s);
    if (name_open(h, op.socket)) return NetError::kSocketExists;
    ListenRequest req;
    req.proto = op.proto;
    req.port = op.port;
    req.addresses = op.addresses;
    req.family = op.family;
    req.device = op.device;
    req.sharing = Sharing{op.reuse_addr, op.reuse_port, op.uid};
    req.backlog = op.backlog;
    req.tcp = op.tcp;
    return bind_new(h, s, op.socket, h.listen(req));
  }
  Result<void> apply_op(const Step& s, const ConnectStep& op, std::string& socket) {
    socket = op.socket;
    netsim::Host& h = host(s);
    if (name_open(h, op.socket)) return NetError::kSocketExists;
    ConnectRequest req;
    req.proto = op.proto;
    req.remote = op.remote;
    req.local = op.local;
    req.device = op.device;
    req.sharing = Sharing{op.reuse_addr, op.reuse_port, op.uid};
    req.tcp = op.tcp;
    return bind_new(h, s, op.socket, h.connect(req));
  }
  Result<void> apply_op(const Step& s, const SendStep& op, std::string& socket) {
    socket = op.socket;
    auto id = names_.find(host(s).id(), op.socket);
    if (!id) return NetError::kUnknownSocket;
    Payload payload;
    payload.data = op.data;
    payload.size = op.size.value_or(op.data ? op.data->size() : 0);
    return host(s).send(*id, payload, op.to);
  }
  Result<void> apply_op(const Step& s, const CloseStep& op, std::string& socket) {
    socket = op.socket;
    netsim::Host& h = host(s);
    auto id = names_.find(h.id(), op.socket);
    if (!id) return NetError::kUnknownSocket;
    if (!h.is_open(*id)) {  // closed or severed by the stack: closing releases the name
      names_.forget(h.id(), op.socket);
      return {};
    }
    return h.close(*id);
  }
  Result<void> apply_op(const Step& s, const ShutdownStep& op, std::string& socket) {
    socket = op.socket;
    auto id = names_.find(host(s).id(), op.socket);
    if (!id) return NetError::kUnknownSocket;
    return host(s).shutdown(*id, op.how != ShutdownHow::kWrite, op.how != ShutdownHow::kRead);
  }
  Result<void> apply_op(const Step& s, const AddAddressStep& op, std::string&) {
    return host(s).add_address(interface(s, op.interface), op.address);
  }
  Result<void> apply_op(const Step& s, const RemoveAddressStep& op, std::string&) {
    return host(s).remove_address(interface(s, op.interface), op.address);
  }
  Result<void> apply_op(const Step& s, const ChangeAddressStep& op, std::string&) {
    return host(s).change_address(interface(s, op.interface), op.from, op.to);
  }
  Result<void> apply_op(const Step& s, const InterfaceDownStep& op, std::string&) {
    host(s).set_interface_up(interface(s, op.interface), false);
    return {};
  }
  Result<void> apply_op(const Step& s, const InterfaceUpStep& op, std::string&) {
    host(s).set_interface_up(interface(s, op.interface), true);
    return {};
  }
  Result<void> apply_op(const Step&, const LinkDownStep& op, std::string&) {
    world_.set_link_up(op.link, false);
    return {};
  }
  Result<void> apply_op(const Step&, const LinkUpStep& op, std::string&) {
    world_.set_link_up(op.link, true);
    return {};
  }
  Result<void> apply_op(const Step& s, const AddRouteStep& op, std::string&) {
    auto entry = static_route(host(s), op.route);
    if (!entry) return NetError::kNetworkUnreachable;
    host(s).add_route(*entry);
    return {};
  }
  Result<void> apply_op(const Step& s, const RemoveRouteStep& op, std::string&) {
    auto entry = static_route(host(s), op.route);
    if (!entry || host(s).remove_route(*entry) == 0) return NetError::kInvalidArgument;
    return {};
  }
  Result<void> apply_op(const Step& s, const SetHostModelStep& op, std::string&) {
    host(s).set_host_model(op.host_model);
    return {};
  }
  Result<void> apply_op(const Step&, const PingStep&, std::string&) { return {}; }  // scheduled apart

  // The matchers saw every event as it was emitted; their verdicts become `expect` lines.
  void check_expectations() {
    for (const ExpectationMatcher& m : matchers_) {
      ExpectationResult r = m.result();
      result_.expectations.emplace_back(r.pointer, r.pass);
      writer_.append_expect(r.pointer, r.pass, r.pass ? "" : r.detail);
      if (r.pass) {
        ++result_.expectations_passed;
      } else {
        ++result_.expectations_failed;
        result_.failures.push_back(r.detail);
      }
    }
  }

  const Scenario& scenario_;
  const RunOptions& options_;
  uint64_t seed_;
  uint64_t max_events_;
  SimTime max_time_;
  uint64_t max_in_flight_;
  // Feeds every emitted event to every expectation's matcher, then to the options' observer.
  struct MatcherFeed : TraceObserver {
    MatcherFeed(std::vector<ExpectationMatcher>& m, TraceObserver* o) : matchers(m), also(o) {}
    void on_event(const TraceEventView& event) override {
      for (ExpectationMatcher& m : matchers) m.on_event(event);
      if (also) also->on_event(event);
    }
    std::vector<ExpectationMatcher>& matchers;
    TraceObserver* also;
  };
  std::vector<ExpectationMatcher> matchers_;
  MatcherFeed observer_{matchers_, options_.observer};
  TraceWriter writer_;
  SocketNames names_;
  World world_;
  RunResult result_;
  uint64_t unscheduled_repetitions_ = 0;  // repetitions not yet on the timeline
  std::vector<netsim::Host*> step_hosts_;  // the host of scenario_.steps[i] (null: a network step)
};

}  // namespace

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  Runner runner(scenario, options);
  return runner.run();
}

}  // namespace netsim::scenario
