#include "scenarios/run_records.h"

namespace netsim::scenario {
namespace {

// One overload per record kind: a kind without one does not compile (std::visit).
struct RunRecordFields {
  FieldSink& sink;

  void operator()(const StepRecord& r) const {
    sink.string("op", r.op);
    if (!r.socket.empty()) sink.string("socket", r.socket);
    sink.string("result", r.result ? to_string(*r.result) : std::string_view("ok"));
    if (r.expected) sink.string("expected", to_string(*r.expected));
    if (!r.proto.empty()) sink.string("proto", r.proto);
    if (r.port) {  // a listener: its port and addresses, [] for a wildcard
      sink.unsigned_integer("port", *r.port);
      std::vector<std::string> addresses;
      for (const IpAddr& a : r.addresses) addresses.push_back(a.to_string());
      sink.string_list("addresses", addresses);
    }
    if (!r.device.empty()) sink.string("device", r.device);
    if (r.local) sink.string("local", r.local->to_string());
    if (r.remote) sink.string("remote", r.remote->to_string());
  }
  void operator()(const GuardRecord& r) const {
    sink.string("guard", r.guard);
    sink.unsigned_integer("limit", r.limit);
    sink.unsigned_integer("events", r.events);
    sink.unsigned_integer("pending", r.pending);
    sink.unsigned_integer("in_flight", r.in_flight);
    if (r.busiest_link) {
      sink.string("link", r.busiest_link->first);
      sink.unsigned_integer("link_in_flight", r.busiest_link->second);
    }
  }
};

}  // namespace

TraceKind RunRecordBody::kind() const {
  return std::visit([](const auto& r) { return std::decay_t<decltype(r)>::kKind; }, record_);
}

std::string_view RunRecordBody::host() const {
  const auto* step = std::get_if<StepRecord>(&record_);
  return step ? step->host : std::string_view();
}

void RunRecordBody::fields(FieldSink& sink) const { std::visit(RunRecordFields{sink}, record_); }

}  // namespace netsim::scenario
