#include "stack/ip_addr.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <vector>

namespace netsim {
namespace {

std::optional<uint32_t> parse_v4(std::string_view s) {
  uint32_t out = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    size_t len = i - start;
    if (len == 0 || len > 3 || (len > 1 && s[start] == '0')) return std::nullopt;
    unsigned v = 0;
    std::from_chars(s.data() + start, s.data() + i, v);
    if (v > 255) return std::nullopt;
    out = (out << 8) | v;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != s.size()) return std::nullopt;
  return out;
}

std::optional<std::array<uint8_t, 16>> parse_v6(std::string_view s) {
  std::vector<uint16_t> head, tail;
  bool seen_gap = false;
  size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    seen_gap = true;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return std::nullopt;
  }
  std::optional<uint32_t> tail_v4;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i < s.size() && s[i] == '.') {  // embedded IPv4 at the end
      tail_v4 = parse_v4(s.substr(start));
      if (!tail_v4) return std::nullopt;
      i = s.size();
      break;
    }
    size_t len = i - start;
    if (len == 0 || len > 4) return std::nullopt;
    unsigned v = 0;
    std::from_chars(s.data() + start, s.data() + i, v, 16);
    (seen_gap ? tail : head).push_back(static_cast<uint16_t>(v));
    if (i == s.size()) break;
    if (s[i] != ':') return std::nullopt;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (seen_gap) return std::nullopt;
      seen_gap = true;
      ++i;
    } else if (i == s.size()) {
      return std::nullopt;  // trailing single colon
    }
  }
  if (tail_v4) {
    auto& v = seen_gap ? tail : head;
    v.push_back(static_cast<uint16_t>(*tail_v4 >> 16));
    v.push_back(static_cast<uint16_t>(*tail_v4 & 0xffff));
  }
  size_t groups = head.size() + tail.size();
  if (seen_gap ? groups > 7 : groups != 8) return std::nullopt;
  std::array<uint8_t, 16> out{};
  size_t g = 0;
  for (uint16_t v : head) {
    out[2 * g] = v >> 8;
    out[2 * g + 1] = v & 0xff;
    ++g;
  }
  g = 8 - tail.size();
  for (uint16_t v : tail) {
    out[2 * g] = v >> 8;
    out[2 * g + 1] = v & 0xff;
    ++g;
  }
  return out;
}

}  // namespace

IpAddr IpAddr::v4(uint32_t host_order) {
  IpAddr a;
  a.family_ = Family::kV4;
  a.bytes_[0] = host_order >> 24;
  a.bytes_[1] = (host_order >> 16) & 0xff;
  a.bytes_[2] = (host_order >> 8) & 0xff;
  a.bytes_[3] = host_order & 0xff;
  return a;
}

IpAddr IpAddr::v6(const std::array<uint8_t, 16>& bytes) {
  IpAddr a;
  a.family_ = Family::kV6;
  a.bytes_ = bytes;
  return a;
}

IpAddr IpAddr::unspecified(Family f) { return f == Family::kV4 ? v4(0) : v6({}); }

IpAddr IpAddr::loopback(Family f) {
  if (f == Family::kV4) return v4(0x7f000001);
  std::array<uint8_t, 16> b{};
  b[15] = 1;
  return v6(b);
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    auto b = parse_v6(text);
    if (!b) return std::nullopt;
    return v6(*b);
  }
  auto v = parse_v4(text);
  if (!v) return std::nullopt;
  return v4(*v);
}

bool IpAddr::is_unspecified() const {
  for (int i = 0; i < (is_v4() ? 4 : 16); ++i)
    if (bytes_[i]) return false;
  return true;
}

bool IpAddr::is_loopback() const {
  if (is_v4()) return bytes_[0] == 127;
  return *this == loopback(Family::kV6);
}

bool IpAddr::is_link_local() const {
  if (is_v4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

uint32_t IpAddr::v4_bits() const {
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
         bytes_[3];
}

std::string IpAddr::to_string() const {
  char buf[48];
  if (is_v4()) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
    return buf;
  }
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>((bytes_[2 * i] << 8) | bytes_[2 * i + 1]);
  // RFC 5952 4.2: compress the longest run (>= 2) of zero groups, the first on ties.
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best_start = -1;
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out += buf;
  }
  return out;
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto addr = IpAddr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  std::string_view len_text = text.substr(slash + 1);
  int len = -1;
  auto [p, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc() || p != len_text.data() + len_text.size() || len_text.empty()) return std::nullopt;
  if (len < 0 || len > addr->bit_length()) return std::nullopt;
  return Prefix(*addr, len);
}

bool Prefix::contains(const IpAddr& a) const {
  if (a.family() != addr_.family()) return false;
  const auto& x = a.bytes();
  const auto& y = addr_.bytes();
  int full = length_ / 8;
  for (int i = 0; i < full; ++i)
    if (x[i] != y[i]) return false;
  int rest = length_ % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (x[full] & mask) == (y[full] & mask);
}

Prefix Prefix::network() const {
  auto b = addr_.bytes();
  for (int i = 0; i < 16; ++i) {
    int keep = std::min(8, std::max(0, length_ - 8 * i));
    b[i] &= keep == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
  }
  IpAddr a = addr_.is_v4() ? IpAddr::v4((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
                                        (uint32_t{b[2]} << 8) | b[3])
                           : IpAddr::v6(b);
  return Prefix(a, length_);
}

std::string Prefix::to_string() const { return addr_.to_string() + "/" + std::to_string(length_); }

std::optional<SocketAddr> SocketAddr::parse(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    auto a = IpAddr::parse(host);
    if (!a || !a->is_v6()) return std::nullopt;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;
  }
  auto a = IpAddr::parse(host);
  if (!a) return std::nullopt;
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p > 65535)
    return std::nullopt;
  return SocketAddr{*a, static_cast<Port>(p)};
}

std::string SocketAddr::to_string() const {
  if (addr.is_v6()) return "[" + addr.to_string() + "]:" + std::to_string(port);
  return addr.to_string() + ":" + std::to_string(port);
}

}  // namespace netsim
