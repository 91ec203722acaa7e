#include "viz/export_dot.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "viz/export_trace_view.h"

namespace netsim {

namespace {

using exporting::format_time;
using exporting::int_field;
using exporting::str_field;
using nlohmann::json;

// A DOT string: quotes and backslashes escaped, control characters (a newline in a name) spaces.
std::string quoted(const std::string& s) {
  std::string o = "\"";
  for (char c : exporting::one_line(s)) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

// Text in an HTML-like label, on one line.
std::string html_text(const std::string& s) { return exporting::xml_escape(exporting::one_line(s)); }

std::string rate(int64_t bps) {
  char buf[32];
  if (bps % 1000000000 == 0) {
    std::snprintf(buf, sizeof buf, "%lld Gbps", static_cast<long long>(bps / 1000000000));
  } else if (bps % 1000000 == 0) {
    std::snprintf(buf, sizeof buf, "%lld Mbps", static_cast<long long>(bps / 1000000));
  } else if (bps % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "%lld kbps", static_cast<long long>(bps / 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%lld bps", static_cast<long long>(bps));
  }
  return buf;
}

// An interface's port in its host's table: the name where it is letters, digits and "_-.",
// else each other byte as %XX (safe both in the HTML-like label and in a DOT string; '%' is not
// a name character, so two names never share a port).
std::string port_id(const std::string& name) {
  std::string o;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') {
      o += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      o += buf;
    }
  }
  return o;
}

// A link end "host.eth0" -> "host":"eth0", split where a known host has that interface (a host
// name may hold a '.'); else at the first '.'.
std::string port_of(const TraceTopology& topology, const std::string& endpoint) {
  for (size_t dot = endpoint.find('.'); dot != std::string::npos; dot = endpoint.find('.', dot + 1)) {
    auto host = topology.hosts.find(endpoint.substr(0, dot));
    if (host == topology.hosts.end()) continue;
    for (const auto& i : host->second.interfaces) {
      if (i.name == endpoint.substr(dot + 1)) return quoted(host->first) + ":" + quoted(port_id(i.name));
    }
  }
  auto dot = endpoint.find('.');
  if (dot == std::string::npos) return quoted(endpoint);
  return quoted(endpoint.substr(0, dot)) + ":" + quoted(port_id(endpoint.substr(dot + 1)));
}

constexpr size_t kMaxChangeRows = 32;  // address changes listed per interface
constexpr size_t kMaxRouteRows = 32;   // routes used listed per host
constexpr size_t kMaxPrefixCache = 4096;

// An address or prefix as bytes: "10.0.1.2/24" -> 4 bytes and 24; "fd00::1" -> 16 bytes, 128.
struct Prefix {
  std::string bytes;
  int length = 0;
};
std::optional<Prefix> parse_prefix(const std::string& text) {
  size_t slash = text.find('/');
  std::string address = text.substr(0, slash);
  std::array<unsigned char, 16> buf{};
  Prefix p;
  if (inet_pton(AF_INET, address.c_str(), buf.data()) == 1) {
    p.bytes.assign(reinterpret_cast<const char*>(buf.data()), 4);
  } else if (inet_pton(AF_INET6, address.c_str(), buf.data()) == 1) {
    p.bytes.assign(reinterpret_cast<const char*>(buf.data()), 16);
  } else {
    return std::nullopt;
  }
  int max = static_cast<int>(p.bytes.size()) * 8;
  p.length = slash == std::string::npos ? max : std::clamp(std::atoi(text.c_str() + slash + 1), 0, max);
  return p;
}
bool contains(const Prefix& net, const Prefix& address) {
  if (net.bytes.size() != address.bytes.size()) return false;
  for (int bit = 0; bit < net.length; ++bit) {
    int mask = 0x80 >> (bit % 8);
    if ((net.bytes[bit / 8] & mask) != (address.bytes[bit / 8] & mask)) return false;
  }
  return true;
}
// "10.0.1.2/24" -> "10.0.1.0/24".
std::string network_of(const Prefix& p) {
  std::string b = p.bytes;
  for (int bit = p.length; bit < static_cast<int>(b.size()) * 8; ++bit) b[bit / 8] &= ~(0x80 >> (bit % 8));
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(b.size() == 4 ? AF_INET : AF_INET6, b.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(p.length);
}

// Address history, kept per interface (kMaxChangeRows rows and a count of the rest), the routes
// packets took out of each host (destination prefix -> interface, from its tx events: the trace
// holds no routing tables), and the whole graph written at finish(): the state is bounded by the
// topology.
class DotExporter : public TraceExporter {
 public:
  explicit DotExporter(std::ostream& out) : out_(out) {}

  void start(const TraceReader& trace) override {
    for (const auto& [name, host] : trace.topology().hosts) {
      for (const auto& iface : host.interfaces) {
        for (const auto& a : iface.addresses) {
          if (auto p = parse_prefix(a)) prefixes_.push_back(*p);
        }
      }
    }
  }

  void emit(const json& e, uint64_t) override {
    std::string kind = str_field(e, "event");
    if (kind == "tx" && e.contains("packet") && e["packet"].is_object()) {
      note_route(str_field(e, "host"), str_field(e, "interface"), e["packet"]);
      return;
    }
    if (kind != "address_added" && kind != "address_removed") return;
    History& h = history_[std::make_pair(str_field(e, "host"), str_field(e, "interface"))];
    std::string address = str_field(e, "address");
    // The configuration the run starts from (no step made it): listed as the interface's own.
    if (!e.contains("step") && kind == "address_added") {
      if (std::find(h.configured.begin(), h.configured.end(), address) == h.configured.end() &&
          h.configured.size() < kMaxChangeRows) {
        h.configured.push_back(address);
      }
      return;
    }
    if (kind == "address_removed" && h.removed.size() < kMaxChangeRows) h.removed.push_back(address);
    if (h.rows.size() >= kMaxChangeRows) {
      ++h.more;
      return;
    }
    h.rows.push_back(std::string("<I>") + (kind == "address_added" ? "+" : "-") + html_text(address) +
                     " at " + format_time(int_field(e, "t")) + "</I>");
  }

  void finish(const TraceReader& trace) override { out_ << graph(trace); }

  size_t held() const override {
    size_t n = prefix_cache_.size() + routes_.size();
    for (const auto& [key, h] : history_) n += 1 + h.rows.size() + h.removed.size() + h.configured.size();
    return n;
  }

 private:
  struct History {
    std::vector<std::string> configured;  // addresses of the starting configuration
    std::vector<std::string> rows;        // "+10.0.1.2/24 at 60ms", in order
    std::vector<std::string> removed;     // addresses removed (struck through)
    size_t more = 0;                      // changes past kMaxChangeRows
  };
  struct Routes {
    std::map<std::string, std::set<std::string>> by_prefix;  // destination prefix -> interfaces
    size_t more = 0;                                          // prefixes past kMaxRouteRows
  };

  // The destination prefix of a packet: the longest topology prefix holding its destination
  // address, else the address itself.
  std::string destination_prefix(const std::string& address) {
    if (auto it = prefix_cache_.find(address); it != prefix_cache_.end()) return it->second;
    std::string result = address;
    if (auto a = parse_prefix(address)) {
      const Prefix* best = nullptr;
      for (const Prefix& p : prefixes_) {
        if (contains(p, *a) && (!best || p.length > best->length)) best = &p;
      }
      result = best ? network_of(*best) : network_of(*a);
    }
    if (prefix_cache_.size() < kMaxPrefixCache) prefix_cache_[address] = result;
    return result;
  }
  void note_route(const std::string& host, const std::string& iface, const json& packet) {
    std::string prefix = destination_prefix(exporting::parse_endpoint(str_field(packet, "dst")).address);
    Routes& r = routes_[host];
    auto it = r.by_prefix.find(prefix);
    if (it == r.by_prefix.end()) {
      if (r.by_prefix.size() >= kMaxRouteRows) {
        ++r.more;
        return;
      }
      it = r.by_prefix.emplace(prefix, std::set<std::string>{}).first;
    }
    if (it->second.size() < kMaxRouteRows) it->second.insert(iface);
  }
  // The hosts at the other end(s) of the link on host.iface.
  static std::string next_hops(const TraceTopology& topology, const std::string& host, const std::string& iface) {
    std::string end = host + "." + iface, hops;
    for (const auto& link : topology.links) {
      if (std::find(link.between.begin(), link.between.end(), end) == link.between.end()) continue;
      for (const auto& other : link.between) {
        if (other == end) continue;
        hops += (hops.empty() ? "" : ", ") + other.substr(0, other.rfind('.'));
      }
    }
    return hops;
  }

  std::string graph(const TraceReader& trace) {
    const std::string scenario = trace.scenario();
    std::string out = "// netsim topology of scenario " + exporting::one_line(scenario) +
                      "; render with: dot -Tsvg topology.dot -o topology.svg\n";
    out += "graph netsim {\n";
    out += "  graph [rankdir=LR, fontname=\"Helvetica\", label=" +
           quoted("scenario " + scenario + " (policy " +
                  str_field(trace.header(), "policy", "seed") + ", seed " +
                  std::to_string(int_field(trace.header(), "seed")) + ")") +
           ", labelloc=t];\n";
    out += "  node [shape=plain, fontname=\"Helvetica\", fontsize=10];\n";
    out += "  edge [fontname=\"Helvetica\", fontsize=9];\n";
    for (const auto& [name, host] : trace.topology().hosts) {
      std::string color = host.forwarding ? "#fde9c8" : "#dbe8fb";
      std::string t = "<TABLE BORDER=\"1\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"3\">";
      t += "<TR><TD BGCOLOR=\"" + color + "\"><B>" + html_text(host.name) + "</B>" +
           (host.forwarding ? " (router)" : "") + "</TD></TR>";
      for (const auto& iface : host.interfaces) {
        const History& h = history_[std::make_pair(host.name, iface.name)];
        std::string cell = "<B>" + html_text(iface.name) + "</B>";
        if (!iface.up) cell += " (down)";
        if (iface.mtu != 1500) cell += " mtu " + std::to_string(iface.mtu);
        std::vector<std::string> addresses = iface.addresses;
        for (const auto& a : h.configured) {
          if (std::find(addresses.begin(), addresses.end(), a) == addresses.end()) addresses.push_back(a);
        }
        for (const auto& a : addresses) {
          bool gone = std::find(h.removed.begin(), h.removed.end(), a) != h.removed.end();
          cell += "<BR/>" + (gone ? "<S>" + html_text(a) + "</S>" : html_text(a));
        }
        for (const auto& c : h.rows) cell += "<BR/>" + c;
        if (h.more > 0) cell += "<BR/><I>" + std::to_string(h.more) + " more changes</I>";
        t += "<TR><TD PORT=\"" + port_id(iface.name) + "\" ALIGN=\"LEFT\" BALIGN=\"LEFT\"" +
             (iface.up ? "" : " BGCOLOR=\"#eeeeee\"") + ">" + cell + "</TD></TR>";
      }
      if (auto r = routes_.find(host.name); r != routes_.end()) {
        std::string cell = "<I>routes used</I>";
        for (const auto& [prefix, ifaces] : r->second.by_prefix) {
          for (const auto& iface : ifaces) {
            std::string hops = next_hops(trace.topology(), host.name, iface);
            cell += "<BR/>" + html_text(prefix) + " &#8594; " + html_text(iface) +
                    (hops.empty() ? "" : " (" + html_text(hops) + ")");
          }
        }
        if (r->second.more > 0) cell += "<BR/><I>" + std::to_string(r->second.more) + " more</I>";
        t += "<TR><TD ALIGN=\"LEFT\" BALIGN=\"LEFT\" BGCOLOR=\"#f4f4f4\">" + cell + "</TD></TR>";
      }
      t += "</TABLE>";
      out += "  " + quoted(host.name) + " [label=<" + t + ">];\n";
    }
    for (const auto& link : trace.topology().links) {
      std::string label = quoted(link.name);  // an open DOT string; "\\n" breaks lines
      label.pop_back();
      if (link.latency_ns) label += "\\n" + format_time(*link.latency_ns);
      label += link.bandwidth_bps ? ", " + rate(*link.bandwidth_bps) : ", unlimited";
      if (link.loss && *link.loss > 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, ", loss %g%%", *link.loss * 100);
        label += buf;
      }
      if (link.queue) label += "\\nqueue " + std::to_string(*link.queue);
      if (link.mtu && *link.mtu != 1500) label += ", mtu " + std::to_string(*link.mtu);
      std::string l = label + "\"";
      if (link.between.size() == 2) {
        out += "  " + port_of(trace.topology(), link.between[0]) + " -- " + port_of(trace.topology(), link.between[1]) +
               " [label=" + l + "];\n";
      } else {
        std::string hub = quoted("segment " + link.name);
        out += "  " + hub + " [shape=ellipse, style=filled, fillcolor=\"#eeeeee\", label=" + l +
               "];\n";
        for (const auto& b : link.between) out += "  " + port_of(trace.topology(), b) + " -- " + hub + ";\n";
      }
    }
    out += "}\n";
    return out;
  }

  std::ostream& out_;
  std::map<std::pair<std::string, std::string>, History> history_;  // (host, interface)
  std::map<std::string, Routes> routes_;                             // by host
  std::vector<Prefix> prefixes_;                                     // every address's prefix
  std::map<std::string, std::string> prefix_cache_;                  // address -> its prefix
};

}  // namespace

std::unique_ptr<TraceExporter> make_dot_exporter(std::ostream& out) {
  return std::make_unique<DotExporter>(out);
}

}  // namespace netsim
