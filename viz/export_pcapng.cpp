#include "viz/export_pcapng.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>

#include "viz/export_trace_view.h"
#include "viz/trace_exporter.h"

namespace netsim {

namespace {

using exporting::int_field;
using exporting::str_field;
using nlohmann::json;

constexpr uint32_t kBlockShb = 0x0A0D0D0A;
constexpr uint32_t kBlockIdb = 0x00000001;
constexpr uint32_t kBlockEpb = 0x00000006;
constexpr uint16_t kLinktypeRaw = 101;
constexpr uint16_t kOptEnd = 0, kOptComment = 1;
constexpr uint16_t kShbUserAppl = 4;
constexpr uint16_t kIfName = 2, kIfDescription = 3, kIfIpv4Addr = 4, kIfIpv6Addr = 5,
                   kIfTsresol = 9;
constexpr uint16_t kEpbFlags = 2;
constexpr uint32_t kInbound = 1, kOutbound = 2;
constexpr size_t kIcmp4ErrorMax = 576 - 28;   // RFC 1812 4.3.2.3
constexpr size_t kIcmp6ErrorMax = 1280 - 48;  // RFC 4443 2.4 (c)
// Room for the largest IP and transport headers: every length field of the datagram holds.
constexpr int64_t kMaxPayload = kMaxPacketLen - 64;

void put16(std::string& b, uint16_t v) {  // network order
  b.push_back(static_cast<char>(v >> 8));
  b.push_back(static_cast<char>(v & 0xff));
}
void put32(std::string& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v & 0xffff));
}
void set16(std::string& b, size_t at, uint16_t v) {
  b[at] = static_cast<char>(v >> 8);
  b[at + 1] = static_cast<char>(v & 0xff);
}

// Little-endian writer for the pcapng blocks themselves.
void le16(std::string& b, uint16_t v) {
  b.push_back(static_cast<char>(v & 0xff));
  b.push_back(static_cast<char>(v >> 8));
}
void le32(std::string& b, uint32_t v) {
  le16(b, static_cast<uint16_t>(v & 0xffff));
  le16(b, static_cast<uint16_t>(v >> 16));
}
void pad4(std::string& b) {
  while (b.size() % 4 != 0) b.push_back('\0');
}
void option(std::string& b, uint16_t code, const std::string& value) {
  le16(b, code);
  le16(b, static_cast<uint16_t>(value.size()));
  b += value;
  pad4(b);
}
// opt_endofopt: code 0, length 0.
void end_options(std::string& b) {
  le16(b, kOptEnd);
  le16(b, 0);
}
void block(std::string& out, uint32_t type, const std::string& body) {
  uint32_t total = static_cast<uint32_t>(12 + body.size());
  le32(out, type);
  le32(out, total);
  out += body;
  le32(out, total);
}

uint32_t sum16(const std::string& b, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < b.size(); i += 2) {
    sum += (static_cast<uint8_t>(b[i]) << 8) | static_cast<uint8_t>(b[i + 1]);
  }
  if (b.size() % 2) sum += static_cast<uint8_t>(b.back()) << 8;
  return sum;
}
uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

struct IpAddrBytes {
  bool v6 = false;
  std::string bytes;  // 4 or 16
};

IpAddrBytes parse_ip(const std::string& text) {
  IpAddrBytes a;
  std::array<uint8_t, 16> buf{};
  if (inet_pton(AF_INET, text.c_str(), buf.data()) == 1) {
    a.bytes.assign(reinterpret_cast<char*>(buf.data()), 4);
  } else if (inet_pton(AF_INET6, text.c_str(), buf.data()) == 1) {
    a.v6 = true;
    a.bytes.assign(reinterpret_cast<char*>(buf.data()), 16);
  } else {
    a.bytes.assign(4, '\0');  // unparseable: 0.0.0.0 keeps the packet well formed
  }
  return a;
}

uint8_t tcp_flag_bits(const std::string& flags) {
  uint8_t bits = 0;
  for (char c : flags) {
    switch (c) {
      case 'F': bits |= 0x01; break;
      case 'S': bits |= 0x02; break;
      case 'R': bits |= 0x04; break;
      case 'P': bits |= 0x08; break;
      case 'A': bits |= 0x10; break;
      case 'U': bits |= 0x20; break;
      case 'E': bits |= 0x40; break;
      case 'W': bits |= 0x80; break;
      default: break;
    }
  }
  return bits;
}

// Payload bytes by packet id, from the deliveries seen within the lookahead.
using Payloads = Recent<int64_t, std::string>;

// The window scale of each direction of each TCP connection in the capture, learnt from its SYN
// and SYN-ACK as any reader of the capture learns it (RFC 7323 2.2): the trace gives windows in
// bytes, the header holds them shifted right by their sender's scale. An entry lives from the
// SYN-ACK that scales a connection to a RST or a new SYN between its ends.
class WindowScales {
 public:
  void observe(const json& p) {
    if (str_field(p, "proto") != "tcp") return;
    const std::string flags = str_field(p, "flags");
    const std::string out = str_field(p, "src") + ">" + str_field(p, "dst");
    const std::string back = str_field(p, "dst") + ">" + str_field(p, "src");
    const bool syn = flags.find('S') != std::string::npos;
    if (flags.find('R') != std::string::npos || (syn && flags.find('A') == std::string::npos)) {
      shifts_.erase(out);
      shifts_.erase(back);
      if (syn && p.contains("wscale")) offers_[out] = scale_of(p);
      return;
    }
    if (!syn) return;
    // A SYN-ACK: both directions scale when both ends offered.
    auto offer = offers_.find(back);
    if (offer == offers_.end()) return;
    if (p.contains("wscale")) {
      shifts_[back] = offer->second;
      shifts_[out] = scale_of(p);
    }
    offers_.erase(offer);
  }

  // The shift of this segment's window field (none on a SYN).
  int shift(const json& p) const {
    if (str_field(p, "flags").find('S') != std::string::npos) return 0;
    auto it = shifts_.find(str_field(p, "src") + ">" + str_field(p, "dst"));
    return it == shifts_.end() ? 0 : it->second;
  }

  size_t held() const { return shifts_.size() + offers_.size(); }

 private:
  static int scale_of(const json& p) { return static_cast<int>(std::clamp<int64_t>(int_field(p, "wscale"), 0, 14)); }

  std::map<std::string, int> shifts_;  // "src>dst": the shift of src's windows
  std::map<std::string, int> offers_;  // SYNs not yet answered: the shift they offered
};

class PacketBuilder {
 public:
  PacketBuilder(Payloads& payloads, const WindowScales& scales) : payloads_(payloads), scales_(scales) {}

  // The IP datagram described by a trace `packet` object.
  std::string build(const json& p) const {
    auto src = exporting::parse_endpoint(str_field(p, "src"));
    auto dst = exporting::parse_endpoint(str_field(p, "dst"));
    IpAddrBytes s = parse_ip(src.address), d = parse_ip(dst.address);
    if (s.v6 != d.v6) d = s;  // never mix families in one header
    std::string proto = str_field(p, "proto");
    std::string transport;
    uint8_t next = 17;
    if (proto == "tcp") {
      next = 6;
      transport = tcp(p, src.port, dst.port);
    } else if (proto == "icmp") {
      next = s.v6 ? 58 : 1;
      transport = icmp(p, s.v6);
    } else {
      transport = udp(p, src.port, dst.port);
    }
    if (next != 1) {  // transport checksum over the pseudo-header
      std::string pseudo = s.bytes + d.bytes;
      if (s.v6) {
        put32(pseudo, static_cast<uint32_t>(transport.size()));
        put32(pseudo, next);
      } else {
        pseudo.push_back('\0');
        pseudo.push_back(static_cast<char>(next));
        put16(pseudo, static_cast<uint16_t>(transport.size()));
      }
      size_t at = next == 6 ? 16 : next == 17 ? 6 : 2;
      uint16_t c = fold(sum16(transport, sum16(pseudo)));
      if (next == 17 && c == 0) c = 0xffff;
      set16(transport, at, c);
    }
    uint8_t ttl = static_cast<uint8_t>(int_field(p, "ttl", 64));
    std::string ip;
    if (s.v6) {
      put32(ip, 0x60000000);
      put16(ip, static_cast<uint16_t>(transport.size()));
      ip.push_back(static_cast<char>(next));
      ip.push_back(static_cast<char>(ttl));
      ip += s.bytes + d.bytes;
    } else {
      put16(ip, 0x4500);
      put16(ip, static_cast<uint16_t>(20 + transport.size()));
      put16(ip, static_cast<uint16_t>(int_field(p, "id") & 0xffff));
      put16(ip, 0x4000);  // don't fragment: v1 never fragments
      ip.push_back(static_cast<char>(ttl));
      ip.push_back(static_cast<char>(next));
      put16(ip, 0);
      ip += s.bytes + d.bytes;
      set16(ip, 10, fold(sum16(ip)));
    }
    return ip + transport;
  }

 private:
  std::string payload(const json& p) const {
    int64_t len = std::clamp<int64_t>(int_field(p, "len"), 0, kMaxPayload);
    const std::string* data = payloads_.find(int_field(p, "id", -1));
    if (data && static_cast<int64_t>(data->size()) == len) return *data;
    std::string b(static_cast<size_t>(len), '\0');
    for (size_t i = 0; i < b.size(); ++i) b[i] = kPayloadPattern[i % 26];
    return b;
  }

  std::string udp(const json& p, int sport, int dport) const {
    std::string data = payload(p);
    std::string h;
    put16(h, static_cast<uint16_t>(sport < 0 ? 0 : sport));
    put16(h, static_cast<uint16_t>(dport < 0 ? 0 : dport));
    put16(h, static_cast<uint16_t>(8 + data.size()));
    put16(h, 0);
    return h + data;
  }

  std::string tcp(const json& p, int sport, int dport) const {
    std::string options = tcp_options(p);
    std::string h;
    put16(h, static_cast<uint16_t>(sport < 0 ? 0 : sport));
    put16(h, static_cast<uint16_t>(dport < 0 ? 0 : dport));
    put32(h, static_cast<uint32_t>(int_field(p, "seq")));
    put32(h, static_cast<uint32_t>(int_field(p, "ack")));
    h.push_back(static_cast<char>(((20 + options.size()) / 4) << 4));
    h.push_back(static_cast<char>(tcp_flag_bits(str_field(p, "flags"))));
    int64_t window = std::max<int64_t>(int_field(p, "window", 65535), 0) >> scales_.shift(p);
    put16(h, static_cast<uint16_t>(std::min<int64_t>(window, 65535)));
    put16(h, 0);  // checksum, filled in by build()
    put16(h, 0);  // urgent pointer
    return h + options + payload(p);
  }

  // The options in Linux's layout (TcpOptions::wire_size counts the same bytes): MSS, SACK-
  // permitted in the timestamps' padding, window scale after a NOP; SACK blocks after two NOPs.
  static std::string tcp_options(const json& p) {
    std::string o;
    auto u32 = [&](const char* key) { return static_cast<uint32_t>(int_field(p, key)); };
    if (int64_t mss = int_field(p, "mss", 0); mss > 0) {
      o += "\x02\x04";
      put16(o, static_cast<uint16_t>(std::min<int64_t>(mss, 65535)));
    }
    const bool sack_ok = p.contains("sack_ok") && p["sack_ok"].is_boolean() && p["sack_ok"].get<bool>();
    if (p.contains("ts_val")) {
      o += sack_ok ? std::string("\x04\x02", 2) : std::string("\x01\x01", 2);
      o += "\x08\x0a";
      put32(o, u32("ts_val"));
      put32(o, u32("ts_ecr"));
    } else if (sack_ok) {
      o += std::string("\x01\x01\x04\x02", 4);
    }
    if (p.contains("wscale")) {
      o += "\x01\x03\x03";
      o.push_back(static_cast<char>(std::clamp<int64_t>(int_field(p, "wscale"), 0, 14)));
    }
    if (p.contains("sack") && p["sack"].is_array()) {
      const json& blocks = p["sack"];
      size_t n = std::min<size_t>(blocks.size(), (40 - o.size() - 4) / 8);
      if (n > 0) {
        o += "\x01\x01\x05";
        o.push_back(static_cast<char>(2 + 8 * n));
        for (size_t i = 0; i < n; ++i) {
          for (size_t edge = 0; edge < 2; ++edge) {
            const json& b = blocks[i];
            bool ok = b.is_array() && b.size() == 2 && b[edge].is_number_unsigned();
            put32(o, ok ? static_cast<uint32_t>(b[edge].get<uint64_t>()) : 0);
          }
        }
      }
    }
    return o;
  }

  std::string icmp(const json& p, bool v6) const {
    std::string type = str_field(p, "type");
    uint8_t t = 0, code = 0;
    bool error = false;
    if (type == "echo_request") {
      t = v6 ? 128 : 8;
    } else if (type == "echo_reply") {
      t = v6 ? 129 : 0;
    } else if (type == "time_exceeded") {
      t = v6 ? 3 : 11;
      error = true;
    } else {  // port_unreachable
      t = v6 ? 1 : 3;
      code = v6 ? 4 : 3;
      error = true;
    }
    std::string h;
    h.push_back(static_cast<char>(t));
    h.push_back(static_cast<char>(code));
    put16(h, 0);
    std::string body;
    if (error) {
      put32(h, 0);
      if (p.contains("inner") && p["inner"].is_object()) {
        body = build(p["inner"]);
        body.resize(std::min(body.size(), v6 ? kIcmp6ErrorMax : kIcmp4ErrorMax));
      }
    } else {
      put16(h, static_cast<uint16_t>(int_field(p, "ident", int_field(p, "identifier", 0))));
      put16(h, static_cast<uint16_t>(int_field(p, "seq", 0)));
      body = payload(p);
    }
    std::string m = h + body;
    if (!v6) set16(m, 2, fold(sum16(m)));  // ICMPv6 is summed with the pseudo-header
    return m;
  }

  Payloads& payloads_;
  const WindowScales& scales_;
};

std::string interface_key(const std::string& host, const std::string& iface) {
  return host + "/" + iface;
}

std::string idb(const TopologyHost& host, const TopologyInterface& iface) {
  std::string b;
  le16(b, kLinktypeRaw);
  le16(b, 0);  // reserved
  le32(b, 0);  // snaplen: no limit
  option(b, kIfName, interface_key(host.name, iface.name));
  std::string desc = host.name + " " + iface.name + (host.forwarding ? " (router)" : "") +
                     " mtu " + std::to_string(iface.mtu);
  for (const auto& a : iface.addresses) desc += " " + a;
  option(b, kIfDescription, desc);
  for (const auto& a : iface.addresses) {
    auto slash = a.find('/');
    IpAddrBytes ip = parse_ip(a.substr(0, slash));
    int len = slash == std::string::npos ? (ip.v6 ? 128 : 32) : std::atoi(a.c_str() + slash + 1);
    if (ip.v6) {
      option(b, kIfIpv6Addr, ip.bytes + std::string(1, static_cast<char>(len)));
    } else {
      uint32_t mask = len <= 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
      std::string m;
      put32(m, mask);
      option(b, kIfIpv4Addr, ip.bytes + m);
    }
  }
  option(b, kIfTsresol, std::string(1, '\x09'));  // 10^-9 s: the trace's nanoseconds
  end_options(b);
  return b;
}

std::string delivery_comment(const json& e) {
  std::string c = "deliver to " + str_field(e, "socket") + " by " + str_field(e, "match") +
                  ", shadowed: ";
  std::string sh;
  if (e.contains("shadowed") && e["shadowed"].is_array()) {
    for (const auto& s : e["shadowed"]) {
      if (!sh.empty()) sh += ", ";
      sh += s.is_string() ? s.get<std::string>() : s.dump();
    }
  }
  return c + (sh.empty() ? "none" : sh);
}

// One section: the header block and the interfaces known at start(), then a packet block per
// captured tx/rx (PcapngCapture; an interface first named later gets its block just before its
// first packet).
class PcapngExporter : public TraceExporter {
 public:
  PcapngExporter(std::ostream& out, PcapngCapture capture)
      : out_(out), capture_(capture), builder_(payloads_, scales_) {}

  void look(const json& e, uint64_t index) override {
    const json* packet = packet_of(e);
    if (!packet) return;
    std::string kind = str_field(e, "event");
    int64_t id = int_field(*packet, "id", -1);
    if (kind == "deliver" && e.contains("data")) payloads_.set(id, index, e["data"].get<std::string>());
    // Sending captures: the packet's last transmission, wherever it was (the hop that brought it
    // to the host where it ends). Otherwise the last capture of it on the host where it ends.
    auto key = std::make_pair(capture_ == PcapngCapture::kTx ? std::string() : str_field(e, "host"), id);
    if (kind == "tx" || kind == "rx") {
      if (captured(kind)) last_capture_.set(key, index, index);
      return;
    }
    // What became of a packet: a note on its capture found above.
    const uint64_t* capture = last_capture_.find(key);
    if (!capture) return;
    std::string note;
    if (kind == "deliver") {
      note = delivery_comment(e);
    } else if (kind == "drop") {
      note = "drop: " + str_field(e, "reason");
      if (e.contains("link")) note += " on link " + str_field(e, "link");
    } else if (kind == "forward") {
      note = "forward " + str_field(e, "from") + " -> " + str_field(e, "to");
    } else {
      return;
    }
    std::string& c = comments_[*capture];
    c += (c.empty() ? "" : "; ") + note;
  }

  void start(const TraceReader& trace) override {
    std::string b;
    le32(b, 0x1A2B3C4D);  // byte-order magic
    le16(b, 1);
    le16(b, 0);
    le32(b, 0xffffffff);  // section length: unspecified
    le32(b, 0xffffffff);
    const json& h = trace.header();
    option(b, kOptComment, "netsim scenario " + trace.scenario() + ", seed " +
                               std::to_string(int_field(h, "seed")) + ", policy " +
                               str_field(h, "policy", "seed"));
    option(b, kShbUserAppl, "netsim " + str_field(h, "netsim", "?"));
    end_options(b);
    write_block(kBlockShb, b);
    for (const auto& [name, host] : trace.topology().hosts) {
      for (const auto& iface : host.interfaces) add_interface(host, iface);
    }
    topology_ = &trace.topology();
  }

  void emit(const json& e, uint64_t index) override {
    payloads_.forget_before(forget_horizon(index));
    last_capture_.forget_before(index + 1);  // a note for a packet block already written is lost
    std::string comment;
    if (auto c = comments_.find(index); c != comments_.end()) comment = std::move(c->second);
    comments_.erase(comments_.begin(), comments_.upper_bound(index));

    std::string kind = str_field(e, "event");
    const json* packet = packet_of(e);
    if (packet) scales_.observe(*packet);
    if (!captured(kind) || !packet) return;
    std::optional<uint32_t> id = interface_id(str_field(e, "host"), str_field(e, "interface"));
    if (!id) return;
    std::string datagram = builder_.build(*packet);
    uint64_t ts = static_cast<uint64_t>(int_field(e, "t"));
    std::string b;
    le32(b, *id);
    le32(b, static_cast<uint32_t>(ts >> 32));
    le32(b, static_cast<uint32_t>(ts & 0xffffffff));
    le32(b, static_cast<uint32_t>(datagram.size()));
    le32(b, static_cast<uint32_t>(datagram.size()));
    b += datagram;
    pad4(b);
    std::string flags;
    le32(flags, kind == "tx" ? kOutbound : kInbound);
    option(b, kEpbFlags, flags);
    if (!comment.empty()) option(b, kOptComment, comment);
    end_options(b);
    write_block(kBlockEpb, b);
  }

  void finish(const TraceReader&) override {}

  size_t held() const override {
    return payloads_.held() + last_capture_.held() + comments_.size() + interface_ids_.size() +
           scales_.held();
  }

 private:
  bool captured(const std::string& kind) const {
    switch (capture_) {
      case PcapngCapture::kTx: return kind == "tx";
      case PcapngCapture::kRx: return kind == "rx";
      case PcapngCapture::kBoth: return kind == "tx" || kind == "rx";
    }
    return false;
  }

  static const json* packet_of(const json& e) {
    auto it = e.find("packet");
    return it != e.end() && it->is_object() ? &*it : nullptr;
  }

  void add_interface(const TopologyHost& host, const TopologyInterface& iface) {
    interface_ids_[interface_key(host.name, iface.name)] = static_cast<uint32_t>(interface_ids_.size());
    write_block(kBlockIdb, idb(host, iface));
  }

  // The interface's id; one first named after start() gets its block now (the reader has it in
  // the topology by then). None for a capture that names no interface.
  std::optional<uint32_t> interface_id(const std::string& host, const std::string& iface) {
    std::string key = interface_key(host, iface);
    if (auto it = interface_ids_.find(key); it != interface_ids_.end()) return it->second;
    auto h = topology_->hosts.find(host);
    if (h == topology_->hosts.end()) return std::nullopt;
    for (const auto& i : h->second.interfaces) {
      if (i.name == iface) add_interface(h->second, i);
    }
    if (auto it = interface_ids_.find(key); it != interface_ids_.end()) return it->second;
    return std::nullopt;
  }

  void write_block(uint32_t type, const std::string& body) {
    std::string b;
    block(b, type, body);
    out_.write(b.data(), static_cast<std::streamsize>(b.size()));
  }

  std::ostream& out_;
  PcapngCapture capture_;
  Payloads payloads_;
  WindowScales scales_;
  PacketBuilder builder_;
  Recent<std::pair<std::string, int64_t>, uint64_t> last_capture_;  // (host or "", packet id) -> index
  std::map<uint64_t, std::string> comments_;                         // capture index -> notes
  std::map<std::string, uint32_t> interface_ids_;
  const TraceTopology* topology_ = nullptr;
};

}  // namespace

std::unique_ptr<TraceExporter> make_pcapng_exporter(std::ostream& out, PcapngCapture capture) {
  return std::make_unique<PcapngExporter>(out, capture);
}

}  // namespace netsim
