// The fields of one trace event, as trace-format.md (docs/trace-format.md) defines
// them, enumerated in one place for every consumer: the JSONL writer renders them
// into a line, the online expectation matchers compare them, and neither needs the
// other. An event is seen through TraceEventView: a record being emitted
// (RecordEventView) or a line parsed back from a trace file (JsonEventView).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "stack/packet.h"
#include "stack/trace.h"

namespace netsim {

class FieldSource;

// Receives the fields of one JSON object, each once, in no particular order.
class FieldSink {
 public:
  virtual ~FieldSink() = default;
  virtual void string(std::string_view key, std::string_view value) = 0;
  virtual void integer(std::string_view key, int64_t value) = 0;
  virtual void unsigned_integer(std::string_view key, uint64_t value) = 0;
  // A list of strings, in the order the trace writes it.
  virtual void string_list(std::string_view key, const std::vector<std::string>& values) = 0;
  // A nested object (a packet, or an object of a parsed line).
  virtual void object(std::string_view key, const FieldSource& value) = 0;
  // Any other JSON value (from parsed lines: arrays, booleans, floats, null; from a packet:
  // its SACK blocks and SACK-permitted flag).
  virtual void json(std::string_view key, const nlohmann::json& value) = 0;
};

// Something that can enumerate the fields of one JSON object.
class FieldSource {
 public:
  virtual ~FieldSource() = default;
  virtual void fields(FieldSink& sink) const = 0;
  // True when fields() calls the sink in ascending key order (a writer can then
  // append them as they come, without sorting).
  virtual bool keys_sorted() const { return false; }
};

// One trace event line, whether or not it is ever written.
class TraceEventView : public FieldSource {
 public:
  virtual std::string_view kind() const = 0;  // the `event` field ("" if it has none)
  // kind() as a TraceKind; nullopt when it names none (no `event`, `expect`, unknown text).
  virtual std::optional<TraceKind> trace_kind() const = 0;
  virtual int64_t seq() const = 0;
  virtual int64_t t() const = 0;
  // The event as its parsed line would be (same keys, same values).
  nlohmann::json to_json() const;
};

// What the writer adds to a record: its position, time and context.
struct EventContext {
  int64_t seq = 0;
  int64_t t = 0;
  int64_t cause = -1;     // -1: no `cause` key
  std::string_view step;  // empty: no `step` key
};

// The application's names for the sockets records carry as handles (the scenario runner's
// names: `c1`, `L#2`). An unnamed socket is written without a `socket` key.
class SocketNamer {
 public:
  virtual ~SocketNamer() = default;
  virtual std::string_view socket_name(HostId host, SocketId socket) const = 0;
};

// A record defined above the stack (the runner's `step` and `guard`): its kind, its host
// ("" for none) and the fields that follow the common ones (event, seq, t, host, cause, step).
class RecordBody {
 public:
  virtual ~RecordBody() = default;
  virtual TraceKind kind() const = 0;
  virtual std::string_view host() const = 0;
  virtual void fields(FieldSink& sink) const = 0;
};

// A record being emitted, with its context. Holds references: short-lived.
class RecordEventView : public TraceEventView {
 public:
  // A stack record; `namer` (may be null) names its sockets.
  RecordEventView(const StackEvent& event, const EventContext& context, const SocketNamer* namer)
      : kind_(event.kind()), host_(event.host), stack_(&event), namer_(namer), context_(context) {}
  RecordEventView(const RecordBody& body, const EventContext& context)
      : kind_(body.kind()), host_(body.host()), body_(&body), context_(context) {}
  std::string_view kind() const override { return to_string(kind_); }
  std::optional<TraceKind> trace_kind() const override { return kind_; }
  int64_t seq() const override { return context_.seq; }
  int64_t t() const override { return context_.t; }
  void fields(FieldSink& sink) const override;

 private:
  TraceKind kind_;
  std::string_view host_;
  const StackEvent* stack_ = nullptr;
  const RecordBody* body_ = nullptr;
  const SocketNamer* namer_ = nullptr;
  const EventContext& context_;
};

// A packet object (trace-format.md "Packets"), `inner` nested to a bounded depth.
class PacketFields : public FieldSource {
 public:
  explicit PacketFields(const Packet& packet, int depth = 0) : packet_(packet), depth_(depth) {}
  void fields(FieldSink& sink) const override;  // in key order
  bool keys_sorted() const override { return true; }
  // How deep ICMP `inner` packets are written.
  static constexpr int kMaxInnerDepth = 4;

 private:
  const Packet& packet_;
  int depth_;
};

// An event line parsed back into JSON. `position` stands in for a missing `seq`.
class JsonEventView : public TraceEventView {
 public:
  JsonEventView(const nlohmann::json& event, uint64_t position) : event_(event), position_(position) {}
  std::string_view kind() const override;
  std::optional<TraceKind> trace_kind() const override { return trace_kind_named(kind()); }
  int64_t seq() const override;
  int64_t t() const override;
  void fields(FieldSink& sink) const override;

 private:
  const nlohmann::json& event_;
  uint64_t position_;
};

// The fields of a parsed JSON object (nested objects become nested sources).
class JsonObjectFields : public FieldSource {
 public:
  explicit JsonObjectFields(const nlohmann::json& object) : object_(object) {}
  void fields(FieldSink& sink) const override;

 private:
  const nlohmann::json& object_;
};

// "10.0.0.1:80", "[fd00::1]:80"; without the port: "10.0.0.1", "fd00::1".
void append_address_text(std::string& out, const IpAddr& address, Port port, bool with_port);
std::string_view proto_name(IpProto p);

}  // namespace netsim
