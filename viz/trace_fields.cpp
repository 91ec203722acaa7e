#include "viz/trace_fields.h"

#include <algorithm>
#include <charconv>

#include "viz/trace_writer.h"

namespace netsim {
namespace {

std::string_view icmp_type_name(IcmpType t) {
  switch (t) {
    case IcmpType::kEchoRequest: return "echo_request";
    case IcmpType::kEchoReply: return "echo_reply";
    case IcmpType::kPortUnreachable: return "port_unreachable";
    case IcmpType::kTimeExceeded: return "time_exceeded";
  }
  return "?";
}

// `data` where the payload is short valid UTF-8, else `size` (trace-format.md).
void add_payload(FieldSink& sink, std::string_view payload) {
  if (payload.size() <= TraceWriter::kMaxInlineData && is_valid_utf8(payload))
    sink.string("data", payload);
  else
    sink.unsigned_integer("size", payload.size());
}

// Builds the nlohmann object a parsed line would give.
class JsonBuilder : public FieldSink {
 public:
  explicit JsonBuilder(nlohmann::json& out) : out_(out) { out_ = nlohmann::json::object(); }
  void string(std::string_view key, std::string_view value) override {
    if (is_valid_utf8(value)) {
      out_[std::string(key)] = std::string(value);
    } else {  // as the writer escapes it: U+FFFD for every byte that is not UTF-8
      std::string quoted;
      append_json_string(quoted, value);
      out_[std::string(key)] = nlohmann::json::parse(quoted);
    }
  }
  void integer(std::string_view key, int64_t value) override { out_[std::string(key)] = value; }
  void unsigned_integer(std::string_view key, uint64_t value) override { out_[std::string(key)] = value; }
  void string_list(std::string_view key, const std::vector<std::string>& values) override {
    nlohmann::json list = nlohmann::json::array();
    for (const std::string& v : values) list.push_back(v);
    out_[std::string(key)] = std::move(list);
  }
  void object(std::string_view key, const FieldSource& value) override {
    nlohmann::json nested;
    JsonBuilder builder(nested);
    value.fields(builder);
    out_[std::string(key)] = std::move(nested);
  }
  void json(std::string_view key, const nlohmann::json& value) override { out_[std::string(key)] = value; }

 private:
  nlohmann::json& out_;
};

}  // namespace

std::string_view proto_name(IpProto p) {
  switch (p) {
    case IpProto::kIcmp: return "icmp";
    case IpProto::kUdp: return "udp";
    case IpProto::kTcp: return "tcp";
  }
  return "?";
}

void append_address_text(std::string& out, const IpAddr& a, Port port, bool with_port) {
  if (a.is_v4()) {  // the common case, without IpAddr::to_string's allocation
    const auto& b = a.bytes();
    char buf[4];
    for (int i = 0; i < 4; ++i) {
      if (i) out.push_back('.');
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, b[i]);
      out.append(buf, end);
    }
  } else {
    if (with_port) out.push_back('[');
    out.append(a.to_string());
    if (with_port) out.push_back(']');
  }
  if (with_port) {
    char buf[8];
    out.push_back(':');
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, port);
    out.append(buf, end);
  }
}

nlohmann::json TraceEventView::to_json() const {
  nlohmann::json out;
  JsonBuilder builder(out);
  fields(builder);
  return out;
}

// Keys in order: ack dst flags id inner len mss proto seq src ttl type window.
void PacketFields::fields(FieldSink& sink) const {
  const Packet& p = packet_;
  const bool tcp = p.proto == IpProto::kTcp;
  const bool icmp = p.proto == IpProto::kIcmp;
  const bool echo =
      icmp && (p.icmp_type == IcmpType::kEchoRequest || p.icmp_type == IcmpType::kEchoReply);
  if (tcp) sink.unsigned_integer("ack", p.tcp.ack);
  std::string address;
  append_address_text(address, p.dst, p.dport, !icmp);
  sink.string("dst", address);
  if (tcp) {
    // tcpdump's letters, in a fixed order: F S R P A.
    static constexpr std::pair<uint8_t, char> kOrder[] = {{tcp_flags::kFin, 'F'},
                                                          {tcp_flags::kSyn, 'S'},
                                                          {tcp_flags::kRst, 'R'},
                                                          {tcp_flags::kPsh, 'P'},
                                                          {tcp_flags::kAck, 'A'}};
    char flags[5];
    size_t n = 0;
    for (auto [bit, letter] : kOrder)
      if (p.tcp.flags & bit) flags[n++] = letter;
    sink.string("flags", std::string_view(flags, n));
  }
  sink.unsigned_integer("id", p.id);
  if (icmp && p.inner && depth_ < kMaxInnerDepth) sink.object("inner", PacketFields(*p.inner, depth_ + 1));
  sink.unsigned_integer("len", p.payload.size());
  if (tcp && p.tcp.mss) sink.unsigned_integer("mss", p.tcp.mss);
  sink.string("proto", proto_name(p.proto));
  if (tcp) sink.unsigned_integer("seq", p.tcp.seq);
  if (echo) sink.unsigned_integer("seq", p.dport);
  address.clear();
  append_address_text(address, p.src, p.sport, !icmp);
  sink.string("src", address);
  sink.unsigned_integer("ttl", p.ttl);
  if (icmp) sink.string("type", icmp_type_name(p.icmp_type));
  if (tcp) sink.unsigned_integer("window", p.tcp.window);
}

void RecordEventView::fields(FieldSink& sink) const {
  const TraceRecord& r = record_;
  sink.string("event", to_string(r.kind));
  sink.integer("seq", context_.seq);
  sink.integer("t", context_.t);
  if (!r.host.empty()) sink.string("host", r.host);
  if (context_.cause >= 0) sink.integer("cause", context_.cause);
  if (!context_.step.empty()) sink.string("step", context_.step);

  auto add_packet = [&] {
    if (r.packet) sink.object("packet", PacketFields(*r.packet));
  };
  auto add_socket = [&] {
    if (!r.socket.empty()) sink.string("socket", r.socket);
  };
  auto add_ends = [&] {
    if (r.local) sink.string("local", r.local->to_string());
    if (r.remote) sink.string("remote", r.remote->to_string());
  };
  auto add_error = [&] {
    if (r.error) sink.string("error", to_string(*r.error));
  };

  switch (r.kind) {
    case TraceKind::kStep:
      sink.string("op", r.op);
      add_socket();
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
      add_ends();
      break;
    case TraceKind::kTx:
    case TraceKind::kRx:
      sink.string("interface", r.interface);
      add_packet();
      break;
    case TraceKind::kForward:
      sink.string("from", r.from);
      sink.string("to", r.to);
      add_packet();
      break;
    case TraceKind::kDrop:
      add_packet();
      if (r.reason) sink.string("reason", to_string(*r.reason));
      if (!r.interface.empty()) sink.string("interface", r.interface);
      if (!r.link.empty()) sink.string("link", r.link);
      break;
    case TraceKind::kDeliver: {
      add_socket();
      std::string_view proto = r.proto;
      if (proto.empty() && r.packet) proto = proto_name(r.packet->proto);
      sink.string("proto", proto);
      add_packet();
      if (r.match) sink.string("match", to_string(*r.match));
      if (std::is_sorted(r.shadowed.begin(), r.shadowed.end())) {
        sink.string_list("shadowed", r.shadowed);
      } else {
        std::vector<std::string> sorted = r.shadowed;
        std::sort(sorted.begin(), sorted.end());
        sink.string_list("shadowed", sorted);
      }
      // A TCP segment without payload carries no `data`.
      if (r.data) {
        if (!(r.data->empty() && proto == "tcp")) add_payload(sink, *r.data);
      } else if (r.size) {
        if (!(*r.size == 0 && proto == "tcp")) sink.unsigned_integer("size", *r.size);
      } else if (r.packet) {
        if (!(r.packet->payload.empty() && proto == "tcp")) add_payload(sink, r.packet->payload);
      }
      break;
    }
    case TraceKind::kAccept:
      sink.string("listener", r.listener);
      add_socket();
      add_ends();
      break;
    case TraceKind::kEstablished:
      add_socket();
      add_ends();
      break;
    case TraceKind::kReceive:
      add_socket();
      if (r.data)
        add_payload(sink, *r.data);
      else
        sink.unsigned_integer("size", r.size.value_or(0));
      break;
    case TraceKind::kSever:
    case TraceKind::kError:
      add_socket();
      add_error();
      break;
    case TraceKind::kClose:
      add_socket();
      if (!r.state.empty()) sink.string("state", r.state);
      break;
    case TraceKind::kAddressAdded:
    case TraceKind::kAddressRemoved:
      sink.string("interface", r.interface);
      if (r.address) sink.string("address", r.address->to_string());
      break;
    case TraceKind::kInterfaceDown:
    case TraceKind::kInterfaceUp: sink.string("interface", r.interface); break;
    case TraceKind::kLinkDown:
    case TraceKind::kLinkUp: sink.string("link", r.link); break;
    case TraceKind::kPing:
      add_packet();
      if (r.rtt) sink.integer("rtt", r.rtt->ns);
      break;
    case TraceKind::kGuard:
      sink.string("guard", r.guard);
      sink.unsigned_integer("limit", r.limit);
      sink.unsigned_integer("events", r.events);
      sink.unsigned_integer("pending", r.pending);
      if (r.in_flight) sink.unsigned_integer("in_flight", *r.in_flight);
      if (!r.link.empty()) sink.string("link", r.link);
      if (r.link_in_flight) sink.unsigned_integer("link_in_flight", *r.link_in_flight);
      break;
  }
}

std::string_view JsonEventView::kind() const {
  auto it = event_.find("event");
  if (it == event_.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

int64_t JsonEventView::seq() const {
  auto it = event_.find("seq");
  if (it != event_.end() && it->is_number_integer() && it->get<int64_t>() >= 0) return it->get<int64_t>();
  return static_cast<int64_t>(position_);
}

int64_t JsonEventView::t() const {
  auto it = event_.find("t");
  return it != event_.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

void JsonEventView::fields(FieldSink& sink) const { JsonObjectFields(event_).fields(sink); }

void JsonObjectFields::fields(FieldSink& sink) const {
  if (!object_.is_object()) return;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    const nlohmann::json& v = it.value();
    if (v.is_string())
      sink.string(it.key(), v.get_ref<const std::string&>());
    else if (v.is_number_unsigned())
      sink.unsigned_integer(it.key(), v.get<uint64_t>());
    else if (v.is_number_integer())
      sink.integer(it.key(), v.get<int64_t>());
    else if (v.is_object())
      sink.object(it.key(), JsonObjectFields(v));
    else
      sink.json(it.key(), v);
  }
}

}  // namespace netsim
