// The runner's names for sockets (scenarios/socket_names.h): accepted connections are named
// LISTENER#N with N never reused, and a freed child's entries go while its name stays stale.
#include <gtest/gtest.h>

#include "scenarios/socket_names.h"

namespace netsim::scenario {
namespace {

constexpr HostId kHost{0};

SocketId tcp_socket(uint32_t slot) { return SocketId{slot, 1, TransportProto::kTcp}; }

TEST(SocketNames, FreedChildrenLeaveNoEntriesSoTheMapDoesNotGrowWithAcceptedConnections) {
  SocketNames names(1);
  const SocketId web = tcp_socket(0);
  names.bind(kHost, "web", web);
  const size_t held = names.entries(kHost);
  for (uint32_t i = 1; i <= 1000; ++i) {
    const SocketId child = tcp_socket(i);
    names.on_child(kHost, web, child);
    ASSERT_EQ(names.find(kHost, "web#" + std::to_string(i)), child);
    names.on_freed(kHost, child);
  }
  EXPECT_EQ(names.entries(kHost), held);
}

TEST(SocketNames, AFreedChildsNameIsStaleUntilACloseStepReleasesItAndNIsNeverReused) {
  SocketNames names(1);
  const SocketId web = tcp_socket(0);
  names.bind(kHost, "web", web);
  names.on_child(kHost, web, tcp_socket(1));
  names.on_child(kHost, web, tcp_socket(2));
  names.on_freed(kHost, tcp_socket(1));
  auto stale = names.find(kHost, "web#1");
  ASSERT_TRUE(stale.has_value());  // a step on it sees a closed socket, not an unknown name
  EXPECT_NE(*stale, tcp_socket(1));
  EXPECT_NE(*stale, tcp_socket(2));
  EXPECT_EQ(names.find(kHost, "web#2"), tcp_socket(2));
  EXPECT_FALSE(names.find(kHost, "web#3").has_value());   // never given
  EXPECT_FALSE(names.find(kHost, "web#01").has_value());  // not how N is written
  EXPECT_FALSE(names.find(kHost, "db#1").has_value());    // no such listener
  names.forget(kHost, "web#1");  // a close step on the stale name releases it
  EXPECT_FALSE(names.find(kHost, "web#1").has_value());
  names.on_child(kHost, web, tcp_socket(1));  // the slot comes back under a new N
  EXPECT_EQ(names.find(kHost, "web#3"), tcp_socket(1));
  EXPECT_FALSE(names.find(kHost, "web#1").has_value());
}

TEST(SocketNames, AScenarioNameKeepsPointingAtItsStaleHandleAfterTheSocketIsFreed) {
  SocketNames names(1);
  names.bind(kHost, "c", tcp_socket(4));
  names.on_freed(kHost, tcp_socket(4));
  EXPECT_EQ(names.find(kHost, "c"), tcp_socket(4));
}

}  // namespace
}  // namespace netsim::scenario
