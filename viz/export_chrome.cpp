#include "viz/export_chrome.h"

#include <map>
#include <set>

#include "viz/export_trace_view.h"

namespace netsim {

namespace {

using exporting::int_field;
using exporting::str_field;
using nlohmann::json;

constexpr int kLinksPid = 0;          // link up/down, expectations
constexpr int kHostTid = 1;           // a host's own track: steps, forwarding, host drops
constexpr double kSliceUs = 0.001;    // events are 1 ns slices so flows can bind to them

double us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

class ChromeBuilder {
 public:
  explicit ChromeBuilder(const exporting::TraceView& view) : view_(view) {
    meta(kLinksPid, 0, "process_name", "links & expectations");
    int pid = 1;
    for (const auto& host : view.hosts()) {
      pids_[host.name] = pid;
      meta(pid, 0, "process_name", host.name + (host.forwarding ? " (router)" : ""));
      meta(pid, 0, "process_sort_index", pid);
      track(host.name, "host");
      for (const auto& iface : host.interfaces) track(host.name, "if " + iface.name);
      ++pid;
    }
  }

  json build() {
    const auto& events = view_.events();
    // Where each packet ends: the deliver or drop event index, per packet id (last one wins).
    std::map<int64_t, size_t> packet_end;
    for (size_t i = 0; i < events.size(); ++i) {
      std::string k = str_field(*events[i], "event");
      if ((k == "deliver" || k == "drop") && events[i]->contains("packet")) {
        packet_end[int_field((*events[i])["packet"], "id", -1)] = i;
      }
    }
    std::map<int64_t, const json*> by_seq;
    std::map<int64_t, std::pair<int, int>> slice_of_seq;  // seq -> (pid, tid)
    std::set<int64_t> flow_started;
    std::map<std::pair<int64_t, std::string>, const json*> in_flight;  // (packet id, host.if)

    for (size_t i = 0; i < events.size(); ++i) {
      const json& e = *events[i];
      std::string kind = str_field(e, "event");
      std::string host = str_field(e, "host");
      int64_t t = int_field(e, "t");
      int64_t seq = int_field(e, "seq", static_cast<int64_t>(i));
      by_seq[seq] = &e;

      if (host.empty()) {  // link events, expectations, link steps
        json args = e;
        if (kind == "expect") {
          slice(kLinksPid, track_of("", "expectations"), t, "expect " + str_field(e, "result") +
                " " + str_field(e, "pointer"), "expect", args);
        } else {
          instant(kLinksPid, track_of("", "links"), t, describe(e), kind, args, "g");
        }
        continue;
      }
      int pid = pids_.at(host);
      int tid = kHostTid;
      if (!str_field(e, "socket").empty()) {
        tid = track(host, "socket " + str_field(e, "socket"));
      } else if (!str_field(e, "interface").empty()) {
        tid = track(host, "if " + str_field(e, "interface"));
      } else if (kind == "accept") {
        tid = track(host, "socket " + str_field(e, "listener"));
      }
      json args = e;

      if (kind == "address_added" || kind == "address_removed" || kind == "interface_up" ||
          kind == "interface_down") {
        instant(pid, tid, t, describe(e), kind, args, "p");
        continue;
      }
      if (kind == "sever") {
        instant(pid, tid, t, describe(e), kind, args, "t");
      }
      slice(pid, tid, t, describe(e), kind, args);
      slice_of_seq[seq] = {pid, tid};

      if (!e.contains("packet") || !e["packet"].is_object()) continue;
      int64_t packet = int_field(e["packet"], "id", -1);
      if (kind == "tx") {
        std::string ifkey = host + "." + str_field(e, "interface");
        in_flight[{packet, ifkey}] = &e;
        if (!flow_started.count(packet) && packet_end.count(packet)) {
          flow_started.insert(packet);
          // Start at the step that sent it when the trace says so.
          auto [fpid, ftid] = std::make_pair(pid, tid);
          int64_t fts = t;
          int64_t cause = int_field(e, "cause", -1);
          if (auto c = by_seq.find(cause); c != by_seq.end() &&
              str_field(*c->second, "event") == "step" && slice_of_seq.count(cause)) {
            std::tie(fpid, ftid) = slice_of_seq[cause];
            fts = int_field(*c->second, "t");
          }
          flow("s", fpid, ftid, fts, packet);
        } else if (flow_started.count(packet) && packet_end[packet] > i) {
          flow("t", pid, tid, t, packet);
        }
      } else if (kind == "rx") {
        // The async slice of the hop: from the tx on the peer interface to this rx.
        const json* tx = find_tx(in_flight, packet, host + "." + str_field(e, "interface"));
        if (tx) {
          int tx_pid = pids_.at(str_field(*tx, "host"));
          std::string name = link_name(str_field(*tx, "host") + "." + str_field(*tx, "interface"),
                                       host + "." + str_field(e, "interface"));
          json b = {{"ph", "b"}, {"cat", "link"}, {"name", name}, {"pid", tx_pid}, {"tid", kHostTid},
                    {"id2", {{"local", "p" + std::to_string(packet) + "s" + std::to_string(int_field(*tx, "seq"))}}},
                    {"ts", us(int_field(*tx, "t"))},
                    {"args", {{"packet", exporting::packet_summary(e["packet"])},
                              {"to", host + "." + str_field(e, "interface")}}}};
          json end = b;
          end["ph"] = "e";
          end["ts"] = us(t);
          end.erase("args");
          out_.push_back(b);
          out_.push_back(end);
        }
        if (flow_started.count(packet) && packet_end[packet] > i) flow("t", pid, tid, t, packet);
      } else if ((kind == "deliver" || kind == "drop") && flow_started.count(packet) &&
                 packet_end[packet] == i) {
        flow("f", pid, tid, t, packet);
      }
    }
    json all = json::array();
    for (auto& m : meta_) all.push_back(std::move(m));
    for (auto& o : out_) all.push_back(std::move(o));
    json header = view_.header();
    header.erase("topology");
    json doc = {{"displayTimeUnit", "ns"}, {"traceEvents", std::move(all)},
                {"metadata", {{"netsim-trace", header}}}};
    if (view_.summary()) doc["metadata"]["summary"] = *view_.summary();
    return doc;
  }

 private:
  // The tx that this rx ends: the latest tx of the packet on an interface linked to `rx_if`.
  const json* find_tx(const std::map<std::pair<int64_t, std::string>, const json*>& in_flight,
                      int64_t packet, const std::string& rx_if) const {
    const json* best = nullptr;
    for (auto it = in_flight.lower_bound({packet, ""});
         it != in_flight.end() && it->first.first == packet; ++it) {
      if (it->first.second == rx_if) continue;
      if (!linked(it->first.second, rx_if) && !view_.links().empty()) continue;
      if (!best || int_field(*it->second, "seq") > int_field(*best, "seq")) best = it->second;
    }
    return best;
  }
  bool linked(const std::string& a, const std::string& b) const {
    for (const auto& l : view_.links()) {
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
    for (const auto& l : view_.links()) {
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
    if (kind == "tx" || kind == "rx") return kind + " " + exporting::packet_summary(e["packet"]);
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
  int track_of(const std::string& host, const std::string& name) { return track(host, name); }

  template <typename V>
  void meta(int pid, int tid, const std::string& name, const V& value) {
    json m = {{"ph", "M"}, {"pid", pid}, {"tid", tid}, {"name", name}};
    m["args"] = name.find("sort") != std::string::npos ? json{{"sort_index", value}}
                                                      : json{{"name", value}};
    meta_.push_back(std::move(m));
  }
  void slice(int pid, int tid, int64_t t, const std::string& name, const std::string& cat,
             const json& args) {
    out_.push_back({{"ph", "X"}, {"pid", pid}, {"tid", tid}, {"ts", us(t)}, {"dur", kSliceUs},
                    {"name", name}, {"cat", cat}, {"args", args}});
  }
  void instant(int pid, int tid, int64_t t, const std::string& name, const std::string& cat,
               const json& args, const char* scope) {
    out_.push_back({{"ph", "i"}, {"s", scope}, {"pid", pid}, {"tid", tid}, {"ts", us(t)},
                    {"name", name}, {"cat", cat}, {"args", args}});
  }
  void flow(const char* ph, int pid, int tid, int64_t t, int64_t packet) {
    json f = {{"ph", ph}, {"pid", pid}, {"tid", tid}, {"ts", us(t)}, {"id", packet},
              {"name", "packet " + std::to_string(packet)}, {"cat", "packet"}};
    if (std::string(ph) != "s") f["bp"] = "e";
    out_.push_back(std::move(f));
  }

  const exporting::TraceView& view_;
  std::map<std::string, int> pids_;
  std::map<std::pair<std::string, std::string>, int> tids_;
  std::map<int, int> next_tid_;
  std::vector<json> meta_;
  std::vector<json> out_;
};

}  // namespace

json chrome_trace(const std::vector<json>& lines) {
  exporting::TraceView view(lines);
  return ChromeBuilder(view).build();
}

std::string export_chrome(const std::vector<json>& lines) {
  return chrome_trace(lines).dump() + "\n";
}

}  // namespace netsim
