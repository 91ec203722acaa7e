#include "viz/export_dot.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <ostream>
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

// Address history, kept per interface (kMaxChangeRows rows and a count of the rest), and the
// whole graph written at finish(): the state is bounded by the topology.
class DotExporter : public TraceExporter {
 public:
  explicit DotExporter(std::ostream& out) : out_(out) {}

  void start(const TraceReader&) override {}

  void emit(const json& e, uint64_t) override {
    std::string kind = str_field(e, "event");
    if (kind != "address_added" && kind != "address_removed") return;
    History& h = history_[std::make_pair(str_field(e, "host"), str_field(e, "interface"))];
    if (kind == "address_removed" && h.removed.size() < kMaxChangeRows) {
      h.removed.push_back(str_field(e, "address"));
    }
    if (h.rows.size() >= kMaxChangeRows) {
      ++h.more;
      return;
    }
    h.rows.push_back(std::string("<I>") + (kind == "address_added" ? "+" : "-") +
                     html_text(str_field(e, "address")) + " at " +
                     format_time(int_field(e, "t")) + "</I>");
  }

  void finish(const TraceReader& trace) override { out_ << graph(trace); }

  size_t held() const override {
    size_t n = 0;
    for (const auto& [key, h] : history_) n += 1 + h.rows.size() + h.removed.size();
    return n;
  }

 private:
  struct History {
    std::vector<std::string> rows;     // "+10.0.1.2/24 at 60ms", in order
    std::vector<std::string> removed;  // addresses removed (struck through)
    size_t more = 0;                   // changes past kMaxChangeRows
  };

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
        for (const auto& a : iface.addresses) {
          bool gone = std::find(h.removed.begin(), h.removed.end(), a) != h.removed.end();
          cell += "<BR/>" + (gone ? "<S>" + html_text(a) + "</S>" : html_text(a));
        }
        for (const auto& c : h.rows) cell += "<BR/>" + c;
        if (h.more > 0) cell += "<BR/><I>" + std::to_string(h.more) + " more changes</I>";
        t += "<TR><TD PORT=\"" + port_id(iface.name) + "\" ALIGN=\"LEFT\" BALIGN=\"LEFT\"" +
             (iface.up ? "" : " BGCOLOR=\"#eeeeee\"") + ">" + cell + "</TD></TR>";
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
};

}  // namespace

std::unique_ptr<TraceExporter> make_dot_exporter(std::ostream& out) {
  return std::make_unique<DotExporter>(out);
}

}  // namespace netsim
