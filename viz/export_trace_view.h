// A read-only view of a trace's lines for the exporters: the header and its topology, the events
// between header and summary, and lenient accessors for packets and fields (a trace from a newer
// simulator may add fields; exporters ignore what they do not know). Holds pointers into the
// lines it was made from, which must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace netsim::exporting {

using nlohmann::json;

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

class TraceView {
 public:
  explicit TraceView(const std::vector<json>& lines);

  const json& header() const { return *header_; }
  const json* summary() const { return summary_; }  // null when the trace was cut short
  const std::vector<const json*>& events() const { return events_; }
  // The header's topology plus every host and interface the events name, sorted by name.
  const std::vector<TopologyHost>& hosts() const { return hosts_; }
  const std::vector<TopologyLink>& links() const { return links_; }
  std::string scenario() const;

 private:
  const json* header_ = nullptr;
  const json* summary_ = nullptr;
  std::vector<const json*> events_;
  std::vector<TopologyHost> hosts_;
  std::vector<TopologyLink> links_;
};

std::string str_field(const json& j, std::string_view key, std::string_view fallback = "");
int64_t int_field(const json& j, std::string_view key, int64_t fallback = 0);

// "10.0.0.1:80", "[fd00::1]:80", "10.0.0.1", "fd00::1" (port -1 when absent).
struct Endpoint {
  std::string address;
  int port = -1;
  bool v6 = false;
};
Endpoint parse_endpoint(std::string_view text);

// "TCP 10.0.0.100:49152 > 10.0.1.1:80 [S] seq 1000 ack 0 len 0", "UDP ... len 5",
// "ICMP port_unreachable 10.0.0.1 > 10.0.0.100".
std::string packet_summary(const json& packet);
// Virtual time for people: "0", "1ms", "1.000264ms", "2.5s".
std::string format_time(int64_t ns);
// Text for XML/HTML content and attributes: & < > " as entities; control characters other
// than tab and newline (not allowed in XML 1.0) as spaces.
std::string xml_escape(std::string_view s);

}  // namespace netsim::exporting
