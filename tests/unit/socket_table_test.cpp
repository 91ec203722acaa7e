// The socket table: both conflict tables (semantics.md 5.2, 5.3), the six demux levels with
// their shadowed lists (5.1), netstack3 shared-entry selection, ephemeral ports (5.4).
#include "stack/socket_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace netsim {
namespace {

// A socket written as text:
//   "L *:80" (wildcard, both families), "L *4:80", "L *6:80", "L 10.0.0.1:80",
//   "L 10.0.0.1+10.0.0.2:80", "L [fd00::1]:80", "C 10.0.0.1:80>10.0.0.9:5000",
// followed by optional "%<device>", "ra" (reuse_addr), "rp" (reuse_port), "u<uid>".
struct Spec {
  bool listener = true;
  ListenerAddr listen;
  ConnAddr conn;
  Sharing sharing;
};

IpAddr ip(std::string_view text) {
  auto a = IpAddr::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddr());
}

SocketAddr sa(std::string_view text) {
  auto a = SocketAddr::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(SocketAddr());
}

Spec spec(const std::string& text) {
  std::istringstream in(text);
  std::string kind, local;
  in >> kind >> local;
  Spec s;
  s.listener = kind == "L";
  std::optional<DeviceId> device;
  for (std::string mod; in >> mod;) {
    if (mod == "ra") s.sharing.reuse_addr = true;
    else if (mod == "rp") s.sharing.reuse_port = true;
    else if (mod[0] == '%') device = DeviceId{static_cast<uint32_t>(std::stoul(mod.substr(1)))};
    else if (mod[0] == 'u') s.sharing.uid = static_cast<uint32_t>(std::stoul(mod.substr(1)));
    else ADD_FAILURE() << "bad modifier " << mod;
  }
  if (!s.listener) {
    const auto arrow = local.find('>');
    s.conn = ConnAddr{sa(local.substr(0, arrow)), sa(local.substr(arrow + 1)), device};
    return s;
  }
  const auto colon = local.rfind(':');
  const std::string addrs = local.substr(0, colon);
  s.listen.port = static_cast<Port>(std::stoul(local.substr(colon + 1)));
  s.listen.device = device;
  if (addrs == "*") s.listen.family = FamilySet::kBoth;
  else if (addrs == "*4") s.listen.family = FamilySet::kV4;
  else if (addrs == "*6") s.listen.family = FamilySet::kV6;
  else {
    std::istringstream parts(addrs);
    for (std::string a; std::getline(parts, a, '+');) {
      if (a.front() == '[') a = a.substr(1, a.size() - 2);
      s.listen.addresses.push_back(ip(a));
    }
  }
  return s;
}

// The tests number sockets 1, 2, ...: socket n is SocketId{n}.
using Num = uint32_t;
SocketId id_of(Num n) { return SocketId{n, 0, TransportProto::kUdp}; }
std::vector<Num> nums(const std::vector<SocketId>& ids) {
  std::vector<Num> out;
  for (SocketId id : ids) out.push_back(id.slot);
  return out;
}

Result<void> insert(SocketTable& table, Num n, const std::string& text) {
  const Spec s = spec(text);
  return s.listener ? table.insert_listener(id_of(n), s.listen, s.sharing)
                    : table.insert_connection(id_of(n), s.conn, s.sharing);
}

std::optional<NetError> error_of(const Result<void>& r) {
  return r.ok() ? std::nullopt : std::optional<NetError>(r.error());
}

constexpr std::optional<NetError> kOk = std::nullopt;
constexpr std::optional<NetError> kInUse = NetError::kAddressInUse;
constexpr std::optional<NetError> kListening = NetError::kListenerExists;
constexpr std::optional<NetError> kUnsupported = NetError::kNotSupported;

// ----------------------------------------------------------------------------------------------
// Conflict tables: insert `first`, then `second`; the second gets `expected`. With both_orders the
// same holds with the two swapped. A rejected insert leaves the table as it was.

enum class Protos : uint8_t { kUdp, kTcp, kBoth };

struct ConflictRow {
  const char* name;
  SocketPolicy policy;
  Protos protos;
  const char* first;
  const char* second;
  bool both_orders;
  std::optional<NetError> expected;
};

constexpr auto kSeed = SocketPolicy::kSeed;
constexpr auto kNs3 = SocketPolicy::kNetstack3;
constexpr const char* kConn = "C 10.0.0.1:80>10.0.0.9:5000";

const ConflictRow kConflictRows[] = {
    // Policy seed: only identical keys conflict, whatever the options.
    {"SeedSameWildcardConflicts", kSeed, Protos::kBoth, "L *:80", "L *:80", false, kInUse},
    {"SeedWildcardsOfDisjointFamiliesCoexist", kSeed, Protos::kBoth, "L *4:80", "L *6:80", true, kOk},
    {"SeedWildcardsOfOverlappingFamiliesConflict", kSeed, Protos::kBoth, "L *:80", "L *6:80", true, kInUse},
    {"SeedWildcardsOnDifferentPortsCoexist", kSeed, Protos::kBoth, "L *:80", "L *:81", false, kOk},
    {"SeedSameSpecificConflicts", kSeed, Protos::kBoth, "L 10.0.0.1:80", "L 10.0.0.1:80", false, kInUse},
    {"SeedSameSpecificV6Conflicts", kSeed, Protos::kBoth, "L [fd00::1]:80", "L [fd00::1]:80", false, kInUse},
    {"SeedDifferentAddressesCoexist", kSeed, Protos::kBoth, "L 10.0.0.1:80", "L 10.0.0.2:80", false, kOk},
    {"SeedSpecificAndWildcardCoexist", kSeed, Protos::kBoth, "L 10.0.0.1:80", "L *:80", true, kOk},
    {"SeedIntersectingAddressSetsConflict", kSeed, Protos::kBoth, "L 10.0.0.1+10.0.0.2:80",
     "L 10.0.0.3+10.0.0.2:80", true, kInUse},
    {"SeedEnumeratedAddressesConflictWithSpecific", kSeed, Protos::kBoth, "L 10.0.0.1+10.0.0.2:80",
     "L 10.0.0.2:80", true, kInUse},
    {"SeedEnumeratedAddressesAreNotAWildcard", kSeed, Protos::kBoth, "L 10.0.0.1+10.0.0.2:80", "L *:80",
     true, kOk},
    {"SeedWildcardsOnSameDeviceConflict", kSeed, Protos::kBoth, "L *:80 %1", "L *:80 %1", false, kInUse},
    {"SeedWildcardsOnDifferentDevicesCoexist", kSeed, Protos::kBoth, "L *:80 %1", "L *:80 %2", false, kOk},
    {"SeedDeviceAndNoDeviceWildcardsCoexist", kSeed, Protos::kBoth, "L *:80 %1", "L *:80", true, kOk},
    {"SeedDeviceAndNoDeviceSpecificCoexist", kSeed, Protos::kBoth, "L 10.0.0.1:80 %1", "L 10.0.0.1:80",
     true, kOk},
    {"SeedSameConnectionConflicts", kSeed, Protos::kBoth, kConn, kConn, false, kInUse},
    {"SeedSameConnectionSameDeviceConflicts", kSeed, Protos::kBoth, "C 10.0.0.1:80>10.0.0.9:5000 %1",
     "C 10.0.0.1:80>10.0.0.9:5000 %1", false, kInUse},
    {"SeedConnectionWithAndWithoutDeviceCoexist", kSeed, Protos::kBoth, "C 10.0.0.1:80>10.0.0.9:5000 %1",
     kConn, true, kOk},
    {"SeedConnectionsToDifferentPeersCoexist", kSeed, Protos::kBoth, kConn, "C 10.0.0.1:80>10.0.0.9:5001",
     false, kOk},
    {"SeedSpecificListenerAndConnectionCoexist", kSeed, Protos::kBoth, "L 10.0.0.1:80", kConn, true, kOk},
    {"SeedWildcardListenerAndConnectionCoexist", kSeed, Protos::kBoth, "L *:80", kConn, true, kOk},
    {"SeedIgnoresReuseAddr", kSeed, Protos::kBoth, "L *:80 ra", "L *:80 ra", false, kInUse},
    {"SeedIgnoresReusePort", kSeed, Protos::kBoth, "L *:80 rp", "L *:80 rp", false, kInUse},
    {"SeedAcceptsReusePortOnTcp", kSeed, Protos::kTcp, "L *:81", "L *:80 rp", false, kOk},

    // Policy netstack3, UDP: every overlap conflicts unless shareable.
    {"Ns3UdpSameWildcardConflicts", kNs3, Protos::kUdp, "L *:80", "L *:80", false, kInUse},
    {"Ns3UdpSameWildcardSharedWithReuseAddr", kNs3, Protos::kUdp, "L *:80 ra", "L *:80 ra", false, kOk},
    {"Ns3UdpSameWildcardSharedWithReusePort", kNs3, Protos::kUdp, "L *:80 rp", "L *:80 rp", false, kOk},
    {"Ns3UdpReuseAddrAndReusePortConflict", kNs3, Protos::kUdp, "L *:80 ra", "L *:80 rp", true, kInUse},
    {"Ns3UdpExclusiveAndReuseAddrConflict", kNs3, Protos::kUdp, "L *:80", "L *:80 ra", true, kInUse},
    {"Ns3UdpBothOptionsShareWithReuseAddr", kNs3, Protos::kUdp, "L *:80 ra rp", "L *:80 ra", true, kOk},
    {"Ns3UdpBothOptionsShareWithReusePort", kNs3, Protos::kUdp, "L *:80 ra rp", "L *:80 rp", true, kOk},
    {"Ns3UdpSpecificAndWildcardConflict", kNs3, Protos::kUdp, "L 10.0.0.1:80", "L *:80", true, kInUse},
    {"Ns3UdpSpecificAndWildcardShareWithReuseAddr", kNs3, Protos::kUdp, "L 10.0.0.1:80 ra", "L *:80 ra",
     true, kOk},
    {"Ns3UdpSpecificAndWildcardShareWithReusePort", kNs3, Protos::kUdp, "L 10.0.0.1:80 rp", "L *:80 rp",
     true, kOk},
    {"Ns3UdpSpecificAndWildcardOneSideReuseConflict", kNs3, Protos::kUdp, "L 10.0.0.1:80 ra", "L *:80",
     true, kInUse},
    {"Ns3UdpV4WildcardAndV6SpecificCoexist", kNs3, Protos::kUdp, "L *4:80", "L [fd00::1]:80", true, kOk},
    {"Ns3UdpBothFamilyWildcardAndV6SpecificConflict", kNs3, Protos::kUdp, "L *:80", "L [fd00::1]:80",
     true, kInUse},
    {"Ns3UdpDifferentAddressesCoexist", kNs3, Protos::kUdp, "L 10.0.0.1:80", "L 10.0.0.2:80", false, kOk},
    {"Ns3UdpEnumeratedAddressesConflictWithSpecific", kNs3, Protos::kUdp, "L 10.0.0.1+10.0.0.2:80",
     "L 10.0.0.2:80", true, kInUse},
    {"Ns3UdpWildcardsOnDifferentDevicesCoexist", kNs3, Protos::kUdp, "L *:80 %1", "L *:80 %2", false, kOk},
    {"Ns3UdpUnboundWildcardConflictsWithDeviceWildcard", kNs3, Protos::kUdp, "L *:80", "L *:80 %1", true,
     kInUse},
    {"Ns3UdpDeviceSpecificAndOtherDeviceWildcardCoexist", kNs3, Protos::kUdp, "L 10.0.0.1:80 %1",
     "L *:80 %2", true, kOk},
    {"Ns3UdpDeviceSpecificAndSameDeviceWildcardConflict", kNs3, Protos::kUdp, "L 10.0.0.1:80 %1",
     "L *:80 %1", true, kInUse},
    {"Ns3UdpIndirectDeviceWildcardAndSpecificConflict", kNs3, Protos::kUdp, "L *:80 %1", "L 10.0.0.1:80",
     true, kInUse},
    {"Ns3UdpIndirectDeviceWildcardAndConnectionConflict", kNs3, Protos::kUdp, "L *:80 %1", kConn, true,
     kInUse},
    {"Ns3UdpIndirectDeviceSpecificAndConnectionConflict", kNs3, Protos::kUdp, "L 10.0.0.1:80 %1", kConn,
     true, kInUse},
    {"Ns3UdpIndirectSharedWithReusePort", kNs3, Protos::kUdp, "L *:80 %1 rp", "L 10.0.0.1:80 rp", true,
     kOk},
    {"Ns3UdpListenerAndConnectionConflict", kNs3, Protos::kUdp, "L 10.0.0.1:80", kConn, true, kInUse},
    {"Ns3UdpListenerAndConnectionShareWithReusePort", kNs3, Protos::kUdp, "L 10.0.0.1:80 rp",
     "C 10.0.0.1:80>10.0.0.9:5000 rp", true, kOk},
    {"Ns3UdpWildcardAndConnectionConflict", kNs3, Protos::kUdp, "L *:80", kConn, true, kInUse},
    {"Ns3UdpOtherAddressListenerAndConnectionCoexist", kNs3, Protos::kUdp, "L 10.0.0.2:80", kConn, true,
     kOk},
    {"Ns3UdpSameConnectionConflicts", kNs3, Protos::kUdp, kConn, kConn, false, kInUse},
    {"Ns3UdpSameConnectionSharedWithReusePort", kNs3, Protos::kUdp, "C 10.0.0.1:80>10.0.0.9:5000 rp",
     "C 10.0.0.1:80>10.0.0.9:5000 rp", false, kOk},
    {"Ns3UdpConnectionWithAndWithoutDeviceConflict", kNs3, Protos::kUdp, kConn,
     "C 10.0.0.1:80>10.0.0.9:5000 %1", true, kInUse},
    {"Ns3UdpConnectionsOnDifferentDevicesCoexist", kNs3, Protos::kUdp, "C 10.0.0.1:80>10.0.0.9:5000 %1",
     "C 10.0.0.1:80>10.0.0.9:5000 %2", false, kOk},
    {"Ns3UdpConnectionsToDifferentPeersCoexist", kNs3, Protos::kUdp, kConn, "C 10.0.0.1:80>10.0.0.9:5001",
     false, kOk},

    // Policy netstack3, TCP: one listener per overlap; connections only against connections.
    {"Ns3TcpSameWildcardConflicts", kNs3, Protos::kTcp, "L *:80", "L *:80", false, kInUse},
    {"Ns3TcpSameWildcardWithReuseAddrListenerExists", kNs3, Protos::kTcp, "L *:80 ra", "L *:80 ra", false,
     kListening},
    {"Ns3TcpSpecificAndWildcardConflict", kNs3, Protos::kTcp, "L 10.0.0.1:80", "L *:80", true, kInUse},
    {"Ns3TcpSpecificAndWildcardWithReuseAddrListenerExists", kNs3, Protos::kTcp, "L 10.0.0.1:80 ra",
     "L *:80 ra", true, kListening},
    {"Ns3TcpOneSideReuseAddrConflicts", kNs3, Protos::kTcp, "L 10.0.0.1:80 ra", "L *:80", true, kInUse},
    {"Ns3TcpDifferentAddressesBothListen", kNs3, Protos::kTcp, "L 10.0.0.1:80", "L 10.0.0.2:80", false,
     kOk},
    {"Ns3TcpEnumeratedAddressesConflictWithSpecific", kNs3, Protos::kTcp, "L 10.0.0.1+10.0.0.2:80",
     "L 10.0.0.2:80", true, kInUse},
    {"Ns3TcpV4WildcardAndV6SpecificCoexist", kNs3, Protos::kTcp, "L *4:80", "L [fd00::1]:80", true, kOk},
    {"Ns3TcpWildcardsOnDifferentDevicesBothListen", kNs3, Protos::kTcp, "L *:80 %1", "L *:80 %2", false,
     kOk},
    {"Ns3TcpUnboundWildcardConflictsWithDeviceWildcard", kNs3, Protos::kTcp, "L *:80", "L *:80 %1", true,
     kInUse},
    {"Ns3TcpIndirectListenersListenerExists", kNs3, Protos::kTcp, "L *:80 %1", "L 10.0.0.1:80", true,
     kListening},
    {"Ns3TcpConnectionUnderSpecificListenerCoexists", kNs3, Protos::kTcp, "L 10.0.0.1:80", kConn, false,
     kOk},
    {"Ns3TcpConnectionUnderWildcardListenerCoexists", kNs3, Protos::kTcp, "L *:80", kConn, false, kOk},
    // reuseaddr_allows_binding_under_connection: a new listener over a connection (an accepted
    // one whose listener closed) conflicts unless both set reuse_addr.
    {"Ns3TcpListenerOverConnectionConflicts", kNs3, Protos::kTcp, kConn, "L *:80", false, kInUse},
    {"Ns3TcpSpecificListenerOverConnectionConflicts", kNs3, Protos::kTcp, kConn, "L 10.0.0.1:80", false,
     kInUse},
    {"Ns3TcpListenerOverConnectionWithReuseAddrBinds", kNs3, Protos::kTcp,
     "C 10.0.0.1:80>10.0.0.9:5000 ra", "L *:80 ra", false, kOk},
    {"Ns3TcpListenerOverConnectionOneSideReuseAddrConflicts", kNs3, Protos::kTcp, kConn, "L *:80 ra",
     false, kInUse},
    {"Ns3TcpDeviceListenerOverUnboundConnectionIsIndirect", kNs3, Protos::kTcp, kConn,
     "L 10.0.0.1:80 %1", false, kOk},
    {"Ns3TcpSameConnectionConflicts", kNs3, Protos::kTcp, kConn, kConn, false, kInUse},
    {"Ns3TcpSameConnectionConflictsDespiteReuseAddr", kNs3, Protos::kTcp, "C 10.0.0.1:80>10.0.0.9:5000 ra",
     "C 10.0.0.1:80>10.0.0.9:5000 ra", false, kInUse},
    {"Ns3TcpConnectionWithAndWithoutDeviceConflict", kNs3, Protos::kTcp, kConn,
     "C 10.0.0.1:80>10.0.0.9:5000 %1", true, kInUse},
    {"Ns3TcpConnectionsOnDifferentDevicesCoexist", kNs3, Protos::kTcp, "C 10.0.0.1:80>10.0.0.9:5000 %1",
     "C 10.0.0.1:80>10.0.0.9:5000 %2", false, kOk},
    {"Ns3TcpReusePortListenerNotSupported", kNs3, Protos::kTcp, "L *:81", "L *:80 rp", false,
     kUnsupported},
    {"Ns3TcpReusePortConnectionNotSupported", kNs3, Protos::kTcp, "L *:81",
     "C 10.0.0.1:80>10.0.0.9:5000 rp", false, kUnsupported},
};

class ConflictTable : public ::testing::TestWithParam<ConflictRow> {};

TEST_P(ConflictTable, SecondInsertGetsExpectedResult) {
  const ConflictRow& row = GetParam();
  std::vector<TransportProto> protos;
  if (row.protos != Protos::kTcp) protos.push_back(TransportProto::kUdp);
  if (row.protos != Protos::kUdp) protos.push_back(TransportProto::kTcp);
  for (TransportProto proto : protos) {
    for (int order = 0; order < (row.both_orders ? 2 : 1); ++order) {
      SCOPED_TRACE(::testing::Message() << (proto == TransportProto::kUdp ? "udp" : "tcp")
                                        << (order ? " reversed" : ""));
      const char* a = order ? row.second : row.first;
      const char* b = order ? row.first : row.second;
      SocketTable table(row.policy, proto);
      ASSERT_TRUE(insert(table, 1, a).ok());
      EXPECT_EQ(error_of(insert(table, 2, b)), row.expected);
      EXPECT_EQ(table.contains(id_of(2)), !row.expected.has_value());
      EXPECT_EQ(table.size(), row.expected ? 1u : 2u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SocketTable, ConflictTable, ::testing::ValuesIn(kConflictRows),
                         [](const auto& info) { return std::string(info.param.name); });

// ----------------------------------------------------------------------------------------------
// Demux: one socket at each of the six levels, plus a v4-only wildcard on port 82.

struct LookupConfig {
  const char* name;
  SocketPolicy policy;
  TransportProto proto;
  const char* options;  // appended to every socket
};

const LookupConfig kLookupConfigs[] = {
    {"SeedUdp", kSeed, TransportProto::kUdp, ""},
    {"SeedTcp", kSeed, TransportProto::kTcp, ""},
    {"Ns3UdpReuseAddr", kNs3, TransportProto::kUdp, " ra"},
    {"Ns3UdpReusePort", kNs3, TransportProto::kUdp, " rp"},
};

struct LookupRow {
  const char* name;
  const char* dst;
  const char* src;
  uint32_t rx_device;
  std::optional<Num> socket;  // none: no socket matches
  MatchRule rule;
  std::vector<Num> shadowed;
};

const LookupRow kLookupRows[] = {
    {"ConnectionOnRxDeviceFirst", "10.0.0.1:80", "10.0.0.9:5000", 1, 1, MatchRule::kConnectionDevice,
     {2, 3, 4, 5, 6}},
    {"ConnectionWithoutDevice", "10.0.0.1:80", "10.0.0.9:5000", 2, 2, MatchRule::kConnection, {4, 6}},
    {"SpecificOnRxDevice", "10.0.0.1:80", "10.0.0.9:5001", 1, 3, MatchRule::kSpecificDevice, {4, 5, 6}},
    {"SpecificWithoutDevice", "10.0.0.1:80", "10.0.0.9:5001", 2, 4, MatchRule::kSpecific, {6}},
    {"WildcardOnRxDevice", "10.0.0.2:80", "10.0.0.9:5000", 1, 5, MatchRule::kWildcardDevice, {6}},
    {"WildcardWithoutDevice", "10.0.0.2:80", "10.0.0.9:5000", 2, 6, MatchRule::kWildcard, {}},
    {"WildcardCoversV6", "[fd00::1]:80", "[fd00::9]:5000", 2, 6, MatchRule::kWildcard, {}},
    {"DeviceWildcardCoversV6", "[fd00::1]:80", "[fd00::9]:5000", 1, 5, MatchRule::kWildcardDevice, {6}},
    {"OtherPortMatchesNothing", "10.0.0.1:81", "10.0.0.9:5000", 1, std::nullopt, MatchRule::kWildcard, {}},
    {"V4WildcardMatchesV4", "10.0.0.1:82", "10.0.0.9:5000", 1, 7, MatchRule::kWildcard, {}},
    {"V4WildcardIgnoresV6", "[fd00::1]:82", "[fd00::9]:5000", 1, std::nullopt, MatchRule::kWildcard, {}},
};

// Socket i+1 sits at demux level i+1 for a packet 10.0.0.9:5000 -> 10.0.0.1:80 on device 1.
void fill_levels(SocketTable& table, const std::string& options) {
  const char* sockets[] = {
      "C 10.0.0.1:80>10.0.0.9:5000 %1", "C 10.0.0.1:80>10.0.0.9:5000", "L 10.0.0.1:80 %1",
      "L 10.0.0.1:80", "L *:80 %1", "L *:80", "L *4:82"};
  Num id = 1;
  for (const char* s : sockets) ASSERT_TRUE(insert(table, id++, s + options).ok()) << s;
}

class LookupTable : public ::testing::TestWithParam<std::tuple<LookupConfig, LookupRow>> {};

TEST_P(LookupTable, FirstMatchingLevelWins) {
  const auto& [config, row] = GetParam();
  SocketTable table(config.policy, config.proto);
  fill_levels(table, config.options);
  auto d = table.lookup(sa(row.dst), sa(row.src), DeviceId{row.rx_device});
  ASSERT_EQ(d.has_value(), row.socket.has_value());
  if (!d) return;
  EXPECT_EQ(d->socket, id_of(*row.socket));
  EXPECT_EQ(d->rule, row.rule);
  EXPECT_EQ(nums(d->shadowed), row.shadowed);
}

INSTANTIATE_TEST_SUITE_P(SocketTable, LookupTable,
                         ::testing::Combine(::testing::ValuesIn(kLookupConfigs),
                                            ::testing::ValuesIn(kLookupRows)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) + "_" +
                                  std::get<1>(info.param).name;
                         });

class LevelRemoval : public ::testing::TestWithParam<LookupConfig> {};

TEST_P(LevelRemoval, EachRemovalUncoversTheNextLevel) {
  // Rule: removing the winner hands the packet to the next non-empty level (5.1, 5.2).
  const LookupConfig& config = GetParam();
  SocketTable table(config.policy, config.proto);
  fill_levels(table, config.options);
  const MatchRule rules[] = {MatchRule::kConnectionDevice, MatchRule::kConnection,
                             MatchRule::kSpecificDevice,   MatchRule::kSpecific,
                             MatchRule::kWildcardDevice,   MatchRule::kWildcard};
  for (Num id = 1; id <= 6; ++id) {
    auto d = table.lookup(sa("10.0.0.1:80"), sa("10.0.0.9:5000"), DeviceId{1});
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->socket, id_of(id));
    EXPECT_EQ(d->rule, rules[id - 1]);
    EXPECT_EQ(d->shadowed.size(), 6 - id);
    table.remove(id_of(id));
  }
  EXPECT_FALSE(table.lookup(sa("10.0.0.1:80"), sa("10.0.0.9:5000"), DeviceId{1}).has_value());
}

INSTANTIATE_TEST_SUITE_P(SocketTable, LevelRemoval, ::testing::ValuesIn(kLookupConfigs),
                         [](const auto& info) { return std::string(info.param.name); });

// ----------------------------------------------------------------------------------------------
// Demux rules stated one by one.

std::optional<Num> winner(const SocketTable& t, const char* dst, const char* src,
                               DeviceId device = DeviceId{1}) {
  auto d = t.lookup(sa(dst), sa(src), device);
  return d ? std::optional<Num>(d->socket.slot) : std::nullopt;
}

TEST(SocketTable, WildcardListenerUncoveredWhenSpecificCloses) {
  // Seed: a specific listener shadows the wildcard; netstack3 UDP the same when both share.
  for (auto [policy, options] : {std::pair{kSeed, ""}, std::pair{kNs3, " ra"}}) {
    SocketTable t(policy, TransportProto::kUdp);
    ASSERT_TRUE(insert(t, 1, std::string("L 10.0.0.1:80") + options).ok());
    ASSERT_TRUE(insert(t, 2, std::string("L *:80") + options).ok());
    auto d = t.lookup(sa("10.0.0.1:80"), sa("10.0.0.9:5000"), DeviceId{1});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->socket, id_of(1));
    EXPECT_EQ(d->rule, MatchRule::kSpecific);
    EXPECT_EQ(nums(d->shadowed), std::vector<Num>{2});
    EXPECT_EQ(winner(t, "10.0.0.2:80", "10.0.0.9:5000"), 2u);
    t.remove(id_of(1));
    d = t.lookup(sa("10.0.0.1:80"), sa("10.0.0.9:5000"), DeviceId{1});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->socket, id_of(2));
    EXPECT_EQ(d->rule, MatchRule::kWildcard);
    EXPECT_TRUE(d->shadowed.empty());
  }
}

TEST(SocketTable, DeviceBoundSocketIgnoresOtherDevices) {
  SocketTable t(kSeed, TransportProto::kUdp);
  ASSERT_TRUE(insert(t, 1, "L *:80 %1").ok());
  ASSERT_TRUE(insert(t, 2, "C 10.0.0.1:90>10.0.0.9:5000 %1").ok());
  EXPECT_EQ(winner(t, "10.0.0.1:80", "10.0.0.9:5000", DeviceId{1}), 1u);
  EXPECT_EQ(winner(t, "10.0.0.1:80", "10.0.0.9:5000", DeviceId{2}), std::nullopt);
  EXPECT_EQ(winner(t, "10.0.0.1:90", "10.0.0.9:5000", DeviceId{1}), 2u);
  EXPECT_EQ(winner(t, "10.0.0.1:90", "10.0.0.9:5000", DeviceId{2}), std::nullopt);
}

TEST(SocketTable, EnumeratedListenerMissesOtherAddresses) {
  // Not a wildcard: an address the listener did not list (e.g. one added later) reaches nothing.
  SocketTable t(kSeed, TransportProto::kTcp);
  ASSERT_TRUE(insert(t, 1, "L 10.0.0.1+10.0.0.2:80").ok());
  auto d = t.lookup(sa("10.0.0.2:80"), sa("10.0.0.9:5000"), DeviceId{1});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->rule, MatchRule::kSpecific);
  EXPECT_EQ(winner(t, "10.0.0.3:80", "10.0.0.9:5000"), std::nullopt);
}

TEST(SocketTable, ConnectionShadowsListenerUnderNetstack3Tcp) {
  SocketTable t(kNs3, TransportProto::kTcp);
  ASSERT_TRUE(insert(t, 1, "L *:80").ok());
  ASSERT_TRUE(insert(t, 2, kConn).ok());
  auto d = t.lookup(sa("10.0.0.1:80"), sa("10.0.0.9:5000"), DeviceId{3});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->socket, id_of(2));
  EXPECT_EQ(d->rule, MatchRule::kConnection);
  EXPECT_EQ(nums(d->shadowed), std::vector<Num>{1});
  EXPECT_EQ(winner(t, "10.0.0.1:80", "10.0.0.9:5001"), 1u);
}

TEST(SocketTable, ShadowedListsEverySocketOfASharedEntry) {
  SocketTable t(kNs3, TransportProto::kUdp);
  ASSERT_TRUE(insert(t, 5, "L *:80 rp").ok());
  ASSERT_TRUE(insert(t, 3, "L *:80 rp").ok());
  ASSERT_TRUE(insert(t, 9, "L 10.0.0.1:80 rp").ok());
  auto d = t.lookup(sa("10.0.0.1:80"), sa("10.0.0.9:5000"), DeviceId{1});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->socket, id_of(9));
  EXPECT_EQ(nums(d->shadowed), (std::vector<Num>{3, 5}));
}

TEST(SocketTable, UnspecifiedDestinationMatchesNothing) {
  SocketTable t(kSeed, TransportProto::kUdp);
  ASSERT_TRUE(insert(t, 1, "L *:80").ok());
  EXPECT_EQ(winner(t, "0.0.0.0:80", "10.0.0.9:5000"), std::nullopt);
}

// ----------------------------------------------------------------------------------------------
// netstack3 UDP: choosing inside a shared entry.

TEST(SocketTable, NewestReuseAddrSocketReceives) {
  SocketTable t(kNs3, TransportProto::kUdp);
  for (Num id : {1u, 2u, 3u}) ASSERT_TRUE(insert(t, id, "L *:80 ra").ok());
  EXPECT_EQ(winner(t, "10.0.0.1:80", "10.0.0.9:5000"), 3u);
  t.remove(id_of(3));
  EXPECT_EQ(winner(t, "10.0.0.1:80", "10.0.0.9:5000"), 2u);
}

TEST(SocketTable, ReuseAddrOnlySocketBeatsReusePortSockets) {
  SocketTable t(kNs3, TransportProto::kUdp);
  ASSERT_TRUE(insert(t, 1, "L *:80 ra rp").ok());
  ASSERT_TRUE(insert(t, 2, "L *:80 ra").ok());
  ASSERT_TRUE(insert(t, 3, "L *:80 ra rp").ok());
  for (Port sport = 1000; sport < 1100; ++sport)
    EXPECT_EQ(winner(t, "10.0.0.1:80", ("10.0.0.9:" + std::to_string(sport)).c_str()), 2u);
}

TEST(SocketTable, ReusePortHashIsDeterministicAndSpreads) {
  auto build = [] {
    SocketTable t(kNs3, TransportProto::kUdp);
    for (Num id = 1; id <= 4; ++id) EXPECT_TRUE(insert(t, id, "L *:80 rp").ok());
    return t;
  };
  const SocketTable a = build();
  const SocketTable b = build();
  std::map<Num, int> counts;
  for (Port sport = 1000; sport < 5000; ++sport) {
    const std::string src = "10.0.0.9:" + std::to_string(sport);
    auto w = winner(a, "10.0.0.1:80", src.c_str());
    ASSERT_TRUE(w);
    EXPECT_EQ(w, winner(a, "10.0.0.1:80", src.c_str()));  // same packet, same socket
    EXPECT_EQ(w, winner(b, "10.0.0.1:80", src.c_str()));  // same table, same socket
    ++counts[*w];
  }
  ASSERT_EQ(counts.size(), 4u);
  for (auto [id, n] : counts) EXPECT_GT(n, 800) << id;  // 1000 each if even
  // Pinned: the hash decides deliveries the trace shows; changing it changes golden traces.
  EXPECT_EQ(flow_hash(sa("10.0.0.9:1000"), sa("10.0.0.1:80")), 0x0d2d93404406d693ULL);
  EXPECT_EQ(flow_hash(sa("[fd00::9]:1000"), sa("[fd00::1]:80")), 0xc55d24be8944c75bULL);
  EXPECT_NE(flow_hash(sa("10.0.0.9:1000"), sa("10.0.0.1:80")),
            flow_hash(sa("10.0.0.1:80"), sa("10.0.0.9:1000")));
}

TEST(SocketTable, SharedConnectionEntryDeliversToOldest) {
  SocketTable t(kNs3, TransportProto::kUdp);
  ASSERT_TRUE(insert(t, 1, "C 10.0.0.1:80>10.0.0.9:5000 rp").ok());
  ASSERT_TRUE(insert(t, 2, "C 10.0.0.1:80>10.0.0.9:5000 rp").ok());
  EXPECT_EQ(winner(t, "10.0.0.1:80", "10.0.0.9:5000"), 1u);
  t.remove(id_of(1));
  EXPECT_EQ(winner(t, "10.0.0.1:80", "10.0.0.9:5000"), 2u);
}

// ----------------------------------------------------------------------------------------------
// Insert and remove.

TEST(SocketTable, FailedMultiAddressInsertLeavesTableUnchanged) {
  for (SocketPolicy policy : {kSeed, kNs3}) {
    SocketTable t(policy, TransportProto::kUdp);
    ASSERT_TRUE(insert(t, 1, "L 10.0.0.2:80").ok());
    EXPECT_EQ(error_of(insert(t, 2, "L 10.0.0.1+10.0.0.2:80")), kInUse);
    EXPECT_FALSE(t.contains(id_of(2)));
    EXPECT_EQ(winner(t, "10.0.0.1:80", "10.0.0.9:5000"), std::nullopt);  // 10.0.0.1 not bound
    EXPECT_TRUE(insert(t, 3, "L 10.0.0.1:80").ok());
  }
}

TEST(SocketTable, AddressInUseWinsOverListenerExists) {
  // Two existing listeners conflict with the new one in different ways; bind fails first.
  for (bool swap : {false, true}) {  // whichever address (and so map order) holds which
    SocketTable t(kNs3, TransportProto::kTcp);
    ASSERT_TRUE(insert(t, 1, swap ? "L 10.0.0.2:80 ra" : "L 10.0.0.1:80 ra").ok());
    ASSERT_TRUE(insert(t, 2, swap ? "L 10.0.0.1:80" : "L 10.0.0.2:80").ok());
    EXPECT_EQ(error_of(insert(t, 3, "L *:80 ra")), kInUse);
  }
}

TEST(SocketTable, SharedEntryKeepsOptionsOfAllMembers) {
  // An entry allows reuse_addr only if every member has it.
  SocketTable t(kNs3, TransportProto::kUdp);
  ASSERT_TRUE(insert(t, 1, "L *:80 ra rp").ok());
  ASSERT_TRUE(insert(t, 2, "L *:80 rp").ok());
  EXPECT_EQ(error_of(insert(t, 3, "L *:80 ra")), kInUse);
  EXPECT_TRUE(insert(t, 4, "L *:80 rp").ok());
}

TEST(SocketTable, DuplicateSocketIdRejected) {
  SocketTable t(kSeed, TransportProto::kUdp);
  ASSERT_TRUE(insert(t, 1, "L *:80").ok());
  EXPECT_EQ(error_of(insert(t, 1, "L *:81")), NetError::kSocketExists);
  EXPECT_EQ(t.size(), 1u);
}

TEST(SocketTable, MalformedAddressesRejected) {
  SocketTable t(kSeed, TransportProto::kUdp);
  EXPECT_EQ(error_of(insert(t, 1, "L *:0")), NetError::kInvalidArgument);
  EXPECT_EQ(error_of(t.insert_listener(id_of(2), ListenerAddr{{ip("0.0.0.0")}, FamilySet::kBoth, 80, {}}, {})),
            NetError::kInvalidArgument);
  EXPECT_EQ(error_of(insert(t, 3, "C 10.0.0.1:80>[fd00::9]:5000")), NetError::kInvalidArgument);
  EXPECT_EQ(error_of(insert(t, 4, "C 0.0.0.0:80>10.0.0.9:5000")), NetError::kInvalidArgument);
  EXPECT_EQ(error_of(insert(t, 5, "C 10.0.0.1:0>10.0.0.9:5000")), NetError::kInvalidArgument);
  EXPECT_EQ(t.size(), 0u);
}

TEST(SocketTable, RemovalLeavesNoTrace) {
  // netstack3 TCP picks a listener port only if nothing at all uses it: a leftover index entry
  // would move the pick off 49152.
  SocketTable t(kNs3, TransportProto::kTcp);
  const char* sockets[] = {"L 10.0.0.1+10.0.0.2:49152 %2", "L *:49152 %1",
                           "C 10.0.0.1:49152>10.0.0.9:5000", "C 10.0.0.1:49152>10.0.0.9:5001 %2",
                           "C [fd00::1]:49152>[fd00::9]:5000"};
  for (int round = 0; round < 2; ++round) {
    Num id = 1;
    for (const char* s : sockets) ASSERT_TRUE(insert(t, id++, s).ok()) << s;
    EXPECT_EQ(t.size(), 5u);
    EXPECT_EQ(winner(t, "10.0.0.1:49152", "10.0.0.9:5000", DeviceId{2}), 3u);
    EXPECT_EQ(winner(t, "10.0.0.3:49152", "10.0.0.9:5000", DeviceId{1}), 2u);
    EXPECT_EQ(winner(t, "[fd00::1]:49152", "[fd00::9]:5001", DeviceId{1}), 2u);
    EXPECT_EQ(*t.pick_listener_port(spec("L *:0").listen, {}, 0), 49153);
    for (Num i = 1; i < id; ++i) t.remove(id_of(i));
    t.remove(id_of(42));  // unknown: ignored
    EXPECT_EQ(t.size(), 0u);
    EXPECT_FALSE(t.contains(id_of(1)));
    EXPECT_EQ(winner(t, "10.0.0.1:49152", "10.0.0.9:5000", DeviceId{2}), std::nullopt);
    EXPECT_EQ(winner(t, "10.0.0.3:49152", "10.0.0.9:5000", DeviceId{1}), std::nullopt);
    EXPECT_EQ(winner(t, "[fd00::1]:49152", "[fd00::9]:5000", DeviceId{1}), std::nullopt);
    auto port = t.pick_listener_port(spec("L *:0").listen, {}, 0);
    ASSERT_TRUE(port);
    EXPECT_EQ(*port, 49152);
  }
}

// ----------------------------------------------------------------------------------------------
// Ephemeral ports (5.4).

constexpr Port kFirst = 49152;

TEST(SocketTable, EphemeralPortStartsAtRandomOffsetInRange) {
  SocketTable t(kSeed, TransportProto::kUdp);
  for (uint64_t r : {uint64_t{0}, uint64_t{1}, uint64_t{16383}, uint64_t{16384}, uint64_t{123456789},
                     UINT64_MAX}) {
    auto p = t.pick_listener_port(spec("L *:0").listen, {}, r);
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, kFirst + r % 16384);
    auto c = t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:80").conn, {}, PortSource::kBound, r);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, kFirst + r % 16384);
  }
}

TEST(SocketTable, EphemeralPortSkipsConflictingPorts) {
  SocketTable t(kSeed, TransportProto::kUdp);
  ASSERT_TRUE(insert(t, 1, "L *4:50000").ok());
  ASSERT_TRUE(insert(t, 2, "L *4:50001").ok());
  EXPECT_EQ(*t.pick_listener_port(spec("L *:0").listen, {}, 50000 - kFirst), 50002);
  EXPECT_EQ(*t.pick_listener_port(spec("L *6:0").listen, {}, 50000 - kFirst), 50000);  // other family
  EXPECT_EQ(*t.pick_listener_port(spec("L *:0 %1").listen, {}, 50000 - kFirst), 50000);  // seed: device key
}

TEST(SocketTable, EphemeralPortWrapsAround) {
  SocketTable t(kSeed, TransportProto::kTcp);
  ASSERT_TRUE(insert(t, 1, "L 10.0.0.1:65535").ok());
  EXPECT_EQ(*t.pick_listener_port(spec("L 10.0.0.1:0").listen, {}, 16383), kFirst);
}

TEST(SocketTable, EphemeralPortsExhaustedGiveNoPorts) {
  for (SocketPolicy policy : {kSeed, kNs3}) {
    SocketTable t(policy, TransportProto::kUdp, 0, PortRange{50000, 50003});
    for (Port p = 50000; p <= 50003; ++p)
      ASSERT_TRUE(insert(t, p, "C 10.0.0.1:" + std::to_string(p) + ">10.0.0.9:80").ok());
    for (uint64_t r = 0; r < 8; ++r) {
      auto c = t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:80").conn, {}, PortSource::kBound, r);
      ASSERT_FALSE(c);
      EXPECT_EQ(c.error(), NetError::kNoPorts);
    }
    t.remove(id_of(50002));
    for (uint64_t r = 0; r < 8; ++r)
      EXPECT_EQ(*t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:80").conn, {}, PortSource::kBound, r), 50002);
  }
}

TEST(SocketTable, EphemeralPortFindsTheOnlyFreePortOfTheFullRange) {
  SocketTable t(kSeed, TransportProto::kUdp);
  for (uint32_t p = kFirst; p <= 65535; ++p)
    if (p != 60000) {
      ASSERT_TRUE(t.insert_listener(id_of(p), ListenerAddr{{}, FamilySet::kBoth, Port(p), {}}, {}).ok());
    }
  ASSERT_TRUE(insert(t, 1, "L *:1000").ok());  // outside the range: never picked anyway
  EXPECT_EQ(*t.pick_listener_port(spec("L *:0").listen, {}, 0), 60000);
  EXPECT_EQ(*t.pick_listener_port(spec("L *:0").listen, {}, 16383), 60000);
  ASSERT_TRUE(insert(t, 60000, "L *:60000").ok());
  EXPECT_EQ(t.pick_listener_port(spec("L *:0").listen, {}, 7).error(), NetError::kNoPorts);
}

TEST(SocketTable, SeedConnectionMayTakeAListenersPort) {
  SocketTable t(kSeed, TransportProto::kUdp);
  ASSERT_TRUE(insert(t, 1, "L *:50000").ok());
  EXPECT_EQ(*t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:80").conn, {}, PortSource::kBound, 50000 - kFirst), 50000);
  ASSERT_TRUE(insert(t, 2, "C 10.0.0.1:50000>10.0.0.9:80").ok());
  EXPECT_EQ(*t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:80").conn, {}, PortSource::kBound, 50000 - kFirst), 50001);
}

TEST(SocketTable, Netstack3ConnectionNeedsAnUnusedPort) {
  for (TransportProto proto : {TransportProto::kUdp, TransportProto::kTcp}) {
    SocketTable t(kNs3, proto);
    ASSERT_TRUE(insert(t, 1, "L 10.0.0.2:50000").ok());  // no conflict with 10.0.0.1, but in use
    EXPECT_EQ(*t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:80").conn, {}, PortSource::kBound, 50000 - kFirst),
              50001);
  }
}

TEST(SocketTable, Netstack3UdpListenerPortMayBeShared) {
  SocketTable t(kNs3, TransportProto::kUdp);
  ASSERT_TRUE(insert(t, 1, "L *:50000 ra").ok());
  EXPECT_EQ(*t.pick_listener_port(spec("L *:0 ra").listen, {true, false}, 50000 - kFirst), 50000);
  EXPECT_EQ(*t.pick_listener_port(spec("L *:0").listen, {}, 50000 - kFirst), 50001);
}

TEST(SocketTable, Netstack3TcpListenerNeedsAnUnusedPort) {
  for (SocketPolicy policy : {kSeed, kNs3}) {
    SocketTable t(policy, TransportProto::kTcp);
    ASSERT_TRUE(insert(t, 1, "L 10.0.0.1:50000").ok());
    EXPECT_EQ(*t.pick_listener_port(spec("L 10.0.0.2:0").listen, {}, 50000 - kFirst),
              policy == kSeed ? 50000 : 50001);
  }
}

TEST(SocketTable, TcpConnectSkipsRemotePortOnSelfConnect) {
  for (TransportProto proto : {TransportProto::kUdp, TransportProto::kTcp}) {
    SocketTable t(kSeed, proto);
    const Port self = proto == TransportProto::kTcp ? 50001 : 50000;
    EXPECT_EQ(*t.pick_connection_port(spec("C 127.0.0.1:0>127.0.0.1:50000").conn, {}, PortSource::kBound, 50000 - kFirst),
              self);
    EXPECT_EQ(*t.pick_connection_port(spec("C 127.0.0.1:0>127.0.0.2:50000").conn, {}, PortSource::kBound, 50000 - kFirst),
              50000);
  }
}

TEST(SocketTable, Netstack3TcpReusePortPickNotSupported) {
  SocketTable t(kNs3, TransportProto::kTcp);
  EXPECT_EQ(t.pick_listener_port(spec("L *:0").listen, {false, true}, 0).error(),
            NetError::kNotSupported);
  EXPECT_EQ(t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:80").conn, {false, true}, PortSource::kBound, 0).error(),
            NetError::kNotSupported);
}

// ----------------------------------------------------------------------------------------------
// Policy linux (docs/policies.md): owners by local address, the kernel's lookup, its ports.

constexpr auto kLinux = SocketPolicy::kLinux;
constexpr std::optional<NetError> kNotAvailable = NetError::kAddressNotAvailable;

struct LinuxRow {
  const char* name;
  TransportProto proto;
  const char* first;
  const char* second;
  std::optional<NetError> expected;  // in both orders
};

class LinuxConflicts : public ::testing::TestWithParam<LinuxRow> {};

TEST_P(LinuxConflicts, SecondBindGetsExpectedResultInEitherOrder) {
  const LinuxRow& row = GetParam();
  for (bool swap : {false, true}) {
    SocketTable t(kLinux, row.proto);
    ASSERT_TRUE(insert(t, 1, swap ? row.second : row.first).ok());
    EXPECT_EQ(error_of(insert(t, 2, swap ? row.first : row.second)), row.expected) << (swap ? "swapped" : "");
  }
}

constexpr auto kT = TransportProto::kTcp;
constexpr auto kU = TransportProto::kUdp;
INSTANTIATE_TEST_SUITE_P(
    Linux, LinuxConflicts,
    ::testing::Values(
        LinuxRow{"TcpSpecificAndWildcard", kT, "L 10.0.0.1:80", "L *4:80", kInUse},
        LinuxRow{"TcpReuseAddrDoesNotShareWithAListener", kT, "L 10.0.0.1:80 ra", "L *4:80 ra", kInUse},
        LinuxRow{"TcpReusePortShares", kT, "L 10.0.0.1:80 rp", "L *4:80 rp", kOk},
        LinuxRow{"TcpReusePortNeedsTheSameUid", kT, "L 10.0.0.1:80 rp u1", "L 10.0.0.1:80 rp u2", kInUse},
        LinuxRow{"UdpSpecificAndWildcard", kU, "L 10.0.0.1:80", "L *4:80", kInUse},
        LinuxRow{"UdpReuseAddrShares", kU, "L 10.0.0.1:80 ra", "L *4:80 ra", kOk},
        LinuxRow{"UdpReusePortNeedsTheSameUid", kU, "L [fd00::1]:80 rp u1", "L [fd00::1]:80 rp", kInUse},
        LinuxRow{"UdpReuseAddrAgainstReusePortConflicts", kU, "L 10.0.0.1:80 ra", "L 10.0.0.1:80 rp", kInUse},
        LinuxRow{"TcpListenerOverConnection", kT, "L 10.0.0.1:80", "C 10.0.0.1:80>10.0.0.9:5000", kInUse},
        LinuxRow{"UdpConnectedAndWildcardWithReuseAddr", kU, "C 10.0.0.1:80>10.0.0.9:5000 ra", "L *4:80 ra", kOk},
        LinuxRow{"UdpConnectedAndWildcard", kU, "C 10.0.0.1:80>10.0.0.9:5000", "L *4:80", kInUse},
        LinuxRow{"ConnectionsToTwoPeersNeedOptions", kT, "C 10.0.0.1:80>10.0.0.9:5000", "C 10.0.0.1:80>10.0.0.8:5000", kInUse},
        LinuxRow{"ConnectionsToTwoPeersWithReuseAddr", kT, "C 10.0.0.1:80>10.0.0.9:5000 ra", "C 10.0.0.1:80>10.0.0.8:5000 ra", kOk},
        LinuxRow{"InetWildcardAndV6OnlyCoexist", kT, "L *4:80", "L *6:80", kOk},
        LinuxRow{"InetWildcardAndDualStackConflict", kT, "L *4:80", "L *:80", kInUse},
        LinuxRow{"AddressUnderDualStack", kT, "L 10.0.0.1:80", "L *:80", kInUse},
        LinuxRow{"DualStackAndV6Only", kU, "L *:80", "L *6:80", kInUse},
        LinuxRow{"V6OnlyCoversIpv6Addresses", kU, "L *6:80", "L [fd00::1]:80", kInUse},
        LinuxRow{"DifferentAddressesCoexist", kT, "L 10.0.0.1:80", "L 10.0.0.2:80", kOk},
        LinuxRow{"DifferentDevicesCoexist", kT, "L *4:80 %1", "L *4:80 %2", kOk},
        LinuxRow{"DeviceAndUnboundOverlap", kU, "L 10.0.0.1:80 %1", "L 10.0.0.1:80", kInUse},
        LinuxRow{"DeviceWildcardAndAddressOverlap", kU, "L *4:80 %1", "L 10.0.0.1:80", kInUse}),
    [](const ::testing::TestParamInfo<LinuxRow>& info) { return std::string(info.param.name); });

// Only the existing socket's state matters: a listener binds next to a reuse_addr connection,
// but a connection does not bind next to a reuse_addr listener.
TEST(SocketTableLinux, ReuseAddrSharesOnlyWithASocketThatDoesNotListen) {
  SocketTable t(kLinux, kT);
  ASSERT_TRUE(insert(t, 1, "C 10.0.0.1:80>10.0.0.9:5000 ra").ok());
  EXPECT_EQ(error_of(insert(t, 2, "L *4:80 ra")), kOk);
  EXPECT_EQ(error_of(insert(t, 3, "C 10.0.0.1:80>10.0.0.8:5000 ra")), kInUse);
}

TEST(SocketTableLinux, ConnectFromAListenersPortNeedsReusePort) {
  for (const char* options : {"", " ra"}) {
    SocketTable t(kLinux, kT);
    ASSERT_TRUE(insert(t, 1, std::string("L 10.0.0.1:80") + options).ok());
    EXPECT_EQ(error_of(insert(t, 2, std::string("C 10.0.0.1:80>10.0.0.9:5000") + options)), kInUse);
  }
  SocketTable t(kLinux, kT);
  ASSERT_TRUE(insert(t, 1, "L 10.0.0.1:80 rp").ok());
  EXPECT_EQ(error_of(insert(t, 2, "C 10.0.0.1:80>10.0.0.9:5000 rp")), kOk);
}

TEST(SocketTableLinux, DuplicateFourTupleIsAddressNotAvailable) {
  SocketTable t(kLinux, kT);
  ASSERT_TRUE(insert(t, 1, "C 10.0.0.1:80>10.0.0.9:5000 ra").ok());
  EXPECT_EQ(error_of(insert(t, 2, "C 10.0.0.1:80>10.0.0.9:5000 ra")), kNotAvailable);
  EXPECT_EQ(error_of(insert(t, 3, "C 10.0.0.1:80>10.0.0.9:5001 ra")), kOk);
}

TEST(SocketTableLinux, AcceptedConnectionsAreNotChecked) {
  SocketTable t(kLinux, kT);
  ASSERT_TRUE(insert(t, 1, "L *4:80").ok());
  const Spec c = spec("C 10.0.0.1:80>10.0.0.9:5000");
  EXPECT_TRUE(t.insert_connection(id_of(2), c.conn, c.sharing, PortSource::kInherited).ok());
}

// The receiver of a UDP datagram from 10.0.0.9:5000 to `dst` arriving on device 1.
std::optional<Num> receiver(const SocketTable& t, const char* dst, const char* src = "10.0.0.9:5000") {
  auto hit = t.lookup(sa(dst), sa(src), DeviceId{1});
  if (!hit) return std::nullopt;
  return hit->socket.slot;
}

TEST(SocketTableLinux, UdpNewestReuseAddrSocketReceives) {
  SocketTable t(kLinux, kU);
  for (Num n : {1u, 2u, 3u}) ASSERT_TRUE(insert(t, n, "L 10.0.0.1:53 ra").ok());
  EXPECT_EQ(receiver(t, "10.0.0.1:53"), 3u);
  auto hit = t.lookup(sa("10.0.0.1:53"), sa("10.0.0.9:5000"), DeviceId{1});
  EXPECT_EQ(nums(hit->outranked), (std::vector<Num>{1, 2}));
  t.remove(id_of(3));
  EXPECT_EQ(receiver(t, "10.0.0.1:53"), 2u);
}

TEST(SocketTableLinux, UdpDeviceBoundOutscoresUnboundInEitherOrder) {
  for (bool device_first : {true, false}) {
    SocketTable t(kLinux, kU);
    ASSERT_TRUE(insert(t, device_first ? 1 : 2, "L 10.0.0.1:53 ra %1").ok());
    ASSERT_TRUE(insert(t, device_first ? 2 : 1, "L 10.0.0.1:53 ra").ok());
    const Num device_bound = device_first ? 1 : 2;
    EXPECT_EQ(receiver(t, "10.0.0.1:53"), device_bound);
    EXPECT_EQ(t.lookup(sa("10.0.0.1:53"), sa("10.0.0.9:5000"), DeviceId{1})->rule, MatchRule::kSpecificDevice);
    EXPECT_NE(t.lookup(sa("10.0.0.1:53"), sa("10.0.0.9:5000"), DeviceId{2})->socket.slot, device_bound);
  }
}

TEST(SocketTableLinux, UdpInetOutscoresDualStackForIpv4) {
  for (bool inet_first : {true, false}) {
    SocketTable t(kLinux, kU);
    ASSERT_TRUE(insert(t, inet_first ? 1 : 2, "L *4:53 ra").ok());
    ASSERT_TRUE(insert(t, inet_first ? 2 : 1, "L *:53 ra").ok());
    const Num inet = inet_first ? 1 : 2;
    EXPECT_EQ(receiver(t, "10.0.0.1:53"), inet);
    EXPECT_NE(receiver(t, "[fd00::1]:53", "[fd00::9]:5000"), inet);
  }
}

TEST(SocketTableLinux, TcpChainOrderNewestForIpv4OldestReusePortForIpv6) {
  SocketTable t(kLinux, kT);
  ASSERT_TRUE(insert(t, 1, "L 10.0.0.1:80 rp %1").ok());
  ASSERT_TRUE(insert(t, 2, "L 10.0.0.1:80 rp").ok());
  ASSERT_TRUE(insert(t, 3, "L [fd00::1]:80 rp %1").ok());
  ASSERT_TRUE(insert(t, 4, "L [fd00::1]:80 rp").ok());
  EXPECT_EQ(receiver(t, "10.0.0.1:80"), 2u);  // the device gives no precedence
  EXPECT_EQ(receiver(t, "[fd00::1]:80", "[fd00::9]:5000"), 3u);
}

TEST(SocketTableLinux, Ipv6ReusePortSocketsSitBehindTheOthers) {
  SocketTable t(kLinux, kU);
  ASSERT_TRUE(insert(t, 1, "L [fd00::1]:53 ra").ok());
  ASSERT_TRUE(insert(t, 2, "L [fd00::1]:53 ra rp").ok());
  EXPECT_EQ(receiver(t, "[fd00::1]:53", "[fd00::9]:5000"), 1u);
  SocketTable v4(kLinux, kU);
  ASSERT_TRUE(insert(v4, 1, "L 10.0.0.1:53 ra").ok());
  ASSERT_TRUE(insert(v4, 2, "L 10.0.0.1:53 ra rp").ok());
  EXPECT_EQ(receiver(v4, "10.0.0.1:53"), 2u);
}

TEST(SocketTableLinux, ReusePortGroupPicksByFlowAndSpreads) {
  SocketTable t(kLinux, kU, /*secret=*/7);
  for (Num n : {1u, 2u, 3u}) ASSERT_TRUE(insert(t, n, "L *4:53 rp").ok());
  std::map<Num, int> per_member;
  for (int port = 40000; port < 40300; ++port) {
    const std::string src = "10.0.0.9:" + std::to_string(port);
    auto first = receiver(t, "10.0.0.1:53", src.c_str());
    ASSERT_TRUE(first);
    EXPECT_EQ(receiver(t, "10.0.0.1:53", src.c_str()), first);  // a flow sticks to its member
    ++per_member[*first];
  }
  for (Num n : {1u, 2u, 3u}) EXPECT_GT(per_member[n], 50) << n;
  auto hit = t.lookup(sa("10.0.0.1:53"), sa("10.0.0.9:40000"), DeviceId{1});
  EXPECT_EQ(nums(hit->group), (std::vector<Num>{1, 2, 3}));
}

TEST(SocketTableLinux, AGroupLeaverIsReplacedByTheLastMember) {
  SocketTable t(kLinux, kT);
  for (Num n : {1u, 2u, 3u, 4u}) ASSERT_TRUE(insert(t, n, "L *4:80 rp").ok());
  t.remove(id_of(2));
  auto hit = t.lookup(sa("10.0.0.1:80"), sa("10.0.0.9:5000"), DeviceId{1});
  EXPECT_EQ(nums(hit->group), (std::vector<Num>{1, 4, 3}));
}

TEST(SocketTableLinux, ConnectedUdpSocketWinsForItsPeer) {
  SocketTable t(kLinux, kU);
  ASSERT_TRUE(insert(t, 1, "C 10.0.0.1:53>10.0.0.9:5000 rp").ok());
  ASSERT_TRUE(insert(t, 2, "L 10.0.0.1:53 rp").ok());
  EXPECT_EQ(receiver(t, "10.0.0.1:53", "10.0.0.9:5000"), 1u);
  EXPECT_EQ(receiver(t, "10.0.0.1:53", "10.0.0.9:5001"), 2u);
}

TEST(SocketTableLinux, EphemeralRangeIs32768To60999) {
  SocketTable t(kLinux, kU);
  for (uint64_t r = 0; r < 200; ++r) {
    Port p = *t.pick_listener_port(spec("L 10.0.0.1:0").listen, {}, r * 0x9e3779b97f4a7c15ULL);
    EXPECT_GE(p, 32768);
    EXPECT_LE(p, 60999);
  }
}

TEST(SocketTableLinux, TcpBindPortsAreOddAndReuseAddrTakesTheLowerHalf) {
  SocketTable t(kLinux, kT);
  for (uint64_t r = 0; r < 200; ++r) {
    const uint64_t random = r * 0x9e3779b97f4a7c15ULL;
    Port p = *t.pick_listener_port(spec("L 10.0.0.1:0").listen, {}, random);
    EXPECT_EQ(p % 2, 1) << p;
    Port q = *t.pick_listener_port(spec("L 10.0.0.1:0 ra").listen, spec("L 10.0.0.1:0 ra").sharing, random);
    EXPECT_EQ(q % 2, 1) << q;
    EXPECT_LT(q, 32768 + 14116) << q;
    Port c = *t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:80").conn, {}, PortSource::kBound, random);
    EXPECT_EQ(c % 2, 1) << c;
  }
}

TEST(SocketTableLinux, TcpConnectPortsAreEvenAndSharedAcrossDestinations) {
  SocketTable t(kLinux, kT, /*secret=*/3, PortRange{50000, 50001});
  const Spec to_a = spec("C 10.0.0.1:0>10.0.0.9:80");
  const Spec to_b = spec("C 10.0.0.1:0>10.0.0.8:80");
  Port a = *t.pick_connection_port(to_a.conn, {}, PortSource::kConnect, 1);
  EXPECT_EQ(a, 50000);  // even first
  ConnAddr ca = to_a.conn;
  ca.local.port = a;
  ASSERT_TRUE(t.insert_connection(id_of(1), ca, {}, PortSource::kConnect).ok());
  ConnAddr cb = to_b.conn;
  cb.local.port = *t.pick_connection_port(to_b.conn, {}, PortSource::kConnect, 1);
  EXPECT_EQ(cb.local.port, 50000);  // the same port towards another destination
  ASSERT_TRUE(t.insert_connection(id_of(2), cb, {}, PortSource::kConnect).ok());
  EXPECT_EQ(*t.pick_connection_port(to_a.conn, {}, PortSource::kConnect, 1), 50001);  // the odd one next
}

TEST(SocketTableLinux, ABoundPortIsNeverSharedByConnects) {
  SocketTable t(kLinux, kT, /*secret=*/3, PortRange{50000, 50001});
  ASSERT_TRUE(insert(t, 1, "L 10.0.0.2:50000").ok());  // bound on another address
  ASSERT_TRUE(insert(t, 2, "L 10.0.0.2:50001").ok());
  EXPECT_EQ(t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:80").conn, {}, PortSource::kConnect, 1).error(),
            NetError::kNoPorts);
  // A bind to another address may still take them.
  EXPECT_TRUE(t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:80").conn, {}, PortSource::kBound, 1).ok());
}

TEST(SocketTableLinux, UdpConnectPicksItsPortAsAWildcard) {
  SocketTable t(kLinux, kU, /*secret=*/3, PortRange{50000, 50000});
  ASSERT_TRUE(insert(t, 1, "L 10.0.0.2:50000").ok());
  EXPECT_EQ(t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:53").conn, {}, PortSource::kConnect, 0).error(),
            NetError::kNoPorts);
  EXPECT_EQ(*t.pick_connection_port(spec("C 10.0.0.1:0>10.0.0.9:53").conn, {}, PortSource::kBound, 0), 50000);
}

}  // namespace
}  // namespace netsim
