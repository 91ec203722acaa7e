#include "viz/export_mermaid.h"

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "viz/export_trace_view.h"

namespace netsim {

namespace {

using exporting::binding_text;
using exporting::format_time;
using exporting::int_field;
using exporting::str_field;
using nlohmann::json;

// Mermaid message text: '#' starts an entity and ';' ends a statement, so both are entities;
// a statement is one line, so every control character is a space.
std::string text(const std::string& s) {
  std::string o;
  for (char c : exporting::one_line(s)) {
    switch (c) {
      case '#': o += "#35;"; break;
      case ';': o += "#59;"; break;
      default: o += c;
    }
  }
  return o;
}

// At most `max` bytes of `s`, never cutting a UTF-8 sequence.
std::string utf8_prefix(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
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

// A step as a note: "listen echo udp 10.0.0.1:7", "close echo", "connect c tcp > 10.0.0.1:9:
// network_unreachable". `recorded`: the socket record of the step's socket, if it has one (its
// binding is the fact; the step's own binding fields are read only without it).
std::string step_label(const json& e, const json* recorded) {
  const json& facts = recorded ? *recorded : e;
  std::string s = str_field(e, "op");
  if (!str_field(e, "socket").empty()) s += " " + str_field(e, "socket");
  if (!str_field(facts, "proto").empty()) s += " " + str_field(facts, "proto");
  const std::string binding = binding_text(facts);
  if (!binding.empty()) s += " " + binding;
  std::string result = str_field(e, "result");
  if (!result.empty() && result != "ok") {
    s += ": " + result + (str_field(e, "expected") == result ? " (expected)" : "");
  }
  return s;
}

// Messages are kept (at most kMermaidMaxMessages) and written at finish(), under the
// participants: a host first named late still gets its participant line.
class MermaidExporter : public TraceExporter {
 public:
  explicit MermaidExporter(std::ostream& out) : out_(out) {}

  // Where each ICMP packet that no deliver, drop or ping ends arrives last (an echo request at
  // the host that answers it, an error at the host it reports to): its arrow is drawn there.
  void look(const json& e, uint64_t index) override {
    auto p = e.find("packet");
    if (p == e.end() || !p->is_object()) return;
    std::string k = str_field(e, "event");
    int64_t id = int_field(*p, "id", -1);
    if (k == "deliver" || k == "drop" || k == "ping") {
      ended_.set(id, index, true);
    } else if (k == "rx" && str_field(*p, "proto") == "icmp") {
      last_icmp_rx_.set(id, index, index);
    }
  }

  void start(const TraceReader& trace) override {
    for (const auto& [name, host] : trace.topology().hosts) alias(name);
  }

  void emit(const json& e, uint64_t index) override {
    uint64_t horizon = forget_horizon(index);
    origin_.forget_before(horizon);
    ended_.forget_before(horizon);
    last_icmp_rx_.forget_before(horizon);
    std::string kind = str_field(e, "event");
    std::string host = str_field(e, "host");
    std::string when = format_time(int_field(e, "t"));
    const json* packet = e.contains("packet") && e["packet"].is_object() ? &e["packet"] : nullptr;
    int64_t id = packet ? int_field(*packet, "id", -1) : -1;
    if (kind == "tx" && packet) {
      if (!origin_.contains(id)) origin_.set(id, index, host);
    } else if (kind == "rx" && packet && !ended_.contains(id)) {
      const uint64_t* last = last_icmp_rx_.find(id);
      if (last && *last == index) {
        const std::string* first = origin_.find(id);
        message(alias(first ? *first : host) + "->>" + alias(host) + ": " +
                text(exporting::packet_summary(*packet)) + " @" + when);
      }
    } else if (kind == "ping" && packet && !host.empty()) {
      const std::string* first = origin_.find(id);
      message(alias(first ? *first : host) + "->>" + alias(host) + ": " +
              text(exporting::packet_summary(*packet) + ", rtt " + format_time(int_field(e, "rtt"))) +
              " @" + when);
    } else if (kind == "socket" && !host.empty()) {
      if (str_field(e, "how") == "child") {
        message("Note over " + alias(host) + ": " +
                text(str_field(e, "socket") + " accepted from " + str_field(e, "listener") + " " +
                     str_field(e, "proto") + " " + binding_text(e)) +
                " @" + when);
      }
      last_socket_ = e;  // the step that opened it comes next
    } else if (kind == "step" && !host.empty() && str_field(e, "op") != "send" &&
               str_field(e, "op") != "ping") {
      const bool recorded = str_field(last_socket_, "host") == host &&
                            str_field(last_socket_, "step") == str_field(e, "step") &&
                            str_field(last_socket_, "socket") == str_field(e, "socket");
      message("Note over " + alias(host) + ": " + text(step_label(e, recorded ? &last_socket_ : nullptr)) +
              " @" + when);
    } else if (kind == "deliver" && packet) {
      const std::string* first = origin_.find(id);
      std::string from = first ? *first : host;
      message(alias(from) + "->>" + alias(host) + ": " + text(exporting::packet_summary(*packet)) +
              " @" + when);
      std::string note = "deliver to " + str_field(e, "socket") + " by " + str_field(e, "match");
      std::string sh = shadowed_list(e);
      if (!sh.empty()) note += ", shadowed: " + sh;
      if (e.contains("data") && e["data"].is_string()) {
        std::string d = e["data"].get<std::string>();
        if (d.size() > 24) d = utf8_prefix(d, 24) + "...";
        note += " data " + json(d).dump();
      }
      message("Note right of " + alias(host) + ": " + text(note));
    } else if (kind == "drop" && packet) {
      const std::string* first = origin_.find(id);
      std::string from = first ? *first : host;
      std::string label = "drop " + str_field(e, "reason") + ": " + exporting::packet_summary(*packet);
      if (from == host) {
        message("Note over " + alias(host) + ": " + text(label) + " @" + when);
      } else {
        message(alias(from) + "-x" + alias(host) + ": " + text(label) + " @" + when);
      }
    } else if ((kind == "sever" || kind == "error") && !host.empty()) {
      message("Note over " + alias(host) + ": " +
              text(kind + " " + str_field(e, "socket") + ": " + str_field(e, "error")) + " @" + when);
    } else if ((kind == "address_added" || kind == "address_removed") && !host.empty() &&
               e.contains("step")) {  // a change; the starting configuration is no news
      message("Note over " + alias(host) + ": " +
              text(kind + " " + str_field(e, "address") + " on " + str_field(e, "interface")) +
              " @" + when);
    } else if (kind == "expect" && str_field(e, "result") == "fail" && !aliases_.empty()) {
      std::string first = aliases_.begin()->second, last = aliases_.rbegin()->second;
      std::string span = first == last ? first : first + "," + last;
      message("Note over " + span + ": " +
              text("FAILED " + str_field(e, "pointer") + " " + str_field(e, "detail")));
    }
  }

  void finish(const TraceReader& trace) override {
    out_ << "sequenceDiagram\n";
    out_ << "  %% netsim scenario " << text(trace.scenario()) << "\n";
    for (const auto& [name, id] : aliases_) out_ << "  participant " << id << " as " << text(name) << "\n";
    for (const auto& m : messages_) out_ << "  " << m << "\n";
    if (omitted_ > 0 && !aliases_.empty()) {
      out_ << "  Note over " << aliases_.begin()->second << ": " << omitted_ << " more messages left out\n";
    }
  }

  size_t held() const override {
    return origin_.held() + ended_.held() + last_icmp_rx_.held() + messages_.size() + aliases_.size();
  }

 private:
  // The participant id of a host: h0, h1, ... in the order hosts were first met (sorted at start).
  const std::string& alias(const std::string& host) {
    auto it = aliases_.find(host);
    if (it == aliases_.end()) it = aliases_.emplace(host, "h" + std::to_string(aliases_.size())).first;
    return it->second;
  }
  void message(std::string line) {
    if (messages_.size() >= kMermaidMaxMessages) {
      ++omitted_;
      return;
    }
    messages_.push_back(std::move(line));
  }

  std::ostream& out_;
  std::map<std::string, std::string> aliases_;  // host -> participant id
  json last_socket_;                             // the latest socket record
  Recent<int64_t, std::string> origin_;         // packet id -> first sending host
  Recent<int64_t, bool> ended_;                  // packet ids with a deliver, drop or ping
  Recent<int64_t, uint64_t> last_icmp_rx_;       // ICMP packet id -> index of its last rx
  std::vector<std::string> messages_;
  size_t omitted_ = 0;
};

}  // namespace

std::unique_ptr<TraceExporter> make_mermaid_exporter(std::ostream& out) {
  return std::make_unique<MermaidExporter>(out);
}

}  // namespace netsim
