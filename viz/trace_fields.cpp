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

// Keys in order: ack dst flags id inner len mss proto sack sack_ok seq src ts_ecr ts_val ttl type
// window wscale. TCP options appear only when the segment carries them.
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
  const TcpOptions& o = p.tcp.options;
  if (tcp && o.mss) sink.unsigned_integer("mss", o.mss);
  sink.string("proto", proto_name(p.proto));
  if (tcp && o.sack_count) {
    nlohmann::json blocks = nlohmann::json::array();
    for (uint8_t i = 0; i < o.sack_count; ++i) blocks.push_back({o.sack[i].left, o.sack[i].right});
    sink.json("sack", blocks);
  }
  if (tcp && o.sack_permitted) sink.json("sack_ok", true);
  if (tcp) sink.unsigned_integer("seq", p.tcp.seq);
  if (echo) sink.unsigned_integer("seq", p.dport);
  address.clear();
  append_address_text(address, p.src, p.sport, !icmp);
  sink.string("src", address);
  if (tcp && o.timestamps) {
    sink.unsigned_integer("ts_ecr", o.ts_ecr);
    sink.unsigned_integer("ts_val", o.ts_val);
  }
  sink.unsigned_integer("ttl", p.ttl);
  if (icmp) sink.string("type", icmp_type_name(p.icmp_type));
  if (tcp) sink.unsigned_integer("window", p.tcp.window);
  if (tcp && o.has_wscale()) sink.unsigned_integer("wscale", o.wscale);
}

namespace {

// Writes the fields of one stack record after the common ones: one overload per record kind,
// so a record kind without a writer does not compile (std::visit below).
class StackRecordFields {
 public:
  StackRecordFields(FieldSink& sink, const StackEvent& event, const SocketNamer* namer)
      : sink_(sink), event_(event), namer_(namer) {}

  template <TraceKind K>
  void operator()(const WireRecord<K>& r) const {
    sink_.string("interface", r.interface);
    packet(r.packet);
  }
  void operator()(const ForwardRecord& r) const {
    sink_.string("from", r.from);
    sink_.string("to", r.to);
    packet(r.packet);
  }
  void operator()(const DropRecord& r) const {
    packet(r.packet);
    sink_.string("reason", to_string(r.reason));
    if (!r.interface.empty()) sink_.string("interface", r.interface);
    if (!r.link.empty()) sink_.string("link", r.link);
  }
  void operator()(const DeliverRecord& r) const {
    socket(r.socket);
    const bool tcp = r.socket.proto == TransportProto::kTcp;
    sink_.string("proto", tcp ? "tcp" : "udp");
    packet(r.packet);
    sink_.string("match", to_string(r.match));
    std::vector<std::string> shadowed;
    shadowed.reserve(r.shadowed.size());
    for (SocketId id : r.shadowed) shadowed.emplace_back(name(id));
    std::sort(shadowed.begin(), shadowed.end());
    sink_.string_list("shadowed", shadowed);
    // Extension (policy linux): only when there is something to say.
    if (!r.outranked.empty()) {
      std::vector<std::string> outranked;
      for (SocketId id : r.outranked) outranked.emplace_back(name(id));
      std::sort(outranked.begin(), outranked.end());
      sink_.string_list("outranked", outranked);
    }
    if (!r.group.empty()) {
      std::vector<std::string> group;
      for (SocketId id : r.group) group.emplace_back(name(id));
      sink_.string_list("group", group);
    }
    // A datagram always carries its payload (maybe empty); a TCP segment only a non-empty one.
    if (r.packet && !(tcp && r.packet->payload.empty())) add_payload(sink_, r.packet->payload);
  }
  void operator()(const AcceptRecord& r) const {
    sink_.string("listener", name(r.listener));
    socket(r.socket);
    ends(r.local, r.remote);
  }
  void operator()(const EstablishedRecord& r) const {
    socket(r.socket);
    ends(r.local, r.remote);
  }
  void operator()(const ReceiveRecord& r) const {
    socket(r.socket);
    add_payload(sink_, r.data);
  }
  template <TraceKind K>
  void operator()(const SocketErrorRecord<K>& r) const {
    socket(r.socket);
    sink_.string("error", to_string(r.error));
  }
  void operator()(const CloseRecord& r) const {
    socket(r.socket);
    if (!r.state.empty()) sink_.string("state", r.state);
  }
  template <TraceKind K>
  void operator()(const AddressChangeRecord<K>& r) const {
    sink_.string("interface", r.interface);
    sink_.string("address", r.address.to_string());
  }
  template <TraceKind K>
  void operator()(const InterfaceChangeRecord<K>& r) const {
    sink_.string("interface", r.interface);
  }
  template <TraceKind K>
  void operator()(const LinkChangeRecord<K>& r) const {
    sink_.string("link", r.link);
  }
  void operator()(const PingRecord& r) const {
    packet(r.packet);
    sink_.integer("rtt", r.rtt.ns);
  }
  void operator()(const SocketRecord& r) const {
    socket(r.socket);
    sink_.string("how", to_string(r.origin));
    sink_.string("proto", r.socket.proto == TransportProto::kTcp ? "tcp" : "udp");
    if (r.origin == SocketOrigin::kChild) sink_.string("listener", name(r.listener));
    if (r.origin == SocketOrigin::kListen) {  // a listener's key: port and addresses ([]: wildcard)
      sink_.unsigned_integer("port", r.port);
      std::vector<std::string> addresses;
      addresses.reserve(r.addresses.size());
      for (const IpAddr& a : r.addresses) addresses.push_back(a.to_string());
      sink_.string_list("addresses", addresses);
    } else {
      ends(r.local, r.remote);
    }
    if (!r.device.empty()) sink_.string("device", r.device);
  }

 private:
  std::string_view name(SocketId id) const {
    return namer_ ? namer_->socket_name(event_.host_id, id) : std::string_view();
  }
  void socket(SocketId id) const {
    std::string_view n = name(id);
    if (!n.empty()) sink_.string("socket", n);
  }
  void packet(const Packet* p) const {
    if (p) sink_.object("packet", PacketFields(*p));
  }
  void ends(const SocketAddr& local, const SocketAddr& remote) const {
    sink_.string("local", local.to_string());
    sink_.string("remote", remote.to_string());
  }

  FieldSink& sink_;
  const StackEvent& event_;
  const SocketNamer* namer_;
};

}  // namespace

void RecordEventView::fields(FieldSink& sink) const {
  sink.string("event", to_string(kind_));
  sink.integer("seq", context_.seq);
  sink.integer("t", context_.t);
  if (!host_.empty()) sink.string("host", host_);
  if (context_.cause >= 0) sink.integer("cause", context_.cause);
  if (!context_.step.empty()) sink.string("step", context_.step);
  if (stack_)
    std::visit(StackRecordFields(sink, *stack_, namer_), stack_->record);
  else
    body_->fields(sink);
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
