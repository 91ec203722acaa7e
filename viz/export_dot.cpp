#include "viz/export_dot.h"

#include <cstdio>
#include <map>

#include "viz/export_trace_view.h"

namespace netsim {

namespace {

using exporting::format_time;
using exporting::int_field;
using exporting::str_field;
using nlohmann::json;

std::string quoted(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

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

std::string port_of(const std::string& endpoint) {  // "host.eth0" -> "host":"eth0"
  auto dot = endpoint.find('.');
  if (dot == std::string::npos) return quoted(endpoint);
  return quoted(endpoint.substr(0, dot)) + ":" + quoted(endpoint.substr(dot + 1));
}

}  // namespace

std::string export_dot(const std::vector<json>& lines) {
  exporting::TraceView view(lines);
  // Address history: (host, interface) -> rows of extra text.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> changes;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> removed;
  for (const json* e : view.events()) {
    std::string kind = str_field(*e, "event");
    auto key = std::make_pair(str_field(*e, "host"), str_field(*e, "interface"));
    if (kind == "address_added") {
      changes[key].push_back("<I>+" + exporting::xml_escape(str_field(*e, "address")) + " at " +
                             format_time(int_field(*e, "t")) + "</I>");
    } else if (kind == "address_removed") {
      removed[key].push_back(str_field(*e, "address"));
      changes[key].push_back("<I>-" + exporting::xml_escape(str_field(*e, "address")) + " at " +
                             format_time(int_field(*e, "t")) + "</I>");
    }
  }

  std::string out = "// netsim topology of scenario " + view.scenario() +
                    "; render with: dot -Tsvg topology.dot -o topology.svg\n";
  out += "graph netsim {\n";
  out += "  graph [rankdir=LR, fontname=\"Helvetica\", label=" +
         quoted("scenario " + view.scenario() + " (policy " +
                str_field(view.header(), "policy", "seed") + ", seed " +
                std::to_string(int_field(view.header(), "seed")) + ")") +
         ", labelloc=t];\n";
  out += "  node [shape=plain, fontname=\"Helvetica\", fontsize=10];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  for (const auto& host : view.hosts()) {
    std::string color = host.forwarding ? "#fde9c8" : "#dbe8fb";
    std::string t = "<TABLE BORDER=\"1\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"3\">";
    t += "<TR><TD BGCOLOR=\"" + color + "\"><B>" + exporting::xml_escape(host.name) + "</B>" +
         (host.forwarding ? " (router)" : "") + "</TD></TR>";
    for (const auto& iface : host.interfaces) {
      auto key = std::make_pair(host.name, iface.name);
      std::string cell = "<B>" + exporting::xml_escape(iface.name) + "</B>";
      if (!iface.up) cell += " (down)";
      if (iface.mtu != 1500) cell += " mtu " + std::to_string(iface.mtu);
      for (const auto& a : iface.addresses) {
        bool gone = false;
        for (const auto& r : removed[key]) gone |= r == a;
        cell += "<BR/>" + (gone ? "<S>" + exporting::xml_escape(a) + "</S>" : exporting::xml_escape(a));
      }
      for (const auto& c : changes[key]) cell += "<BR/>" + c;
      t += "<TR><TD PORT=" + quoted(iface.name) + " ALIGN=\"LEFT\" BALIGN=\"LEFT\"" +
           (iface.up ? "" : " BGCOLOR=\"#eeeeee\"") + ">" + cell + "</TD></TR>";
    }
    t += "</TABLE>";
    out += "  " + quoted(host.name) + " [label=<" + t + ">];\n";
  }
  for (const auto& link : view.links()) {
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
      out += "  " + port_of(link.between[0]) + " -- " + port_of(link.between[1]) +
             " [label=" + l + "];\n";
    } else {
      std::string hub = quoted("segment " + link.name);
      out += "  " + hub + " [shape=ellipse, style=filled, fillcolor=\"#eeeeee\", label=" + l +
             "];\n";
      for (const auto& b : link.between) out += "  " + port_of(b) + " -- " + hub + ";\n";
    }
  }
  out += "}\n";
  return out;
}

}  // namespace netsim
