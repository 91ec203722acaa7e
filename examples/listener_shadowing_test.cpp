// A listener-shadowing test written in C++ (docs/semantics.md: a specific listener shadows a
// wildcard one on the same port and uncovers it when it closes), with GoogleTest and the netsim
// library: the network and the steps are built in code, the deliveries are collected through a
// record callback and asserted on directly, and the same rule is also stated as netsim
// expectations, which the run checks online while it goes.
#include <gtest/gtest.h>

#include <netsim/netsim.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct Delivery {
  std::string socket, match, data;
  std::vector<std::string> shadowed;
};

// client (10.0.0.2) -- 1ms -- server (10.0.0.1, 10.0.0.11); the server listens on UDP port 7
// with a wildcard socket `any` and a socket `echo` on 10.0.0.1 only.
struct ShadowingNetwork {
  netsim::Simulation sim{"listener-shadowing"};
  netsim::HostHandle client = sim.add_host("client"), server = sim.add_host("server");

  ShadowingNetwork() {
    sim.add_link({sim.add_interface(client, "eth0", {"10.0.0.2/24"}),
                  sim.add_interface(server, "eth0", {"10.0.0.1/24", "10.0.0.11/24"})},
                 {.latency = 1ms});
    sim.listen(0ms, server, netsim::Proto::kUdp, "any", 7);
    sim.listen(0ms, server, netsim::Proto::kUdp, "echo", 7, {.addresses = {"10.0.0.1"}});
    sim.listen(0ms, client, netsim::Proto::kUdp, "c", 5000);
  }

  // Runs, collecting what the server's sockets were delivered.
  std::vector<Delivery> run(netsim::RunReport& report) {
    std::vector<Delivery> deliveries;
    sim.on_record([&](const netsim::TraceRecord& r) {
      if (r.event() != "deliver" || r.field("host") != "server") return;
      deliveries.push_back({r.field("socket"), r.field("match"), r.field("data"), r.list("shadowed")});
    });
    report = sim.run();
    return deliveries;
  }
};

TEST(ListenerShadowing, SpecificShadowsWildcardAndUncoversItOnClose) {
  ShadowingNetwork n;
  n.sim.send(10ms, n.client, "c", "hi", "10.0.0.1:7");
  n.sim.close(20ms, n.server, "echo");
  n.sim.send(30ms, n.client, "c", "again", "10.0.0.1:7");
  netsim::RunReport report;
  const std::vector<Delivery> d = n.run(report);

  ASSERT_TRUE(report.passed) << (report.failures.empty() ? "" : report.failures[0]);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].socket, "echo");
  EXPECT_EQ(d[0].match, "specific");
  EXPECT_EQ(d[0].shadowed, std::vector<std::string>{"any"});
  EXPECT_EQ(d[0].data, "hi");
  EXPECT_EQ(d[1].socket, "any");
  EXPECT_EQ(d[1].match, "wildcard");
  EXPECT_TRUE(d[1].shadowed.empty());
  EXPECT_EQ(d[1].data, "again");
}

TEST(ListenerShadowing, OtherAddressReachesTheWildcard) {
  ShadowingNetwork n;
  n.sim.send(10ms, n.client, "c", "other", "10.0.0.11:7");
  netsim::RunReport report;
  const std::vector<Delivery> d = n.run(report);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].socket, "any");
  EXPECT_EQ(d[0].match, "wildcard");
}

TEST(ListenerShadowing, ExpectationsAreCheckedByTheRun) {
  ShadowingNetwork held;
  held.sim.send(10ms, held.client, "c", "hi", "10.0.0.1:7");
  held.sim.expect(netsim::Match("deliver").where("socket", "echo").where("match", "specific")
                      .where_list("shadowed", {"any"}));
  held.sim.expect(netsim::Match("deliver").where("socket", "any"), {.exactly = 0});
  EXPECT_TRUE(held.sim.run().passed);

  // The same expectation on a run where `echo` is closed first fails, with a report.
  ShadowingNetwork closed;
  closed.sim.close(5ms, closed.server, "echo");
  closed.sim.send(10ms, closed.client, "c", "hi", "10.0.0.1:7");
  closed.sim.expect(netsim::Match("deliver").where("socket", "echo").where("match", "specific"));
  const netsim::RunReport report = closed.sim.run();
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.expectations_failed, 1u);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].find("/expect/0"), std::string::npos) << report.failures[0];
}

TEST(ListenerShadowing, ABadArgumentIsRefusedByTheCallThatGetsIt) {
  ShadowingNetwork n;
  EXPECT_THROW(n.sim.add_interface(n.client, "eth1", {"10.0.0.9/33"}), std::invalid_argument);
  EXPECT_THROW(n.sim.listen(0ms, n.server, netsim::Proto::kUdp, "echo#2", 8), std::invalid_argument);
  netsim::RunReport report;
  n.run(report);
  EXPECT_TRUE(report.passed);  // the refused calls changed nothing
}

}  // namespace
