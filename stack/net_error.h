// The closed set of errors a socket operation or a socket can see, and the
// expected-style Result<T> that carries them. to_string() gives the names the
// scenario format (expect_error) and the trace (error fields) use.
#pragma once

#include <cassert>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>

namespace netsim {

enum class NetError : uint8_t {
  kAddressInUse,
  kAddressNotAvailable,
  kListenerExists,
  kNoPorts,
  kNetworkUnreachable,
  kConnectionRefused,
  kConnectionReset,
  kTimedOut,
  kAddressRemoved,
  kMessageTooLong,
  kNotConnected,
  kInvalidState,
  kUnknownSocket,
  // Extensions of the v1 list (documented in docs/scenario-format.md):
  kNoSuchDevice,     // a device the host does not have
  kNotSupported,     // an option the policy or protocol does not support
  kSocketExists,     // a socket name already in use on the host
  kInvalidArgument,  // a value out of range (e.g. a port above 65535)
};

inline constexpr NetError kAllNetErrors[] = {
    NetError::kAddressInUse,     NetError::kAddressNotAvailable, NetError::kListenerExists,
    NetError::kNoPorts,          NetError::kNetworkUnreachable,  NetError::kConnectionRefused,
    NetError::kConnectionReset,  NetError::kTimedOut,            NetError::kAddressRemoved,
    NetError::kMessageTooLong,   NetError::kNotConnected,        NetError::kInvalidState,
    NetError::kUnknownSocket,    NetError::kNoSuchDevice,        NetError::kNotSupported,
    NetError::kSocketExists,     NetError::kInvalidArgument,
};

constexpr std::string_view to_string(NetError e) {
  switch (e) {
    case NetError::kAddressInUse: return "address_in_use";
    case NetError::kAddressNotAvailable: return "address_not_available";
    case NetError::kListenerExists: return "listener_exists";
    case NetError::kNoPorts: return "no_ports";
    case NetError::kNetworkUnreachable: return "network_unreachable";
    case NetError::kConnectionRefused: return "connection_refused";
    case NetError::kConnectionReset: return "connection_reset";
    case NetError::kTimedOut: return "timed_out";
    case NetError::kAddressRemoved: return "address_removed";
    case NetError::kMessageTooLong: return "message_too_long";
    case NetError::kNotConnected: return "not_connected";
    case NetError::kInvalidState: return "invalid_state";
    case NetError::kUnknownSocket: return "unknown_socket";
    case NetError::kNoSuchDevice: return "no_such_device";
    case NetError::kNotSupported: return "not_supported";
    case NetError::kSocketExists: return "socket_exists";
    case NetError::kInvalidArgument: return "invalid_argument";
  }
  return "?";
}

inline std::optional<NetError> net_error_from_string(std::string_view s) {
  for (NetError e : kAllNetErrors)
    if (to_string(e) == s) return e;
  return std::nullopt;
}

// Either a value or a NetError. Result<void> carries only the error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(NetError e) : v_(e) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { assert(ok()); return std::get<0>(v_); }
  T& value() { assert(ok()); return std::get<0>(v_); }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }
  NetError error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, NetError> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(NetError e) : e_(e) {}
  bool ok() const { return !e_; }
  explicit operator bool() const { return ok(); }
  NetError error() const { assert(e_); return *e_; }

 private:
  std::optional<NetError> e_;
};

}  // namespace netsim
