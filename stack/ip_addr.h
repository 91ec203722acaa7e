// IP address value types: IpAddr (IPv4 or IPv6), Prefix (address/length),
// Port and SocketAddr (address and port). Parsed once at the scenario edge,
// printed as the trace writes them (IPv6 per RFC 5952, "[v6]:port").
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace netsim {

using Port = uint16_t;

enum class Family : uint8_t { kV4, kV6 };

class IpAddr {
 public:
  constexpr IpAddr() = default;  // 0.0.0.0
  static IpAddr v4(uint32_t host_order);
  static IpAddr v6(const std::array<uint8_t, 16>& bytes);
  static IpAddr unspecified(Family f);
  static IpAddr loopback(Family f);

  // Parses dotted-quad IPv4 or any RFC 4291 text form of IPv6 (no zone).
  static std::optional<IpAddr> parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  bool is_unspecified() const;
  bool is_loopback() const;
  bool is_link_local() const;  // 169.254/16, fe80::/10
  uint32_t v4_bits() const;    // Requires: is_v4().
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }  // v4 in the first 4 bytes.
  int bit_length() const { return is_v4() ? 32 : 128; }
  bool bit(int i) const { return (bytes_[i / 8] >> (7 - i % 8)) & 1; }

  // RFC 5952 for IPv6, dotted quad for IPv4.
  std::string to_string() const;

  auto operator<=>(const IpAddr&) const = default;

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

// Hash of an address for unordered containers (never for anything observable). The
// unused bytes of an IPv4 address are zero, so hashing all 16 is exact.
struct IpAddrHash {
  size_t operator()(const IpAddr& a) const {
    uint64_t w[2];
    std::memcpy(w, a.bytes().data(), sizeof w);
    uint64_t h = (w[0] ^ (w[1] * 0x9e3779b97f4a7c15ULL) ^ static_cast<uint64_t>(a.family())) *
                 0xff51afd7ed558ccdULL;
    return static_cast<size_t>(h ^ (h >> 32));
  }
};

class Prefix {
 public:
  Prefix() = default;
  // Keeps the host bits of `addr` (an interface address "10.0.0.1/24" is a Prefix).
  Prefix(IpAddr addr, int length) : addr_(addr), length_(length) {}
  static std::optional<Prefix> parse(std::string_view text);  // "10.0.0.1/24", "fd00::/64"

  const IpAddr& addr() const { return addr_; }
  int length() const { return length_; }
  Family family() const { return addr_.family(); }
  bool contains(const IpAddr& a) const;
  Prefix network() const;  // host bits cleared
  std::string to_string() const;

  auto operator<=>(const Prefix&) const = default;

 private:
  IpAddr addr_;
  int length_ = 0;
};

struct SocketAddr {
  IpAddr addr;
  Port port = 0;

  // "10.0.0.1:80" or "[fd00::1]:80".
  static std::optional<SocketAddr> parse(std::string_view text);
  std::string to_string() const;
  auto operator<=>(const SocketAddr&) const = default;
};

}  // namespace netsim
