#include "viz/trace_reader.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>

namespace netsim {

namespace {

using nlohmann::json;

constexpr size_t kChunk = 64 * 1024;
constexpr int64_t kMaxId = int64_t{1} << 53;  // exact in a double: what a browser can read

// The deepest nesting of objects and arrays in a JSON text (strings skipped). nlohmann's parser
// and destructor recurse; a line of a million '[' must not reach them.
int nesting(const std::string& text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

bool is_ip(const std::string& text, bool* v6 = nullptr) {
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, text.c_str(), buf.data()) == 1) {
    if (v6) *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), buf.data()) == 1) {
    if (v6) *v6 = true;
    return true;
  }
  return false;
}

// "10.0.0.1:80", "[fd00::1]:80", or an address alone. Empty string when fine, else what is wrong.
std::string endpoint_problem(const std::string& text) {
  std::string address = text, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return "has '[' without ']'";
    address = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return "has text after ']'";
      port = text.substr(close + 2);
      if (port.empty()) return "has an empty port";
    }
    bool v6 = false;
    if (!is_ip(address, &v6) || !v6) return "is not an IPv6 address in brackets";
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    auto colon = text.find(':');
    address = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) return "has an empty port";
    bool v6 = true;
    if (!is_ip(address, &v6) || v6) return "is not an IPv4 address";
  } else if (!is_ip(address)) {
    return "is not an IP address";
  }
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(port) > 65535) {
      return "has a port outside 0..65535";
    }
  }
  return "";
}

// "10.0.0.1/24" or "fd00::1/64" (the length may be left out).
bool is_prefix(const std::string& text) {
  auto slash = text.find('/');
  bool v6 = false;
  if (!is_ip(text.substr(0, slash), &v6)) return false;
  if (slash == std::string::npos) return true;
  std::string len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return std::stoi(len) <= (v6 ? 128 : 32);
}

}  // namespace

TraceReader::TraceReader(std::istream& in, std::string name, TraceLimits limits)
    : in_(in), name_(std::move(name)), limits_(limits) {
  if (!next_object(header_, limits_.max_header_bytes)) {
    line_ = 0;
    fail("empty trace (no header line)");
  }
  check_header();
}

std::string TraceReader::scenario() const {
  auto it = header_.find("scenario");
  return it != header_.end() && it->is_string() ? it->get<std::string>() : "trace";
}

void TraceReader::fail(const std::string& what) const {
  throw TraceReadError(name_ + ":" + std::to_string(line_) + ": " + what);
}

bool TraceReader::read_line(std::string& line, size_t max_bytes) {
  line.clear();
  while (true) {
    size_t nl = buffer_.find('\n', buffer_at_);
    size_t end = nl == std::string::npos ? buffer_.size() : nl;
    if (line.size() + (end - buffer_at_) > max_bytes) {
      ++line_;
      fail("line longer than " + std::to_string(max_bytes) + " bytes");
    }
    line.append(buffer_, buffer_at_, end - buffer_at_);
    if (nl != std::string::npos) {
      buffer_at_ = nl + 1;
      ++line_;
      return true;
    }
    buffer_.clear();
    buffer_at_ = 0;
    if (eof_) {
      if (line.empty()) return false;
      ++line_;
      return true;
    }
    buffer_.resize(kChunk);
    in_.read(buffer_.data(), static_cast<std::streamsize>(kChunk));
    buffer_.resize(static_cast<size_t>(in_.gcount()));
    if (in_.bad()) fail("read error");
    if (buffer_.empty()) eof_ = true;
  }
}

bool TraceReader::next_object(json& out, size_t max_bytes) {
  std::string line;
  while (read_line(line, max_bytes)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (nesting(line) > limits_.max_depth) {
      fail("nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    try {
      out = json::parse(line);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
      std::string what = e.what();
      auto colon = what.find("] ");  // "[json.exception.parse_error.101] parse error at ..."
      fail("not JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
    }
    if (!out.is_object()) fail("not a JSON object");
    return true;
  }
  return false;
}

// ------------------------------------------------------------------ field checks

namespace {

// Checks one object's fields, naming them by JSON Pointer in errors.
class Fields {
 public:
  Fields(const json& obj, std::string where, const std::function<void(const std::string&)>& fail)
      : obj_(obj), where_(std::move(where)), fail_(fail) {}

  const json* get(const char* key) const {
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }
  std::string path(const char* key) const { return where_ + "/" + key; }

  void integer(const char* key, int64_t lo, int64_t hi, bool required = false) const {
    const json* v = get(key);
    if (!v) {
      if (required) fail_(path(key) + " is missing");
      return;
    }
    if (!v->is_number_integer()) fail_(path(key) + " must be an integer, not " + v->dump());
    bool fits;
    if (v->is_number_unsigned()) {
      uint64_t u = v->get<uint64_t>();
      fits = hi >= 0 && u <= static_cast<uint64_t>(hi) && (lo <= 0 || u >= static_cast<uint64_t>(lo));
    } else {
      int64_t s = v->get<int64_t>();
      fits = s >= lo && s <= hi;
    }
    if (!fits) {
      fail_(path(key) + " " + v->dump() + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    }
  }
  void number(const char* key, double lo, double hi) const {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_number()) fail_(path(key) + " must be a number, not " + v->dump());
    double d = v->get<double>();
    if (!(d >= lo && d <= hi)) fail_(path(key) + " " + v->dump() + " is outside its range");
  }
  void boolean(const char* key) const {
    const json* v = get(key);
    if (v && !v->is_boolean()) fail_(path(key) + " must be true or false, not " + v->dump());
  }
  const std::string* string(const char* key, bool required = false, size_t max = 65535) const {
    const json* v = get(key);
    if (!v) {
      if (required) fail_(path(key) + " is missing");
      return nullptr;
    }
    if (!v->is_string()) fail_(path(key) + " must be a string, not " + v->dump());
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > max) fail_(path(key) + " is longer than " + std::to_string(max) + " bytes");
    return &s;
  }
  void strings(const char* key, size_t max) const {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_array()) fail_(path(key) + " must be a list of strings");
    if (v->size() > max) fail_(path(key) + " has more than " + std::to_string(max) + " entries");
    for (const json& s : *v) {
      if (!s.is_string()) fail_(path(key) + " must be a list of strings, not " + v->dump());
    }
  }
  const json* object(const char* key, bool required = false) const {
    const json* v = get(key);
    if (!v) {
      if (required) fail_(path(key) + " is missing");
      return nullptr;
    }
    if (!v->is_object()) fail_(path(key) + " must be an object");
    return v;
  }

 private:
  const json& obj_;
  std::string where_;
  const std::function<void(const std::string&)>& fail_;
};

// Event fields that are text wherever they appear.
constexpr const char* kStringFields[] = {
    "host", "interface", "socket", "listener", "from", "to", "link", "reason", "match", "op",
    "result", "expected", "address", "error", "state", "pointer", "detail", "step", "local",
    "remote", "proto", "data", "how", "device"};

}  // namespace

void TraceReader::check_header() {
  const std::function<void(const std::string&)> fail = [this](const std::string& w) { this->fail(w); };
  Fields h(header_, "", fail);
  const std::string* event = h.string("event");
  const std::string* format = h.string("format");
  if (!event || *event != "header" || !format || format->rfind("netsim-trace/", 0) != 0) {
    fail("not a netsim trace header (want \"event\":\"header\",\"format\":\"netsim-trace/1\")");
  }
  h.string("scenario");
  h.string("policy");
  h.string("netsim");
  h.integer("seed", 0, INT64_MAX);
  const json* topo = h.object("topology");
  if (!topo) return;
  Fields t(*topo, "/topology", fail);
  if (const json* hosts = t.object("hosts")) {
    for (const auto& [name, host] : hosts->items()) {
      std::string where = "/topology/hosts/" + name;
      if (!host.is_object()) fail(where + " must be an object");
      Fields hf(host, where, fail);
      hf.boolean("forwarding");
      TopologyHost out{name, host.value("forwarding", false), {}};
      if (const json* ifaces = hf.object("interfaces")) {
        for (const auto& [iname, iface] : ifaces->items()) {
          std::string iwhere = where + "/interfaces/" + iname;
          if (!iface.is_object()) fail(iwhere + " must be an object");
          Fields f(iface, iwhere, fail);
          f.integer("mtu", 0, 65535);
          f.boolean("up");
          f.strings("addresses", limits_.max_list);
          TopologyInterface i{iname, {}, iface.value("mtu", int64_t{1500}), iface.value("up", true)};
          if (const json* a = f.get("addresses")) {
            for (const json& p : *a) {
              if (!is_prefix(p.get<std::string>())) fail(iwhere + "/addresses: " + p.dump() + " is not an address/length");
              i.addresses.push_back(p.get<std::string>());
            }
          }
          out.interfaces.push_back(std::move(i));
          if (++names_ > limits_.max_names) fail("more than " + std::to_string(limits_.max_names) + " hosts, interfaces and links");
        }
      }
      topology_.hosts.emplace(name, std::move(out));
      if (++names_ > limits_.max_names) fail("more than " + std::to_string(limits_.max_names) + " hosts, interfaces and links");
    }
  }
  if (const json* links = t.get("links")) {
    if (!links->is_array()) fail("/topology/links must be a list");
    for (size_t index = 0; index < links->size(); ++index) {
      const json& l = (*links)[index];
      std::string where = "/topology/links/" + std::to_string(index);
      if (!l.is_object()) fail(where + " must be an object");
      Fields f(l, where, fail);
      const std::string* name = f.string("name");
      f.strings("between", limits_.max_list);
      f.integer("latency_ns", 0, kMaxTraceTime);
      f.integer("bandwidth_bps", 0, INT64_MAX);
      f.integer("queue", 0, INT64_MAX);
      f.integer("mtu", 0, 65535);
      f.number("loss", 0, 1);
      TopologyLink link;
      link.name = name ? *name : "link" + std::to_string(index);
      if (const json* b = f.get("between")) {
        for (const json& x : *b) link.between.push_back(x.get<std::string>());
      }
      if (f.get("latency_ns")) link.latency_ns = l["latency_ns"].get<int64_t>();
      if (f.get("bandwidth_bps")) link.bandwidth_bps = l["bandwidth_bps"].get<int64_t>();
      if (f.get("queue")) link.queue = l["queue"].get<int64_t>();
      if (f.get("mtu")) link.mtu = l["mtu"].get<int64_t>();
      if (f.get("loss")) link.loss = l["loss"].get<double>();
      topology_.links.push_back(std::move(link));
      if (++names_ > limits_.max_names) fail("more than " + std::to_string(limits_.max_names) + " hosts, interfaces and links");
    }
  }
}

void TraceReader::check_packet(const json& p, const std::string& where, int depth) {
  const std::function<void(const std::string&)> fail = [this](const std::string& w) { this->fail(w); };
  Fields f(p, where, fail);
  f.integer("id", 0, kMaxId, true);
  const std::string* proto = f.string("proto", true);
  if (*proto != "tcp" && *proto != "udp" && *proto != "icmp") {
    fail(where + "/proto \"" + *proto + "\" is not tcp, udp or icmp");
  }
  for (const char* key : {"src", "dst"}) {
    const std::string* ep = f.string(key, true, 64);
    std::string problem = endpoint_problem(*ep);
    if (!problem.empty()) fail(f.path(key) + " \"" + *ep + "\" " + problem);
  }
  f.integer("len", 0, kMaxPacketLen);
  f.integer("ttl", 0, 255);
  if (*proto == "tcp") {
    f.integer("seq", 0, UINT32_MAX);
    f.integer("ack", 0, UINT32_MAX);
    f.integer("window", 0, int64_t{1} << 30);  // scaled (RFC 7323: at most 2^30)
    f.integer("mss", 0, 65535);
    f.integer("wscale", 0, 14);
    f.integer("ts_val", 0, UINT32_MAX);
    f.integer("ts_ecr", 0, UINT32_MAX);
    f.boolean("sack_ok");
    if (const json* sack = f.get("sack")) {
      bool ok = sack->is_array() && !sack->empty() && sack->size() <= 4;
      for (size_t i = 0; ok && i < sack->size(); ++i) {
        const json& b = (*sack)[i];
        ok = b.is_array() && b.size() == 2 && b[0].is_number_unsigned() && b[1].is_number_unsigned() &&
             b[0].get<uint64_t>() <= UINT32_MAX && b[1].get<uint64_t>() <= UINT32_MAX;
      }
      if (!ok) fail(where + "/sack must hold 1 to 4 blocks [left, right] of 32-bit numbers, not " + sack->dump());
    }
    if (const std::string* flags = f.string("flags", false, 8)) {
      if (flags->find_first_not_of("FSRPAUEW") != std::string::npos) {
        fail(where + "/flags \"" + *flags + "\" has a letter other than FSRPAUEW");
      }
    }
  } else if (*proto == "icmp") {
    f.string("type", false, 64);
    for (const char* key : {"seq", "ident", "identifier"}) f.integer(key, 0, 65535);
    if (const json* inner = f.object("inner")) {
      if (depth >= 2) fail(where + "/inner is nested too deep");
      check_packet(*inner, where + "/inner", depth + 1);
    }
  }
}

void TraceReader::check_event(const json& e) {
  const std::function<void(const std::string&)> fail = [this](const std::string& w) { this->fail(w); };
  Fields f(e, "", fail);
  const std::string* kind = f.string("event", true, 64);
  f.integer("seq", 0, kMaxId, true);
  f.integer("t", 0, kMaxTraceTime, true);
  int64_t seq = e["seq"].get<int64_t>(), t = e["t"].get<int64_t>();
  if (seq <= last_seq_) fail("/seq " + std::to_string(seq) + " does not follow " + std::to_string(last_seq_));
  if (t < last_t_) fail("/t " + std::to_string(t) + " is before the previous event's " + std::to_string(last_t_));
  last_seq_ = seq;
  last_t_ = t;
  f.integer("cause", 0, seq);
  if (const json* c = f.get("cause"); c && c->get<int64_t>() == seq) fail("/cause is the event itself");
  f.integer("size", 0, kMaxId);
  for (const char* key : kStringFields) f.string(key);
  f.strings("shadowed", limits_.max_list);
  f.strings("outranked", limits_.max_list);
  f.strings("group", limits_.max_list);
  // The kinds about a packet carry it (docs/trace-format.md, "Event kinds").
  bool about_packet = *kind == "tx" || *kind == "rx" || *kind == "forward" || *kind == "drop" || *kind == "deliver";
  if (const json* p = f.object("packet", about_packet)) check_packet(*p, "/packet", 0);
  if (*kind == "tx" || *kind == "rx") f.string("interface", true);
  if (*kind == "header") fail("a second header");
  if (*kind == "socket") check_socket(e);

  std::string host = e.value("host", "");
  if (host.empty()) return;
  note_name(host, e.value("interface", ""));
  if (*kind == "forward") {
    note_name(host, e.value("from", ""));
    note_name(host, e.value("to", ""));
  }
}

// The lifecycle record (an extension): a socket's name, how it came to be and its key, which
// the exports read as facts.
void TraceReader::check_socket(const json& e) {
  const std::function<void(const std::string&)> fail = [this](const std::string& w) { this->fail(w); };
  Fields f(e, "", fail);
  f.string("socket", true);
  f.string("host", true);
  const std::string* how = f.string("how", true, 64);
  if (*how != "listen" && *how != "connect" && *how != "child")
    fail("/how \"" + *how + "\" is not listen, connect or child");
  const std::string* proto = f.string("proto", true, 64);
  if (*proto != "tcp" && *proto != "udp") fail("/proto \"" + *proto + "\" is not tcp or udp");
  if (*how == "child") f.string("listener", true);
  if (*how == "listen") {
    f.integer("port", 0, 65535, true);
    if (!f.get("addresses")) fail("/addresses is missing");
    f.strings("addresses", limits_.max_list);
    for (const json& a : *f.get("addresses"))
      if (!is_ip(a.get<std::string>())) fail("/addresses: " + a.dump() + " is not an IP address");
    return;
  }
  for (const char* key : {"local", "remote"}) {
    const std::string* ep = f.string(key, true, 64);
    std::string problem = endpoint_problem(*ep);
    const bool port = ep->find("]:") != std::string::npos || std::count(ep->begin(), ep->end(), ':') == 1;
    if (problem.empty() && !port) problem = "has no port";
    if (!problem.empty()) fail(f.path(key) + " \"" + *ep + "\" " + problem);
  }
}

// A host or interface an event names joins the topology (sorted), within the names limit.
void TraceReader::note_name(const std::string& host, const std::string& interface) {
  auto it = topology_.hosts.find(host);
  if (it == topology_.hosts.end()) {
    if (++names_ > limits_.max_names) fail("more than " + std::to_string(limits_.max_names) + " hosts, interfaces and links");
    it = topology_.hosts.emplace(host, TopologyHost{host, false, {}}).first;
  }
  if (interface.empty()) return;
  auto& ifaces = it->second.interfaces;
  auto at = std::lower_bound(ifaces.begin(), ifaces.end(), interface,
                             [](const TopologyInterface& i, const std::string& n) { return i.name < n; });
  if (at != ifaces.end() && at->name == interface) return;
  if (++names_ > limits_.max_names) fail("more than " + std::to_string(limits_.max_names) + " hosts, interfaces and links");
  ifaces.insert(at, TopologyInterface{interface, {}, 1500, true});
}

void TraceReader::check_summary(const json& s) {
  const std::function<void(const std::string&)> fail = [this](const std::string& w) { this->fail(w); };
  Fields f(s, "", fail);
  f.integer("events", 0, kMaxId);
  f.integer("t", 0, kMaxTraceTime);
  f.string("fingerprint", false, 256);
}

bool TraceReader::next(json& event) {
  if (summary_) return false;
  if (!next_object(event, limits_.max_line_bytes)) return false;
  if (event.value("event", json()) == "summary") {
    check_summary(event);
    summary_ = std::move(event);
    json extra;
    if (next_object(extra, limits_.max_line_bytes)) fail("a line after the summary");
    return false;
  }
  check_event(event);
  return true;
}

}  // namespace netsim
