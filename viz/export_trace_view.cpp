#include "viz/export_trace_view.h"

#include <algorithm>

namespace netsim::exporting {

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

std::string binding_text(const json& e) {
  std::string local = str_field(e, "local");
  if (local.empty() && e.contains("port")) {
    std::string addresses;
    if (e.contains("addresses") && e["addresses"].is_array()) {
      for (const auto& a : e["addresses"]) {
        addresses += (addresses.empty() ? "" : ",") + (a.is_string() ? a.get<std::string>() : a.dump());
      }
    }
    local = (addresses.empty() ? "*" : addresses) + ":" + std::to_string(int_field(e, "port"));
  }
  std::string text = local;
  const std::string remote = str_field(e, "remote");
  if (!remote.empty()) text += (text.empty() ? "> " : " > ") + remote;
  return text;
}

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

std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string escape_controls(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) out += c;
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else out += "\\u00" + std::string(1, "0123456789abcdef"[u >> 4]) + "0123456789abcdef"[u & 15];
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

void fill_template(std::string_view tpl, std::ostream& out,
                   const std::function<bool(std::string_view name, std::ostream& out)>& substitute) {
  size_t at = 0;
  while (true) {
    size_t p = tpl.find("@@", at);
    size_t q = p == std::string_view::npos ? p : tpl.find("@@", p + 2);
    if (q == std::string_view::npos) {
      out << tpl.substr(at);
      return;
    }
    out << tpl.substr(at, p - at);
    if (!substitute(tpl.substr(p + 2, q - p - 2), out)) out << tpl.substr(p, q + 2 - p);
    at = q + 2;
  }
}

}  // namespace netsim::exporting
