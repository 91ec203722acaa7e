#include "viz/export_chrome.h"

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "viz/export_trace_view.h"
#include "viz/spool.h"

namespace netsim {

namespace {

using exporting::int_field;
using exporting::str_field;
using nlohmann::json;

constexpr int kLinksPid = 0;          // link up/down, expectations
constexpr int kHostTid = 1;           // a host's own track: steps, forwarding, host drops
constexpr double kSliceUs = 0.001;    // events are 1 ns slices so flows can bind to them

double us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

// Track metadata is kept (it is bounded by hosts, interfaces and sockets) and written first at
// finish(); every other record goes to a spool as it is made.
class ChromeExporter : public TraceExporter {
 public:
  explicit ChromeExporter(std::ostream& out) : out_(out) {}

  // Where each packet ends: its last deliver or drop within the lookahead.
  void look(const json& e, uint64_t index) override {
    std::string k = str_field(e, "event");
    if ((k == "deliver" || k == "drop") && e.contains("packet")) {
      packet_end_.set(int_field(e["packet"], "id", -1), index, index);
    }
  }

  void start(const TraceReader& trace) override {
    topology_ = &trace.topology();
    meta(kLinksPid, 0, "process_name", "links & expectations");
    for (const auto& [name, host] : topology_->hosts) add_host(host);
  }

  void emit(const json& e, uint64_t i) override {
    uint64_t horizon = forget_horizon(i);
    packet_end_.forget_before(horizon);
    steps_.forget_before(horizon);
    flow_started_.forget_before(horizon);
    in_flight_.forget_before(horizon);

    std::string kind = str_field(e, "event");
    std::string host = str_field(e, "host");
    int64_t t = int_field(e, "t");
    int64_t seq = int_field(e, "seq", static_cast<int64_t>(i));

    if (host.empty()) {  // link events, expectations, link steps
      if (kind == "expect") {
        slice(kLinksPid, track("", "expectations"), t, "expect " + str_field(e, "result") +
              " " + str_field(e, "pointer"), "expect", e);
      } else {
        instant(kLinksPid, track("", "links"), t, describe(e), kind, e, "g");
      }
      return;
    }
    int pid = pid_of(host);
    int tid = kHostTid;
    if (!str_field(e, "socket").empty()) {
      tid = track(host, "socket " + str_field(e, "socket"));
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
    if (kind == "sever") {
      instant(pid, tid, t, describe(e), kind, e, "t");
    }
    slice(pid, tid, t, describe(e), kind, e);
    if (kind == "step") steps_.set(seq, i, StepSlice{pid, tid, t});

    if (!e.contains("packet") || !e["packet"].is_object()) return;
    int64_t packet = int_field(e["packet"], "id", -1);
    const uint64_t* end = packet_end_.find(packet);
    bool started = flow_started_.contains(packet);
    if (kind == "tx") {
      std::string ifkey = host + "." + str_field(e, "interface");
      in_flight_.set({packet, ifkey}, i, Hop{host, str_field(e, "interface"), seq, t});
      if (!started && end) {
        flow_started_.set(packet, i, true);
        // Start at the step that sent it when the trace says so.
        auto [fpid, ftid] = std::make_pair(pid, tid);
        int64_t fts = t;
        if (const StepSlice* step = steps_.find(int_field(e, "cause", -1))) {
          fpid = step->pid;
          ftid = step->tid;
          fts = step->t;
        }
        flow("s", fpid, ftid, fts, packet);
      } else if (started && end && *end > i) {
        flow("t", pid, tid, t, packet);
      }
    } else if (kind == "rx") {
      // The async slice of the hop: from the tx on the peer interface to this rx.
      std::string rx_if = host + "." + str_field(e, "interface");
      if (const Hop* tx = find_tx(packet, rx_if)) {
        int tx_pid = pid_of(tx->host);
        std::string name = link_name(tx->host + "." + tx->interface, rx_if);
        json b = {{"ph", "b"}, {"cat", "link"}, {"name", name}, {"pid", tx_pid}, {"tid", kHostTid},
                  {"id2", {{"local", "p" + std::to_string(packet) + "s" + std::to_string(tx->seq)}}},
                  {"ts", us(tx->t)},
                  {"args", {{"packet", exporting::packet_summary(e["packet"])}, {"to", rx_if}}}};
        json finish = b;
        finish["ph"] = "e";
        finish["ts"] = us(t);
        finish.erase("args");
        record(b);
        record(finish);
      }
      if (started && end && *end > i) flow("t", pid, tid, t, packet);
    } else if ((kind == "deliver" || kind == "drop") && started && end && *end == i) {
      flow("f", pid, tid, t, packet);
    }
  }

  void finish(const TraceReader& trace) override {
    json header = trace.header();
    header.erase("topology");
    json metadata = {{"netsim-trace", std::move(header)}};
    if (trace.summary()) metadata["summary"] = *trace.summary();
    out_ << "{\"displayTimeUnit\":\"ns\",\"metadata\":" << metadata.dump() << ",\"traceEvents\":[";
    for (size_t k = 0; k < meta_.size(); ++k) out_ << (k ? "," : "") << meta_[k];
    spool_.copy_to(out_);
    out_ << "]}\n";
  }

  size_t held() const override {
    return packet_end_.held() + steps_.held() + flow_started_.held() + in_flight_.held() +
           meta_.size();
  }

 private:
  struct StepSlice {
    int pid, tid;
    int64_t t;
  };
  struct Hop {  // a tx: where and when the packet left
    std::string host, interface;
    int64_t seq, t;
  };

  void add_host(const TopologyHost& host) {
    int pid = static_cast<int>(pids_.size()) + 1;
    pids_[host.name] = pid;
    meta(pid, 0, "process_name", host.name + (host.forwarding ? " (router)" : ""));
    meta(pid, 0, "process_sort_index", pid);
    track(host.name, "host");
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

  // The tx that this rx ends: the latest tx of the packet on an interface linked to `rx_if`.
  const Hop* find_tx(int64_t packet, const std::string& rx_if) const {
    const Hop* best = nullptr;
    const auto& hops = in_flight_.entries();
    for (auto it = hops.lower_bound({packet, ""}); it != hops.end() && it->first.first == packet; ++it) {
      if (it->first.second == rx_if) continue;
      if (!linked(it->first.second, rx_if) && !topology_->links.empty()) continue;
      const Hop& hop = it->second.second;
      if (!best || hop.seq > best->seq) best = &hop;
    }
    return best;
  }
  bool linked(const std::string& a, const std::string& b) const {
    for (const auto& l : topology_->links) {
      bool ha = false, hb = false;
      for (const auto& x : l.between) {
        ha |= x == a;
        hb |= x == b;
      }
      if (ha && hb) return true;
    }
    return false;
  }
  std::string link_name(const std::string& a, const std::string& b) const {
    for (const auto& l : topology_->links) {
      bool ha = false, hb = false;
      for (const auto& x : l.between) {
        ha |= x == a;
        hb |= x == b;
      }
      if (ha && hb) return l.name + " " + a + " > " + b;
    }
    return a + " > " + b;
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
    if (kind == "sever" || kind == "error") return kind + " " + str_field(e, "error");
    if (kind == "address_added" || kind == "address_removed") {
      return kind + " " + str_field(e, "address") + " on " + str_field(e, "interface");
    }
    if (kind == "link_down" || kind == "link_up") return kind + " " + str_field(e, "link");
    return kind;
  }

  int track(const std::string& host, const std::string& name) {
    auto key = std::make_pair(host, name);
    if (auto it = tids_.find(key); it != tids_.end()) return it->second;
    int pid = host.empty() ? kLinksPid : pids_.at(host);
    int tid = name == "host" ? kHostTid : ++next_tid_[pid] + kHostTid;
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
  // Slices and instants carry the whole event as args: written as text in the key order
  // json::dump() would give them (the bytes are the same; building the object costs more).
  void slice(int pid, int tid, int64_t t, const std::string& name, const std::string& cat,
             const json& args) {
    spool_.write(",{\"args\":" + args.dump() + ",\"cat\":" + json(cat).dump() +
                 ",\"dur\":" + json(kSliceUs).dump() + ",\"name\":" + json(name).dump() +
                 ",\"ph\":\"X\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) +
                 ",\"ts\":" + json(us(t)).dump() + "}");
  }
  void instant(int pid, int tid, int64_t t, const std::string& name, const std::string& cat,
               const json& args, const char* scope) {
    spool_.write(",{\"args\":" + args.dump() + ",\"cat\":" + json(cat).dump() +
                 ",\"name\":" + json(name).dump() + ",\"ph\":\"i\",\"pid\":" + std::to_string(pid) +
                 ",\"s\":\"" + scope + "\",\"tid\":" + std::to_string(tid) + ",\"ts\":" +
                 json(us(t)).dump() + "}");
  }
  void flow(const char* ph, int pid, int tid, int64_t t, int64_t packet) {
    json f = {{"ph", ph}, {"pid", pid}, {"tid", tid}, {"ts", us(t)}, {"id", packet},
              {"name", "packet " + std::to_string(packet)}, {"cat", "packet"}};
    if (std::string(ph) != "s") f["bp"] = "e";
    record(f);
  }

  std::ostream& out_;
  Spool spool_;
  const TraceTopology* topology_ = nullptr;
  std::map<std::string, int> pids_;
  std::map<std::pair<std::string, std::string>, int> tids_;
  std::map<int, int> next_tid_;
  std::vector<std::string> meta_;  // dumped track metadata, in the order made
  Recent<int64_t, uint64_t> packet_end_;                       // packet id -> index of its end
  Recent<int64_t, StepSlice> steps_;                           // step seq -> its slice
  Recent<int64_t, bool> flow_started_;                         // packet ids with a flow
  Recent<std::pair<int64_t, std::string>, Hop> in_flight_;     // (packet id, host.if) -> tx
};

}  // namespace

std::unique_ptr<TraceExporter> make_chrome_exporter(std::ostream& out) {
  return std::make_unique<ChromeExporter>(out);
}

}  // namespace netsim
