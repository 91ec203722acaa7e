// A listener-shadowing test written in C++ (semantics.md: a specific listener shadows a
// wildcard one on the same port and uncovers it when it closes), with GoogleTest and the
// netsim library: the network and the steps are built in code, the trace events are collected
// through a callback and asserted on directly, and the same rule is also stated as netsim
// expectations, which the run checks while it goes.
#include <gtest/gtest.h>

#include <netsim/netsim.h>

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
netsim::Simulation shadowing_network() {
  netsim::Simulation sim("listener-shadowing");
  sim.add_interface("client", "eth0", {"10.0.0.2/24"});
  sim.add_interface("server", "eth0", {"10.0.0.1/24", "10.0.0.11/24"});
  sim.add_link({"client.eth0", "server.eth0"}, {.latency = 1ms});
  sim.listen(0ms, "server", netsim::Proto::kUdp, "any", 7);
  sim.listen(0ms, "server", netsim::Proto::kUdp, "echo", 7, {.addresses = {"10.0.0.1"}});
  sim.listen(0ms, "client", netsim::Proto::kUdp, "c", 5000);
  return sim;
}

std::vector<Delivery> run_collecting(netsim::Simulation& sim, netsim::RunReport* report) {
  std::vector<Delivery> deliveries;
  sim.on_event([&](const netsim::TraceEvent& e) {
    if (e.event != "deliver" || e.host != "server") return;
    Delivery d{std::string(e.socket), std::string(e.match), std::string(e.data), {}};
    for (auto s : e.shadowed) d.shadowed.emplace_back(s);
    deliveries.push_back(std::move(d));
  });
  *report = sim.run();
  return deliveries;
}

TEST(ListenerShadowing, SpecificShadowsWildcardAndUncoversItOnClose) {
  netsim::Simulation sim = shadowing_network();
  sim.send(10ms, "client", "c", "hi", "10.0.0.1:7");
  sim.close(20ms, "server", "echo");
  sim.send(30ms, "client", "c", "again", "10.0.0.1:7");
  netsim::RunReport report;
  std::vector<Delivery> d = run_collecting(sim, &report);

  ASSERT_TRUE(report.passed) << (report.failures.empty() ? "" : report.failures[0]);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].socket, "echo");
  EXPECT_EQ(d[0].match, "specific");
  EXPECT_EQ(d[0].shadowed, std::vector<std::string>{"any"});
  EXPECT_EQ(d[0].data, "hi");
  EXPECT_EQ(d[1].socket, "any");
  EXPECT_EQ(d[1].match, "wildcard");
  EXPECT_TRUE(d[1].shadowed.empty());
}

TEST(ListenerShadowing, OtherAddressReachesTheWildcard) {
  netsim::Simulation sim = shadowing_network();
  sim.send(10ms, "client", "c", "other", "10.0.0.11:7");
  netsim::RunReport report;
  std::vector<Delivery> d = run_collecting(sim, &report);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].socket, "any");
  EXPECT_EQ(d[0].match, "wildcard");
}

TEST(ListenerShadowing, ExpectationsAreCheckedByTheRun) {
  netsim::Simulation sim = shadowing_network();
  sim.send(10ms, "client", "c", "hi", "10.0.0.1:7");
  sim.expect(R"({"event": "deliver", "socket": "echo", "match": "specific", "shadowed": ["any"]})");
  sim.expect(R"({"event": "deliver", "socket": "any", "count": 0})");
  EXPECT_TRUE(sim.run().passed);

  // The same expectation on a run where `echo` is closed first fails, with a report.
  netsim::Simulation closed = shadowing_network();
  closed.close(5ms, "server", "echo");
  closed.send(10ms, "client", "c", "hi", "10.0.0.1:7");
  closed.expect(R"({"event": "deliver", "socket": "echo", "match": "specific"})");
  netsim::RunReport report = closed.run();
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.expectations_failed, 1u);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].find("/expect/0"), std::string::npos) << report.failures[0];
}

TEST(ListenerShadowing, InvalidNetworkIsReportedWithEveryProblem) {
  netsim::Simulation sim("bad");
  sim.add_interface("a", "eth0", {"10.0.0.1/33"});
  sim.add_link({"a.eth0", "nowhere.eth0"});
  try {
    sim.run();
    FAIL() << "run() accepted an invalid network";
  } catch (const netsim::ScenarioError& e) {
    EXPECT_EQ(e.problems().size(), 2u) << e.what();
  }
}

}  // namespace
