#include "stack/trace.h"

namespace netsim {

std::string_view to_string(TraceKind k) {
  switch (k) {
    case TraceKind::kStep: return "step";
    case TraceKind::kTx: return "tx";
    case TraceKind::kRx: return "rx";
    case TraceKind::kForward: return "forward";
    case TraceKind::kDrop: return "drop";
    case TraceKind::kDeliver: return "deliver";
    case TraceKind::kAccept: return "accept";
    case TraceKind::kEstablished: return "established";
    case TraceKind::kReceive: return "receive";
    case TraceKind::kSever: return "sever";
    case TraceKind::kError: return "error";
    case TraceKind::kClose: return "close";
    case TraceKind::kAddressAdded: return "address_added";
    case TraceKind::kAddressRemoved: return "address_removed";
    case TraceKind::kInterfaceDown: return "interface_down";
    case TraceKind::kInterfaceUp: return "interface_up";
    case TraceKind::kLinkDown: return "link_down";
    case TraceKind::kLinkUp: return "link_up";
    case TraceKind::kPing: return "ping";
    case TraceKind::kSocket: return "socket";
    case TraceKind::kGuard: return "guard";
  }
  return "?";
}

std::optional<TraceKind> trace_kind_named(std::string_view name) {
  for (unsigned k = 0; k <= static_cast<unsigned>(TraceKind::kGuard); ++k)  // every TraceKind
    if (to_string(static_cast<TraceKind>(k)) == name) return static_cast<TraceKind>(k);
  return std::nullopt;
}

std::string_view to_string(SocketOrigin o) {
  switch (o) {
    case SocketOrigin::kListen: return "listen";
    case SocketOrigin::kConnect: return "connect";
    case SocketOrigin::kChild: return "child";
  }
  return "?";
}

TraceKind kind_of(const StackRecord& record) {
  return std::visit([](const auto& r) { return std::decay_t<decltype(r)>::kKind; }, record);
}

std::string_view to_string(DropReason r) {
  switch (r) {
    case DropReason::kNoListener: return "no_listener";
    case DropReason::kNoRoute: return "no_route";
    case DropReason::kNotForHost: return "not_for_host";
    case DropReason::kStrongHost: return "strong_host";
    case DropReason::kTtlExceeded: return "ttl_exceeded";
    case DropReason::kQueueFull: return "queue_full";
    case DropReason::kLoss: return "loss";
    case DropReason::kLinkDown: return "link_down";
    case DropReason::kInterfaceDown: return "interface_down";
    case DropReason::kNoNeighbor: return "no_neighbor";
    case DropReason::kBacklogFull: return "backlog_full";
    case DropReason::kReceiveShutdown: return "receive_shutdown";
    case DropReason::kBadState: return "bad_state";
    case DropReason::kMessageTooLong: return "message_too_long";
    case DropReason::kNoSourceAddress: return "no_source_address";
  }
  return "?";
}

std::string_view to_string(MatchRule m) {
  switch (m) {
    case MatchRule::kConnectionDevice: return "connection+device";
    case MatchRule::kConnection: return "connection";
    case MatchRule::kSpecificDevice: return "specific+device";
    case MatchRule::kSpecific: return "specific";
    case MatchRule::kWildcardDevice: return "wildcard+device";
    case MatchRule::kWildcard: return "wildcard";
  }
  return "?";
}

}  // namespace netsim
