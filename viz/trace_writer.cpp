#include "viz/trace_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

namespace netsim {
namespace {

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  return n;
}

// The fields of one JSON object, rendered into one buffer and written out in
// sorted key order. Reused from event to event: no allocation in steady state.
class ObjectBuilder {
 public:
  void reset() {
    fields_.clear();
    buf_.clear();
  }
  // `key` must outlive the builder's use (string literals).
  void add_string(std::string_view key, std::string_view v) {
    size_t b = buf_.size();
    append_json_string(buf_, v);
    fields_.push_back({key, b, buf_.size()});
  }
  void add_int(std::string_view key, int64_t v) {
    size_t b = buf_.size();
    append_int(buf_, v);
    fields_.push_back({key, b, buf_.size()});
  }
  void add_uint(std::string_view key, uint64_t v) {
    size_t b = buf_.size();
    append_uint(buf_, v);
    fields_.push_back({key, b, buf_.size()});
  }
  // `json` is already valid JSON text.
  void add_raw(std::string_view key, std::string_view json) {
    size_t b = buf_.size();
    buf_.append(json);
    fields_.push_back({key, b, buf_.size()});
  }
  // Appends `{"k":v,...}` with keys in byte order (what nlohmann's std::map gives).
  void write_to(std::string& out) {
    std::sort(fields_.begin(), fields_.end(),
              [](const Field& a, const Field& b) { return a.key < b.key; });
    out.push_back('{');
    bool first = true;
    for (const Field& f : fields_) {
      if (!first) out.push_back(',');
      first = false;
      out.push_back('"');
      out.append(f.key);  // keys are plain ASCII identifiers
      out.append("\":");
      out.append(buf_, f.begin, f.end - f.begin);
    }
    out.push_back('}');
  }

 private:
  struct Field {
    std::string_view key;
    size_t begin, end;
  };
  std::vector<Field> fields_;
  std::string buf_;
};

std::string_view icmp_type_name(IcmpType t) {
  switch (t) {
    case IcmpType::kEchoRequest: return "echo_request";
    case IcmpType::kEchoReply: return "echo_reply";
    case IcmpType::kPortUnreachable: return "port_unreachable";
    case IcmpType::kTimeExceeded: return "time_exceeded";
  }
  return "?";
}

std::string_view proto_name(IpProto p) {
  switch (p) {
    case IpProto::kIcmp: return "icmp";
    case IpProto::kUdp: return "udp";
    case IpProto::kTcp: return "tcp";
  }
  return "?";
}

void append_address(std::string& out, const IpAddr& a, Port port, bool with_port) {
  out.push_back('"');
  if (a.is_v4()) {  // the common case, without IpAddr::to_string's snprintf
    const auto& b = a.bytes();
    for (int i = 0; i < 4; ++i) {
      if (i) out.push_back('.');
      append_uint(out, b[i]);
    }
  } else {
    if (with_port) out.push_back('[');
    out.append(a.to_string());
    if (with_port) out.push_back(']');
  }
  if (with_port) {
    out.push_back(':');
    append_uint(out, port);
  }
  out.push_back('"');
}

void append_tcp_flags(std::string& out, uint8_t flags) {
  // tcpdump's letters, in a fixed order: F S R P A.
  static constexpr std::pair<uint8_t, char> kOrder[] = {{tcp_flags::kFin, 'F'},
                                                        {tcp_flags::kSyn, 'S'},
                                                        {tcp_flags::kRst, 'R'},
                                                        {tcp_flags::kPsh, 'P'},
                                                        {tcp_flags::kAck, 'A'}};
  out.push_back('"');
  for (auto [bit, letter] : kOrder)
    if (flags & bit) out.push_back(letter);
  out.push_back('"');
}

constexpr int kMaxInnerDepth = 4;

// Keys written in sorted order by hand: ack dst flags id inner len mss proto seq src ttl
// type window.
void append_packet(std::string& out, const Packet& p, int depth) {
  const bool tcp = p.proto == IpProto::kTcp;
  const bool icmp = p.proto == IpProto::kIcmp;
  const bool echo =
      icmp && (p.icmp_type == IcmpType::kEchoRequest || p.icmp_type == IcmpType::kEchoReply);
  out.push_back('{');
  if (tcp) {
    out.append("\"ack\":");
    append_uint(out, p.tcp.ack);
    out.push_back(',');
  }
  out.append("\"dst\":");
  append_address(out, p.dst, p.dport, !icmp);
  if (tcp) {
    out.append(",\"flags\":");
    append_tcp_flags(out, p.tcp.flags);
  }
  out.append(",\"id\":");
  append_uint(out, p.id);
  if (icmp && p.inner && depth < kMaxInnerDepth) {
    out.append(",\"inner\":");
    append_packet(out, *p.inner, depth + 1);
  }
  out.append(",\"len\":");
  append_uint(out, p.payload.size());
  if (tcp && p.tcp.mss) {
    out.append(",\"mss\":");
    append_uint(out, p.tcp.mss);
  }
  out.append(",\"proto\":\"");
  out.append(proto_name(p.proto));
  out.push_back('"');
  if (tcp) {
    out.append(",\"seq\":");
    append_uint(out, p.tcp.seq);
  } else if (echo) {
    out.append(",\"seq\":");
    append_uint(out, p.dport);
  }
  out.append(",\"src\":");
  append_address(out, p.src, p.sport, !icmp);
  out.append(",\"ttl\":");
  append_uint(out, p.ttl);
  if (icmp) {
    out.append(",\"type\":\"");
    out.append(icmp_type_name(p.icmp_type));
    out.push_back('"');
  }
  if (tcp) {
    out.append(",\"window\":");
    append_uint(out, p.tcp.window);
  }
  out.push_back('}');
}

// `data` if the payload is short valid UTF-8, else `size`.
void add_payload(ObjectBuilder& b, std::string_view payload) {
  if (payload.size() <= TraceWriter::kMaxInlineData && is_valid_utf8(payload))
    b.add_string("data", payload);
  else
    b.add_uint("size", payload.size());
}

}  // namespace

struct TraceWriter::Scratch {
  ObjectBuilder event;
  std::string packet;
  std::string line;
};

TraceWriter::TraceWriter(const TraceHeader& header) : scratch_(std::make_unique<Scratch>()) {
  text_.reserve(1 << 16);
  nlohmann::json h = nlohmann::json::object();
  h["event"] = "header";
  h["format"] = "netsim-trace/1";
  h["netsim"] = header.netsim_version;
  h["policy"] = header.policy;
  h["scenario"] = header.scenario;
  h["scenario_sha256"] = header.scenario_sha256;
  h["seed"] = header.seed;
  if (!header.topology.is_null()) h["topology"] = header.topology;
  std::string line = h.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text_.append(line);
  text_.push_back('\n');
  hash_.update(text_);
  events_end_ = text_.size();
}

TraceWriter::~TraceWriter() = default;

void TraceWriter::set_clock(std::function<SimTime()> now) { clock_ = std::move(now); }

void TraceWriter::set_context(int64_t cause, std::string step_pointer) {
  context_cause_ = cause;
  context_step_ = std::move(step_pointer);
}

void TraceWriter::clear_context() {
  context_cause_ = -1;
  context_step_.clear();
}

SimTime TraceWriter::now() const { return clock_ ? clock_() : SimTime{}; }

void TraceWriter::append_line(std::string_view kind, std::string_view line) {
  size_t start = text_.size();
  line_start_.push_back(start);
  kinds_.push_back(kind);
  text_.append(line);
  text_.push_back('\n');
  hash_.update(std::string_view(text_).substr(start));
  events_end_ = text_.size();
}

int64_t TraceWriter::emit(const TraceRecord& r) {
  assert(!finished_ && "emit after finish");
  if (finished_) return -1;  // the summary is the last line
  if (!wants(r.kind)) return -1;
  const int64_t seq = static_cast<int64_t>(line_start_.size());
  const SimTime t = now();
  last_t_ = t;
  ObjectBuilder& b = scratch_->event;
  b.reset();
  b.add_string("event", to_string(r.kind));
  b.add_int("seq", seq);
  b.add_int("t", t.ns);
  if (!r.host.empty()) b.add_string("host", r.host);
  const int64_t cause = r.cause >= 0 ? r.cause : context_cause_;
  if (cause >= 0) b.add_int("cause", cause);
  if (!context_step_.empty()) b.add_string("step", context_step_);

  auto add_packet = [&] {
    if (!r.packet) return;
    std::string& p = scratch_->packet;
    p.clear();
    append_packet(p, *r.packet, 0);
    b.add_raw("packet", p);
  };
  auto add_socket = [&] {
    if (!r.socket.empty()) b.add_string("socket", r.socket);
  };
  auto add_ends = [&] {
    if (r.local) b.add_string("local", r.local->to_string());
    if (r.remote) b.add_string("remote", r.remote->to_string());
  };
  auto add_error = [&] {
    if (r.error) b.add_string("error", to_string(*r.error));
  };

  switch (r.kind) {
    case TraceKind::kStep:
      b.add_string("op", r.op);
      add_socket();
      b.add_string("result", r.result ? to_string(*r.result) : std::string_view("ok"));
      if (r.expected) b.add_string("expected", to_string(*r.expected));
      if (!r.proto.empty()) b.add_string("proto", r.proto);
      if (r.port) b.add_uint("port", *r.port);
      if (r.port) {  // a listener: its addresses, [] for a wildcard
        std::string list = "[";
        for (const IpAddr& a : r.addresses) {
          if (list.size() > 1) list += ',';
          append_json_string(list, a.to_string());
        }
        b.add_raw("addresses", list + "]");
      }
      if (!r.device.empty()) b.add_string("device", r.device);
      add_ends();
      break;
    case TraceKind::kTx:
    case TraceKind::kRx:
      b.add_string("interface", r.interface);
      add_packet();
      break;
    case TraceKind::kForward:
      b.add_string("from", r.from);
      b.add_string("to", r.to);
      add_packet();
      break;
    case TraceKind::kDrop:
      add_packet();
      if (r.reason) b.add_string("reason", to_string(*r.reason));
      if (!r.interface.empty()) b.add_string("interface", r.interface);
      if (!r.link.empty()) b.add_string("link", r.link);
      break;
    case TraceKind::kDeliver: {
      add_socket();
      std::string_view proto = r.proto;
      if (proto.empty() && r.packet) proto = proto_name(r.packet->proto);
      b.add_string("proto", proto);
      add_packet();
      if (r.match) b.add_string("match", to_string(*r.match));
      std::vector<std::string> shadowed = r.shadowed;
      std::sort(shadowed.begin(), shadowed.end());
      std::string& list = scratch_->line;
      list.assign("[");
      for (size_t i = 0; i < shadowed.size(); ++i) {
        if (i) list.push_back(',');
        append_json_string(list, shadowed[i]);
      }
      list.push_back(']');
      b.add_raw("shadowed", list);
      if (r.data) {
        if (!(r.data->empty() && proto == "tcp")) add_payload(b, *r.data);
      } else if (r.size) {
        if (!(*r.size == 0 && proto == "tcp")) b.add_uint("size", *r.size);
      } else if (r.packet) {
        if (!(r.packet->payload.empty() && proto == "tcp")) add_payload(b, r.packet->payload);
      }
      break;
    }
    case TraceKind::kAccept:
      b.add_string("listener", r.listener);
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
        add_payload(b, *r.data);
      else
        b.add_uint("size", r.size.value_or(0));
      break;
    case TraceKind::kSever:
    case TraceKind::kError:
      add_socket();
      add_error();
      break;
    case TraceKind::kClose:
      add_socket();
      if (!r.state.empty()) b.add_string("state", r.state);
      break;
    case TraceKind::kAddressAdded:
    case TraceKind::kAddressRemoved:
      b.add_string("interface", r.interface);
      if (r.address) b.add_string("address", r.address->to_string());
      break;
    case TraceKind::kInterfaceDown:
    case TraceKind::kInterfaceUp: b.add_string("interface", r.interface); break;
    case TraceKind::kLinkDown:
    case TraceKind::kLinkUp: b.add_string("link", r.link); break;
    case TraceKind::kPing:
      add_packet();
      if (r.rtt) b.add_int("rtt", r.rtt->ns);
      break;
    case TraceKind::kGuard:
      b.add_string("guard", r.guard);
      b.add_uint("limit", r.limit);
      b.add_uint("events", r.events);
      b.add_uint("pending", r.pending);
      if (r.in_flight) b.add_uint("in_flight", *r.in_flight);
      if (!r.link.empty()) b.add_string("link", r.link);
      if (r.link_in_flight) b.add_uint("link_in_flight", *r.link_in_flight);
      break;
  }

  std::string& line = scratch_->line;
  line.clear();
  b.write_to(line);
  append_line(to_string(r.kind), line);
  return seq;
}

void TraceWriter::append_expect(const std::string& pointer, bool pass, const std::string& detail) {
  assert(!finished_ && "append_expect after finish");
  if (finished_) return;
  const int64_t seq = static_cast<int64_t>(line_start_.size());
  const SimTime t = now();
  last_t_ = t;
  ObjectBuilder& b = scratch_->event;
  b.reset();
  b.add_string("event", "expect");
  b.add_int("seq", seq);
  b.add_int("t", t.ns);
  b.add_string("pointer", pointer);
  b.add_string("result", pass ? "pass" : "fail");
  if (!detail.empty()) b.add_string("detail", detail);
  std::string& line = scratch_->line;
  line.clear();
  b.write_to(line);
  append_line("expect", line);
}

void TraceWriter::finish(uint64_t steps_passed, uint64_t steps_failed, uint64_t exp_passed,
                         uint64_t exp_failed) {
  if (finished_) return;
  fingerprint_ = hash_.hex_digest();
  const SimTime t = clock_ ? clock_() : last_t_;
  auto pair = [](uint64_t failed, uint64_t passed) {
    std::string s = "{\"failed\":";
    append_uint(s, failed);
    s.append(",\"passed\":");
    append_uint(s, passed);
    s.push_back('}');
    return s;
  };
  ObjectBuilder& b = scratch_->event;
  b.reset();
  b.add_string("event", "summary");
  b.add_uint("events", line_start_.size());
  std::string expectations = pair(exp_failed, exp_passed);
  std::string steps = pair(steps_failed, steps_passed);
  b.add_raw("expectations", expectations);
  b.add_string("fingerprint", fingerprint_);
  b.add_raw("steps", steps);
  b.add_int("t", t.ns);
  b.write_to(text_);
  text_.push_back('\n');
  finished_ = true;
}

std::string_view TraceWriter::event_line(size_t i) const {
  size_t end = i + 1 < line_start_.size() ? line_start_[i + 1] : events_end_;
  return std::string_view(text_).substr(line_start_[i], end - line_start_[i] - 1);
}

const std::vector<nlohmann::json>& TraceWriter::events() const {
  if (parsed_.size() < line_start_.size()) {
    parsed_.reserve(line_start_.size());
    for (size_t i = parsed_.size(); i < line_start_.size(); ++i) {
      std::string_view line = event_line(i);
      parsed_.push_back(nlohmann::json::parse(line.begin(), line.end()));
    }
  }
  return parsed_;
}

std::vector<nlohmann::json> TraceWriter::parse_events(const std::vector<std::string>& kinds) const {
  std::vector<nlohmann::json> out;
  for (size_t i = 0; i < line_start_.size(); ++i) {
    if (std::find(kinds.begin(), kinds.end(), kinds_[i]) == kinds.end()) continue;
    if (i < parsed_.size()) {
      out.push_back(parsed_[i]);
    } else {
      std::string_view line = event_line(i);
      out.push_back(nlohmann::json::parse(line.begin(), line.end()));
    }
  }
  return out;
}

std::string TraceWriter::fingerprint() const {
  return finished_ ? fingerprint_ : hash_.hex_digest();
}

std::string TraceWriter::packet_json(const Packet& p) {
  std::string out;
  append_packet(out, p, 0);
  return out;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run that needs no escaping in one go.
    size_t run = i;
    while (run < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(s, i);
      if (n == 0) {
        out.append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not UTF-8
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
    ++i;
  }
  out.push_back('"');
}

bool write_file_atomically(const std::string& path, std::string_view content, std::string* error) {
  namespace fs = std::filesystem;
  auto fail = [&](const std::string& what, int err) {
    if (error) *error = what + ": " + std::strerror(err);
    return false;
  };
  fs::path target(path);
  if (target.filename().empty()) return fail(path, EISDIR);
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) return fail("cannot create a temporary file in " + dir.string(), errno);
  auto abandon = [&](const std::string& what) {
    int err = errno;
    ::close(fd);
    ::unlink(name.data());
    return fail(what, err);
  };
  // mkstemp makes the file 0600; give it the usual permissions of a new file.
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) return abandon("cannot set permissions of " + path);
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return abandon("cannot write " + path);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return abandon("cannot sync " + path);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(name.data());
    return fail("cannot close " + path, err);
  }
  if (::rename(name.data(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(name.data());
    return fail("cannot rename onto " + path, err);
  }
  // Make the rename itself durable; a failure here leaves a complete file in place.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  if (error) error->clear();
  return true;
}

}  // namespace netsim
