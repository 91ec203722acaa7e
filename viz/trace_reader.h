// TraceReader: reads a JSONL trace (docs/trace-format.md) one line at a time and checks
// every field an export reads before handing the line on, so exports never see a value they
// cannot write (a packet's len <= 65535, ports, addresses, seq increasing, t never going back).
// Memory is bounded by one line and the topology (docs/exports.md lists every limit); a bad line
// is a TraceReadError "NAME:LINE: what". Owned by whoever drives the exports (viz/export.cpp).
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace netsim {

// A trace that cannot be read: "NAME:LINE: what is wrong".
class TraceReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The reader's limits. Defaults are the documented ones (docs/exports.md).
struct TraceLimits {
  size_t max_header_bytes = 64u << 20;   // the header line carries the whole topology
  size_t max_line_bytes = 1u << 20;      // every other line
  int max_depth = 16;                    // nesting of objects and arrays in one line
  size_t max_names = 65536;              // hosts + interfaces + links (header and events)
  size_t max_list = 4096;                // entries of one list (addresses, shadowed, between)
};

inline constexpr int64_t kMaxTraceTime = (int64_t{1} << 62) - 1;  // ns, about 146 years
inline constexpr int64_t kMaxPacketLen = 65535;

struct TopologyInterface {
  std::string name;
  std::vector<std::string> addresses;  // "10.0.0.1/24", as configured at t = 0
  int64_t mtu = 1500;
  bool up = true;
};

struct TopologyHost {
  std::string name;
  bool forwarding = false;
  std::vector<TopologyInterface> interfaces;  // sorted by name
};

struct TopologyLink {
  std::string name;
  std::vector<std::string> between;  // "host.interface"
  std::optional<int64_t> latency_ns, bandwidth_bps, queue, mtu;
  std::optional<double> loss;
};

// The header's topology plus every host and interface the events read so far name.
struct TraceTopology {
  std::map<std::string, TopologyHost> hosts;  // by name
  std::vector<TopologyLink> links;            // in header order
};

class TraceReader {
 public:
  // Reads and checks the header line. Throws TraceReadError.
  TraceReader(std::istream& in, std::string name, TraceLimits limits = {});

  const nlohmann::json& header() const { return header_; }
  std::string scenario() const;  // the header's scenario name, "trace" when absent
  const TraceTopology& topology() const { return topology_; }

  // The next event line, checked. False at the summary (then summary() is set) or at the end of
  // a trace cut short. Throws TraceReadError.
  bool next(nlohmann::json& event);
  const nlohmann::json* summary() const { return summary_ ? &*summary_ : nullptr; }

  const std::string& name() const { return name_; }

 private:
  bool read_line(std::string& line, size_t max_bytes);
  bool next_object(nlohmann::json& out, size_t max_bytes);
  [[noreturn]] void fail(const std::string& what) const;
  void check_header();
  void check_event(const nlohmann::json& e);
  void check_packet(const nlohmann::json& p, const std::string& where, int depth);
  void check_summary(const nlohmann::json& s);
  void check_socket(const nlohmann::json& e);
  void note_name(const std::string& host, const std::string& interface);

  std::istream& in_;
  std::string name_;
  TraceLimits limits_;
  std::string buffer_;  // bytes read but not yet returned as lines
  size_t buffer_at_ = 0;
  bool eof_ = false;
  uint64_t line_ = 0;
  nlohmann::json header_;
  std::optional<nlohmann::json> summary_;
  TraceTopology topology_;
  size_t names_ = 0;
  int64_t last_seq_ = -1;
  int64_t last_t_ = 0;
};

}  // namespace netsim
