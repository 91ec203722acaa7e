#include "viz/export_chrome.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "viz/export_trace_view.h"
#include "viz/spool.h"

namespace netsim {

namespace {

using exporting::binding_text;
using exporting::int_field;
using exporting::str_field;
using nlohmann::json;

constexpr int kNetworkPid = 1;  // links, link steps and expectations; hosts are 2, 3, ...

double us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

// A slice's part in a packet's flow arrow (flow v2: `bind_id` with `flow_out` / `flow_in`).
enum class FlowEnd { kNone, kOut, kIn };

// Track metadata is kept (it is bounded by hosts, interfaces, sockets and links) and written
// first at finish(); every other record goes to a spool as it is made. What is held about
// packets (where each ends, its hop in flight) is forgotten after kLookahead events; what is held
// about sockets (an open lifetime) until the socket closes.
class ChromeExporter : public TraceExporter {
 public:
  explicit ChromeExporter(std::ostream& out) : out_(out) {}

  // Where each packet ends: its last deliver, drop or ping (the echo reply's arrival) within the
  // lookahead, else its last arrival (an echo request the host answered).
  void look(const json& e, uint64_t index) override {
    auto p = e.find("packet");
    if (p == e.end() || !p->is_object()) return;
    std::string k = str_field(e, "event");
    int64_t id = int_field(*p, "id", -1);
    if ((k == "deliver" || k == "drop" || k == "ping") && !str_field(e, "host").empty()) {
      packet_fate_.set(id, index, index);
    } else if (k == "rx") {
      packet_last_rx_.set(id, index, index);
    }
  }

  void start(const TraceReader& trace) override {
    topology_ = &trace.topology();
    int links = track("", "links");
    meta(kNetworkPid, links, "process_name", "network");
    meta(kNetworkPid, links, "process_sort_index", kNetworkPid);
    track("", "expectations");
    for (const auto& [name, host] : topology_->hosts) add_host(host);
  }

  void emit(const json& e, uint64_t i) override {
    uint64_t horizon = forget_horizon(i);
    packet_fate_.forget_before(horizon);
    packet_last_rx_.forget_before(horizon);
    flow_end_.forget_before(horizon);
    in_flight_.forget_before(horizon);

    std::string kind = str_field(e, "event");
    std::string host = str_field(e, "host");
    int64_t t = int_field(e, "t");
    last_t_ = t;
    int64_t seq = int_field(e, "seq", static_cast<int64_t>(i));

    if (host.empty()) {  // link events, expectations, link steps
      if (kind == "expect") {
        slice(kNetworkPid, track("", "expectations"), t, "expect " + str_field(e, "result") +
              " " + str_field(e, "pointer"), "expect", e);
      } else {
        instant(kNetworkPid, track("", "links"), t, describe(e), kind, e, "g");
      }
      return;
    }
    int pid = pid_of(host);
    std::string socket = str_field(e, "socket");
    int tid = track(host, "host");
    if (!socket.empty()) {
      tid = track(host, "socket " + socket);
    } else if (!str_field(e, "interface").empty()) {
      tid = track(host, "if " + str_field(e, "interface"));
    } else if (kind == "accept") {
      tid = track(host, "socket " + str_field(e, "listener"));
    }

    if (kind == "address_added" || kind == "address_removed" || kind == "interface_up" ||
        kind == "interface_down") {
      instant(pid, tid, t, describe(e), kind, e, "p");
      return;
    }
    if (kind == "sever") instant(pid, tid, t, describe(e), kind, e, "t");

    const json* packet = e.contains("packet") && e["packet"].is_object() ? &e["packet"] : nullptr;
    int64_t id = packet ? int_field(*packet, "id", -1) : -1;
    FlowEnd flow = FlowEnd::kNone;
    if (packet && kind == "tx" && !flow_end_.contains(id)) {
      const uint64_t* end = packet_fate_.find(id);
      if (!end) end = packet_last_rx_.find(id);
      if (end && *end > i) {
        flow_end_.set(id, i, *end);
        flow = FlowEnd::kOut;
      }
    } else if (packet) {
      const uint64_t* end = flow_end_.find(id);
      if (end && *end == i) flow = FlowEnd::kIn;
    }
    slice(pid, tid, t, describe(e), kind, e, flow, id);
    if (!socket.empty()) lifetime(e, kind, host, socket, pid, tid, t);

    if (packet && kind == "tx") {
      in_flight_.set({id, host + "." + str_field(e, "interface")}, i,
                     Hop{host, str_field(e, "interface"), seq, t});
    } else if (packet && kind == "rx") {
      in_flight(*packet, id, host + "." + str_field(e, "interface"), t);
    }
  }

  void finish(const TraceReader& trace) override {
    // Sockets still open at the end live until the end of the trace.
    int64_t end = trace.summary() ? int_field(*trace.summary(), "t", last_t_) : last_t_;
    for (const auto& [key, open] : open_sockets_) write_lifetime(open, std::max(end, open.t));
    json header = trace.header();
    header.erase("topology");
    json metadata = {{"netsim-trace", std::move(header)}};
    if (trace.summary()) metadata["summary"] = *trace.summary();
    out_ << "{\"metadata\":" << metadata.dump() << ",\"traceEvents\":[";
    for (size_t k = 0; k < meta_.size(); ++k) out_ << (k ? "," : "") << meta_[k];
    spool_.copy_to(out_);
    out_ << "]}\n";
  }

  size_t held() const override {
    return packet_fate_.held() + packet_last_rx_.held() + flow_end_.held() + in_flight_.held() +
           meta_.size() + open_sockets_.size();
  }

 private:
  struct Hop {  // a tx: where and when the packet left
    std::string host, interface;
    int64_t seq, t;
  };
  struct OpenSocket {  // a socket's lifetime so far
    int pid, tid;
    int64_t t;
    std::string name;
    json args;
  };

  void add_host(const TopologyHost& host) {
    int pid = static_cast<int>(pids_.size()) + kNetworkPid + 1;
    pids_[host.name] = pid;
    int tid = track(host.name, "host");
    meta(pid, tid, "process_name", host.name + (host.forwarding ? " (router)" : ""));
    meta(pid, tid, "process_sort_index", pid);
    for (const auto& iface : host.interfaces) track(host.name, "if " + iface.name);
  }

  // A host first named after start() joins as the next process.
  int pid_of(const std::string& host) {
    if (auto it = pids_.find(host); it == pids_.end()) {
      auto known = topology_->hosts.find(host);
      add_host(known != topology_->hosts.end() ? known->second : TopologyHost{host, false, {}});
    }
    return pids_.at(host);
  }

  // A socket's lifetime: from its `socket` record (how it came to be, its listener, its key) to
  // its close; one slice on the socket's track, written when it ends. A trace without
  // socket records opens it at the step that made it (listen, connect) or at its accept.
  void lifetime(const json& e, const std::string& kind, const std::string& host,
                const std::string& socket, int pid, int tid, int64_t t) {
    auto key = std::make_pair(host, socket);
    std::string op = str_field(e, "op");
    if (kind == "socket") op = str_field(e, "how") == "child" ? "accepted from " + str_field(e, "listener")
                                                                 : str_field(e, "how");
    if (kind == "accept") op = "accepted";
    bool opens = kind == "socket" || kind == "accept" ||
                 (kind == "step" && str_field(e, "result") == "ok" && (op == "listen" || op == "connect"));
    if (opens && !open_sockets_.count(key)) {
      std::string name = op + " " + str_field(e, "proto");
      const std::string binding = binding_text(e);
      if (!binding.empty()) name += " " + binding;
      open_sockets_[key] = OpenSocket{pid, tid, t, name, e};
    } else if (kind == "close") {
      auto it = open_sockets_.find(key);
      if (it == open_sockets_.end()) return;
      write_lifetime(it->second, t);
      open_sockets_.erase(it);
    }
  }
  void write_lifetime(const OpenSocket& s, int64_t end) {
    spool_.write(",{\"args\":" + s.args.dump() + ",\"cat\":\"socket\",\"dur\":" +
                 json(us(end) - us(s.t)).dump() + ",\"name\":" + json(s.name).dump() +
                 ",\"ph\":\"X\",\"pid\":" + std::to_string(s.pid) + ",\"tid\":" +
                 std::to_string(s.tid) + ",\"ts\":" + json(us(s.t)).dump() + "}");
  }

  // The hop ending at this rx, as an async slice on its link's track in the network process:
  // from the tx on the peer interface to this arrival.
  void in_flight(const json& packet, int64_t id, const std::string& rx_if, int64_t t) {
    const Hop* tx = find_tx(id, rx_if);
    if (!tx) return;
    json b = {{"ph", "b"}, {"cat", "link"}, {"name", link_name(tx->host + "." + tx->interface, rx_if)},
              {"pid", kNetworkPid}, {"tid", track("", "links")},
              {"id2", {{"local", "p" + std::to_string(id) + "s" + std::to_string(tx->seq)}}},
              {"ts", us(tx->t)},
              {"args", {{"packet", exporting::packet_summary(packet)}, {"to", rx_if}}}};
    json finish = b;
    finish["ph"] = "e";
    finish["ts"] = us(t);
    finish.erase("args");
    record(b);
    record(finish);
  }

  // The tx that this rx ends: the latest tx of the packet on an interface linked to `rx_if`.
  const Hop* find_tx(int64_t packet, const std::string& rx_if) const {
    const Hop* best = nullptr;
    const auto& hops = in_flight_.entries();
    for (auto it = hops.lower_bound({packet, ""}); it != hops.end() && it->first.first == packet; ++it) {
      if (it->first.second == rx_if) continue;
      if (!link_of(it->first.second, rx_if) && !topology_->links.empty()) continue;
      const Hop& hop = it->second.second;
      if (!best || hop.seq > best->seq) best = &hop;
    }
    return best;
  }
  const TopologyLink* link_of(const std::string& a, const std::string& b) const {
    for (const auto& l : topology_->links) {
      bool ha = false, hb = false;
      for (const auto& x : l.between) {
        ha |= x == a;
        hb |= x == b;
      }
      if (ha && hb) return &l;
    }
    return nullptr;
  }
  // The name of a link's track for one direction: "link0 client.eth0 > server.eth0".
  std::string link_name(const std::string& a, const std::string& b) const {
    const TopologyLink* l = link_of(a, b);
    return (l ? l->name + " " : std::string()) + a + " > " + b;
  }

  static std::string describe(const json& e) {
    std::string kind = str_field(e, "event");
    if (kind == "tx" || kind == "rx") return kind + " " + exporting::packet_summary(e.value("packet", json()));
    if (kind == "deliver") {
      std::string s = "deliver " + str_field(e, "match");
      if (e.contains("shadowed") && e["shadowed"].is_array() && !e["shadowed"].empty()) {
        s += " (shadowed";
        for (const auto& x : e["shadowed"]) s += " " + (x.is_string() ? x.get<std::string>() : x.dump());
        s += ")";
      }
      return s;
    }
    if (kind == "drop") return "drop " + str_field(e, "reason");
    if (kind == "step") return "step " + str_field(e, "op") + " " + str_field(e, "result");
    if (kind == "forward") return "forward " + str_field(e, "from") + " > " + str_field(e, "to");
    if (kind == "accept") return "accept " + str_field(e, "socket");
    if (kind == "socket") return "socket " + str_field(e, "how") + " " + exporting::binding_text(e);
    if (kind == "ping") return "ping reply, rtt " + exporting::format_time(int_field(e, "rtt"));
    if (kind == "sever" || kind == "error") return kind + " " + str_field(e, "error");
    if (kind == "address_added" || kind == "address_removed") {
      return kind + " " + str_field(e, "address") + " on " + str_field(e, "interface");
    }
    if (kind == "link_down" || kind == "link_up") return kind + " " + str_field(e, "link");
    return kind;
  }

  // The track `name` of `host` ("" = the network process); tids are unique in the file.
  int track(const std::string& host, const std::string& name) {
    auto key = std::make_pair(host, name);
    if (auto it = tids_.find(key); it != tids_.end()) return it->second;
    int pid = host.empty() ? kNetworkPid : pids_.at(host);
    int tid = static_cast<int>(tids_.size()) + 1;
    tids_[key] = tid;
    meta(pid, tid, "thread_name", name);
    meta(pid, tid, "thread_sort_index", tid);
    return tid;
  }

  template <typename V>
  void meta(int pid, int tid, const std::string& name, const V& value) {
    json m = {{"ph", "M"}, {"pid", pid}, {"tid", tid}, {"name", name}};
    m["args"] = name.find("sort") != std::string::npos ? json{{"sort_index", value}}
                                                      : json{{"name", value}};
    meta_.push_back(m.dump());
  }
  void record(const json& r) { spool_.write("," + r.dump()); }
  // An event: a zero-length slice carrying the whole event as args, written as text in the key
  // order json::dump() would give (the bytes are the same; building the object costs more).
  void slice(int pid, int tid, int64_t t, const std::string& name, const std::string& cat,
             const json& args, FlowEnd flow = FlowEnd::kNone, int64_t packet = 0) {
    std::string bind;
    if (flow != FlowEnd::kNone) bind = ",\"bind_id\":" + std::to_string(packet);
    spool_.write(",{\"args\":" + args.dump() + bind + ",\"cat\":" + json(cat).dump() +
                 ",\"dur\":0" + (flow == FlowEnd::kIn ? ",\"flow_in\":true" : "") +
                 (flow == FlowEnd::kOut ? ",\"flow_out\":true" : "") + ",\"name\":" +
                 json(name).dump() + ",\"ph\":\"X\",\"pid\":" + std::to_string(pid) +
                 ",\"tid\":" + std::to_string(tid) + ",\"ts\":" + json(us(t)).dump() + "}");
  }
  void instant(int pid, int tid, int64_t t, const std::string& name, const std::string& cat,
               const json& args, const char* scope) {
    spool_.write(",{\"args\":" + args.dump() + ",\"cat\":" + json(cat).dump() +
                 ",\"name\":" + json(name).dump() + ",\"ph\":\"i\",\"pid\":" + std::to_string(pid) +
                 ",\"s\":\"" + scope + "\",\"tid\":" + std::to_string(tid) + ",\"ts\":" +
                 json(us(t)).dump() + "}");
  }

  std::ostream& out_;
  Spool spool_;
  const TraceTopology* topology_ = nullptr;
  int64_t last_t_ = 0;
  std::map<std::string, int> pids_;
  std::map<std::pair<std::string, std::string>, int> tids_;
  std::vector<std::string> meta_;  // dumped track metadata, in the order made
  std::map<std::pair<std::string, std::string>, OpenSocket> open_sockets_;  // (host, socket)
  Recent<int64_t, uint64_t> packet_fate_;                      // packet id -> its deliver/drop/ping
  Recent<int64_t, uint64_t> packet_last_rx_;                   // packet id -> its last rx
  Recent<int64_t, uint64_t> flow_end_;                         // packet id -> where its arrow ends
  Recent<std::pair<int64_t, std::string>, Hop> in_flight_;     // (packet id, host.if) -> tx
};

}  // namespace

std::unique_ptr<TraceExporter> make_chrome_exporter(std::ostream& out) {
  return std::make_unique<ChromeExporter>(out);
}

}  // namespace netsim
