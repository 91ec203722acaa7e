#include "viz/export_trace_view.h"

#include <algorithm>
#include <map>

namespace netsim::exporting {

namespace {

TopologyInterface& interface_of(TopologyHost& host, const std::string& name) {
  for (auto& i : host.interfaces) {
    if (i.name == name) return i;
  }
  host.interfaces.push_back(TopologyInterface{name, {}, 1500, true});
  return host.interfaces.back();
}

}  // namespace

std::string str_field(const json& j, std::string_view key, std::string_view fallback) {
  if (!j.is_object()) return std::string(fallback);
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::string(fallback);
  return it->get<std::string>();
}

int64_t int_field(const json& j, std::string_view key, int64_t fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return fallback;
  if (it->is_number_unsigned()) return static_cast<int64_t>(it->get<uint64_t>());
  if (it->is_number_integer()) return it->get<int64_t>();
  return static_cast<int64_t>(it->get<double>());
}

TraceView::TraceView(const std::vector<json>& lines) {
  static const json kEmpty = json::object();
  header_ = lines.empty() ? &kEmpty : &lines.front();
  for (size_t i = 1; i < lines.size(); ++i) {
    if (str_field(lines[i], "event") == "summary") {
      summary_ = &lines[i];
      break;
    }
    events_.push_back(&lines[i]);
  }

  std::map<std::string, TopologyHost> hosts;
  const json* topo = nullptr;
  if (auto it = header_->find("topology"); it != header_->end() && it->is_object()) topo = &*it;
  if (topo && topo->contains("hosts") && (*topo)["hosts"].is_object()) {
    for (auto& [name, h] : (*topo)["hosts"].items()) {
      TopologyHost host{name, h.value("forwarding", false), {}};
      if (h.contains("interfaces") && h["interfaces"].is_object()) {
        for (auto& [iname, i] : h["interfaces"].items()) {
          TopologyInterface iface{iname, {}, int_field(i, "mtu", 1500), i.value("up", true)};
          if (i.contains("addresses") && i["addresses"].is_array()) {
            for (auto& a : i["addresses"]) {
              if (a.is_string()) iface.addresses.push_back(a.get<std::string>());
            }
          }
          host.interfaces.push_back(std::move(iface));
        }
      }
      hosts[name] = std::move(host);
    }
  }
  if (topo && topo->contains("links") && (*topo)["links"].is_array()) {
    int index = 0;
    for (auto& l : (*topo)["links"]) {
      TopologyLink link;
      link.name = str_field(l, "name", "link" + std::to_string(index));
      if (l.contains("between") && l["between"].is_array()) {
        for (auto& b : l["between"]) {
          if (b.is_string()) link.between.push_back(b.get<std::string>());
        }
      }
      if (l.contains("latency_ns")) link.latency_ns = int_field(l, "latency_ns");
      if (l.contains("bandwidth_bps")) link.bandwidth_bps = int_field(l, "bandwidth_bps");
      if (l.contains("queue")) link.queue = int_field(l, "queue");
      if (l.contains("mtu")) link.mtu = int_field(l, "mtu");
      if (l.contains("loss") && l["loss"].is_number()) link.loss = l["loss"].get<double>();
      links_.push_back(std::move(link));
      ++index;
    }
  }
  for (const json* e : events_) {
    std::string host = str_field(*e, "host");
    if (host.empty()) continue;
    auto [it, added] = hosts.try_emplace(host, TopologyHost{host, false, {}});
    std::string iface = str_field(*e, "interface");
    if (!iface.empty()) interface_of(it->second, iface);
    if (str_field(*e, "event") == "forward") {
      for (const char* key : {"from", "to"}) {
        iface = str_field(*e, key);
        if (!iface.empty()) interface_of(it->second, iface);
      }
    }
  }
  for (auto& [name, host] : hosts) {
    std::sort(host.interfaces.begin(), host.interfaces.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    hosts_.push_back(std::move(host));
  }
}

std::string TraceView::scenario() const { return str_field(*header_, "scenario", "trace"); }

Endpoint parse_endpoint(std::string_view text) {
  Endpoint ep;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return Endpoint{std::string(text), -1, true};
    ep.address = std::string(text.substr(1, close - 1));
    ep.v6 = true;
    if (close + 1 < text.size() && text[close + 1] == ':') {
      ep.port = std::atoi(std::string(text.substr(close + 2)).c_str());
    }
    return ep;
  }
  auto colons = std::count(text.begin(), text.end(), ':');
  if (colons == 1) {
    auto c = text.find(':');
    ep.address = std::string(text.substr(0, c));
    ep.port = std::atoi(std::string(text.substr(c + 1)).c_str());
  } else {
    ep.address = std::string(text);
    ep.v6 = colons > 1;
  }
  return ep;
}

std::string packet_summary(const json& packet) {
  std::string proto = str_field(packet, "proto", "?");
  std::string upper = proto;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::string s = upper + " ";
  if (proto == "icmp") {
    s += str_field(packet, "type", "?") + " " + str_field(packet, "src") + " > " +
         str_field(packet, "dst");
    return s;
  }
  s += str_field(packet, "src") + " > " + str_field(packet, "dst");
  if (proto == "tcp") {
    s += " [" + str_field(packet, "flags") + "] seq " + std::to_string(int_field(packet, "seq")) +
         " ack " + std::to_string(int_field(packet, "ack"));
  }
  s += " len " + std::to_string(int_field(packet, "len"));
  return s;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' ? ' ' : c;
    }
  }
  return out;
}

std::string format_time(int64_t ns) {
  if (ns == 0) return "0";
  const char* unit = "ns";
  int64_t scale = 1;
  if (ns % 1000000000 == 0 || ns >= 1000000000) {
    unit = "s";
    scale = 1000000000;
  } else if (ns % 1000000 == 0 || ns >= 1000000) {
    unit = "ms";
    scale = 1000000;
  } else if (ns % 1000 == 0 || ns >= 1000) {
    unit = "us";
    scale = 1000;
  }
  std::string s = std::to_string(ns / scale);
  int64_t frac = ns % scale;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    int width = scale == 1000000000 ? 9 : scale == 1000000 ? 6 : 3;
    digits.insert(0, width - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    s += "." + digits;
  }
  return s + unit;
}

}  // namespace netsim::exporting
