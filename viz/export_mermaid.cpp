#include "viz/export_mermaid.h"

#include <map>

#include "viz/export_trace_view.h"

namespace netsim {

namespace {

using exporting::format_time;
using exporting::int_field;
using exporting::str_field;
using nlohmann::json;

// Mermaid message text: '#' starts an entity and ';' ends a statement, so both are entities.
std::string text(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '#': o += "#35;"; break;
      case ';': o += "#59;"; break;
      case '\n': o += ' '; break;
      case '\r': break;
      default: o += c;
    }
  }
  return o;
}

std::string shadowed_list(const json& e) {
  std::string s;
  if (e.contains("shadowed") && e["shadowed"].is_array()) {
    for (const auto& x : e["shadowed"]) {
      if (!s.empty()) s += ", ";
      s += x.is_string() ? x.get<std::string>() : x.dump();
    }
  }
  return s;
}

}  // namespace

std::string export_mermaid(const std::vector<json>& lines) {
  exporting::TraceView view(lines);
  std::map<std::string, std::string> alias;  // host -> participant id
  std::string out = "sequenceDiagram\n";
  out += "  %% netsim scenario " + text(view.scenario()) + "\n";
  int n = 0;
  for (const auto& host : view.hosts()) {
    alias[host.name] = "h" + std::to_string(n++);
    out += "  participant " + alias[host.name] + " as " + text(host.name) + "\n";
  }
  std::map<int64_t, std::string> origin;  // packet id -> first sending host
  size_t messages = 0, omitted = 0;
  auto emit = [&](const std::string& line) {
    if (messages >= kMermaidMaxMessages) {
      ++omitted;
      return;
    }
    out += "  " + line + "\n";
    ++messages;
  };
  for (const json* e : view.events()) {
    std::string kind = str_field(*e, "event");
    std::string host = str_field(*e, "host");
    std::string when = format_time(int_field(*e, "t"));
    const json* packet = e->contains("packet") && (*e)["packet"].is_object() ? &(*e)["packet"] : nullptr;
    int64_t id = packet ? int_field(*packet, "id", -1) : -1;
    if (kind == "tx" && packet) {
      origin.try_emplace(id, host);
    } else if (kind == "deliver" && packet) {
      std::string from = origin.count(id) ? origin[id] : host;
      emit(alias[from] + "->>" + alias[host] + ": " + text(exporting::packet_summary(*packet)) +
           " @" + when);
      std::string note = "deliver to " + str_field(*e, "socket") + " by " + str_field(*e, "match");
      std::string sh = shadowed_list(*e);
      if (!sh.empty()) note += ", shadowed: " + sh;
      if (e->contains("data") && (*e)["data"].is_string()) {
        std::string d = (*e)["data"].get<std::string>();
        if (d.size() > 24) d = d.substr(0, 24) + "...";
        note += " data " + json(d).dump();
      }
      emit("Note right of " + alias[host] + ": " + text(note));
    } else if (kind == "drop" && packet) {
      std::string from = origin.count(id) ? origin[id] : host;
      std::string label = "drop " + str_field(*e, "reason") + ": " + exporting::packet_summary(*packet);
      if (from == host) {
        emit("Note over " + alias[host] + ": " + text(label) + " @" + when);
      } else {
        emit(alias[from] + "-x" + alias[host] + ": " + text(label) + " @" + when);
      }
    } else if ((kind == "sever" || kind == "error") && !host.empty()) {
      emit("Note over " + alias[host] + ": " +
           text(kind + " " + str_field(*e, "socket") + ": " + str_field(*e, "error")) + " @" + when);
    } else if ((kind == "address_added" || kind == "address_removed") && !host.empty()) {
      emit("Note over " + alias[host] + ": " +
           text(kind + " " + str_field(*e, "address") + " on " + str_field(*e, "interface")) +
           " @" + when);
    } else if (kind == "expect" && str_field(*e, "result") == "fail" && !alias.empty()) {
      std::string first = alias.begin()->second, last = alias.rbegin()->second;
      std::string span = first == last ? first : first + "," + last;
      emit("Note over " + span + ": " +
           text("FAILED " + str_field(*e, "pointer") + " " + str_field(*e, "detail")));
    }
  }
  if (omitted > 0 && !alias.empty()) {
    out += "  Note over " + alias.begin()->second + ": " + std::to_string(omitted) +
           " more messages left out\n";
  }
  return out;
}

}  // namespace netsim
