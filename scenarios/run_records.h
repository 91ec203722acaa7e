// The trace records the scenario runner emits itself (docs/trace-format.md): `step`, one per
// executed timeline step with its result and, for listen/connect, the binding the stack chose
// (an extension), and `guard`, the resource guard that stopped a run (an extension). The stack's
// own records are in stack/trace.h; `expect` lines come from TraceWriter::append_expect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "stack/ip_addr.h"
#include "stack/net_error.h"
#include "viz/trace_fields.h"

namespace netsim::scenario {

struct StepRecord {
  static constexpr TraceKind kKind = TraceKind::kStep;
  std::string_view host;    // "" for a step on the network (link_up, ...)
  std::string_view op;
  std::string_view socket;  // "" for steps without one
  std::optional<NetError> result;    // none: ok
  std::optional<NetError> expected;  // the step's expect_error
  // listen / connect that worked: the binding the stack chose.
  std::string_view proto;            // "udp" / "tcp"; "" for other steps
  std::optional<Port> port;          // a listener's port ...
  std::vector<IpAddr> addresses;     // ... and addresses (empty: wildcard)
  std::optional<SocketAddr> local, remote;  // a connection's ends
  std::string device;                // "" unless bound to one
};

struct GuardRecord {
  static constexpr TraceKind kKind = TraceKind::kGuard;
  std::string_view guard;  // "events", "time", "in_flight"
  uint64_t limit = 0;
  uint64_t events = 0;     // events executed
  uint64_t pending = 0;    // events (and timeline repetitions) still to run
  uint64_t in_flight = 0;  // packets in flight
  std::optional<std::pair<std::string_view, uint64_t>> busiest_link;  // and its packets
};

using RunRecord = std::variant<StepRecord, GuardRecord>;

// A run record as the trace writer takes it: one fields() overload per record kind.
class RunRecordBody : public RecordBody {
 public:
  explicit RunRecordBody(const RunRecord& record) : record_(record) {}
  TraceKind kind() const override;
  std::string_view host() const override;
  void fields(FieldSink& sink) const override;

 private:
  const RunRecord& record_;
};

}  // namespace netsim::scenario
