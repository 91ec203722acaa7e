// viz/trace_diff.h: a trace reduced to its decisions, grouped by the step run that caused
// them, and traces compared run by run (the rules `netsim compare` and the golden diff page
// rest on).
#include "viz/trace_diff.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace netsim {
namespace {

using nlohmann::json;

const char* kHeader = R"({"event":"header","format":"netsim-trace/1","policy":"seed","scenario":"s","seed":1})";

DecisionLog reduce(const std::vector<std::string>& lines, const std::string& name,
                   DiffMode mode = DiffMode::kOutcome) {
  std::string text = std::string(kHeader) + "\n";
  for (const std::string& l : lines) text += l + "\n";
  std::istringstream in(text);
  return read_decisions(in, "t.jsonl", name, mode);
}

// A UDP send at 10ms (its packet written before the step's line) delivered at 11ms to `socket`.
std::vector<std::string> send_and_deliver(const std::string& socket, const std::string& match) {
  return {
      R"({"event":"tx","host":"a","interface":"eth0","packet":{"dst":"10.0.0.2:53","id":1,"len":1,"proto":"udp","src":"10.0.0.1:5000","ttl":64},"seq":0,"step":"/steps/0","t":10000000})",
      R"({"event":"step","host":"a","op":"send","result":"ok","seq":1,"socket":"c","step":"/steps/0","t":10000000})",
      R"({"cause":0,"event":"rx","host":"b","interface":"eth0","packet":{"dst":"10.0.0.2:53","id":1,"len":1,"proto":"udp","src":"10.0.0.1:5000","ttl":64},"seq":2,"t":11000000})",
      R"({"cause":2,"event":"deliver","host":"b","match":")" + match +
          R"(","packet":{"dst":"10.0.0.2:53","id":1,"len":1,"proto":"udp","src":"10.0.0.1:5000","ttl":64},"seq":3,"shadowed":[],"socket":")" +
          socket + R"(","t":11000000})",
  };
}

TEST(TraceDiff, ADeliveryBelongsToTheStepRunThatSentThePacket) {
  DecisionLog log = reduce(send_and_deliver("dns", "specific"), "seed");
  ASSERT_EQ(log.groups().size(), 1u);
  const DecisionGroup& g = log.groups()[0];
  EXPECT_EQ(g.step, "/steps/0");
  EXPECT_EQ(g.t, 10000000);
  EXPECT_EQ(g.label, "send a c");
  ASSERT_EQ(g.decisions.size(), 2u);
  EXPECT_EQ(g.decisions[0].what, "send a c -> ok");
  EXPECT_EQ(g.decisions[1].what, "deliver b: dns");
  EXPECT_EQ(g.decisions[1].seq, 3);
}

TEST(TraceDiff, ARepeatAtTheSameInstantIsOneRunPerStepLine) {
  DecisionLog log = reduce(
      {R"({"event":"step","host":"a","op":"send","result":"ok","seq":0,"socket":"c","step":"/steps/0","t":0})",
       R"({"event":"step","host":"a","op":"send","result":"ok","seq":1,"socket":"c","step":"/steps/0","t":0})",
       R"({"event":"step","host":"a","op":"send","result":"message_too_long","seq":2,"socket":"c","step":"/steps/0","t":0})"},
      "seed");
  ASSERT_EQ(log.groups().size(), 3u);
  EXPECT_EQ(log.groups()[2].occurrence, 2);
  EXPECT_EQ(log.groups()[2].decisions[0].what, "send a c -> message_too_long");
}

TEST(TraceDiff, OutcomesCompareTheSocketNotTheLookupLevel) {
  DecisionLog a = reduce(send_and_deliver("dns", "specific"), "seed");
  DecisionLog b = reduce(send_and_deliver("dns", "wildcard"), "linux");
  EXPECT_TRUE(diff_decisions({&a, &b}).same());
  // A golden trace and a new one of the same policy: the level is part of the decision.
  DecisionLog ga = reduce(send_and_deliver("dns", "specific"), "golden", DiffMode::kExact);
  DecisionLog gb = reduce(send_and_deliver("dns", "wildcard"), "actual", DiffMode::kExact);
  DecisionDiff exact = diff_decisions({&ga, &gb});
  EXPECT_EQ(exact.differing, 1u);
}

TEST(TraceDiff, AnotherReceivingSocketIsTheFirstDifference) {
  DecisionLog a = reduce(send_and_deliver("dns", "specific"), "seed");
  DecisionLog b = reduce(send_and_deliver("any", "wildcard"), "netstack3");
  DecisionDiff diff = diff_decisions({&a, &b});
  ASSERT_TRUE(diff.first.has_value());
  EXPECT_EQ(diff.differing, 1u);
  EXPECT_EQ(diff.rows[*diff.first].first_difference, 1u);  // the send itself agrees
  EXPECT_EQ(first_difference_line(diff),
            "t=10ms /steps/0 send a c: seed deliver b: dns; netstack3 deliver b: any");
  std::ostringstream text;
  print_diff(text, diff);
  EXPECT_NE(text.str().find("*deliver b: any"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("1 of 1 step runs differ"), std::string::npos) << text.str();
}

// A SYN on `listener` opens child `web#1` (trace-format.md, "Sockets").
std::vector<std::string> child_of(const std::string& listener) {
  return {
      R"({"event":"socket","host":"b","how":"child","listener":")" + listener +
          R"(","local":"10.0.0.2:80","proto":"tcp","remote":"10.0.0.1:5000","seq":0,"socket":"web#1","t":1000})",
  };
}

TEST(TraceDiff, ASocketRecordIsADecisionNamingTheChildsListenerFromTheRecord) {
  // The child's name says `web`; the record says the SYN reached `any`: the record decides.
  DecisionLog a = reduce(child_of("web"), "seed");
  DecisionLog b = reduce(child_of("any"), "linux");
  ASSERT_EQ(a.groups().size(), 1u);
  ASSERT_EQ(a.groups()[0].decisions.size(), 1u);
  EXPECT_EQ(a.groups()[0].decisions[0].what, "socket b: web#1 (child of web)");
  EXPECT_EQ(a.groups()[0].decisions[0].detail, "local 10.0.0.2:80, remote 10.0.0.1:5000");
  EXPECT_EQ(b.groups()[0].decisions[0].what, "socket b: web#1 (child of any)");
  EXPECT_EQ(diff_decisions({&a, &b}).differing, 1u);
}

TEST(TraceDiff, AStepWithASocketRecordLeavesTheBindingToTheRecord) {
  DecisionLog log = reduce(
      {R"({"addresses":[],"event":"socket","host":"a","how":"listen","port":53,"proto":"udp","seq":0,"socket":"d","step":"/steps/0","t":0})",
       R"({"addresses":[],"event":"step","host":"a","op":"listen","port":53,"proto":"udp","result":"ok","seq":1,"socket":"d","step":"/steps/0","t":0})"},
      "seed");
  ASSERT_EQ(log.groups().size(), 1u);
  const auto& d = log.groups()[0].decisions;
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].what, "socket a: d (listen)");
  EXPECT_EQ(d[0].detail, "port 53 (wildcard)");
  EXPECT_EQ(d[1].what, "listen a d -> ok");
  EXPECT_EQ(d[1].detail, "");
}

TEST(TraceDiff, ADecisionOnlyOneSideMadeDiffers) {
  std::vector<std::string> severed = send_and_deliver("dns", "specific");
  severed.push_back(R"({"error":"address_removed","event":"sever","host":"b","seq":4,"socket":"conn","step":"/steps/1","t":20000000})");
  severed.push_back(R"({"event":"step","host":"b","op":"remove_address","result":"ok","seq":5,"step":"/steps/1","t":20000000})");
  std::vector<std::string> kept = send_and_deliver("dns", "specific");
  kept.push_back(R"({"event":"step","host":"b","op":"remove_address","result":"ok","seq":4,"step":"/steps/1","t":20000000})");
  DecisionLog a = reduce(severed, "seed"), b = reduce(kept, "netstack3");
  DecisionDiff diff = diff_decisions({&a, &b});
  ASSERT_EQ(diff.rows.size(), 2u);
  EXPECT_FALSE(diff.rows[0].differs);
  EXPECT_TRUE(diff.rows[1].differs);
  EXPECT_EQ(first_difference_line(diff),
            "t=20ms /steps/1 remove_address b: seed sever b: conn (address_removed); netstack3 "
            "remove_address b -> ok");
}

TEST(TraceDiff, ExpectationResultsThatDifferAreListed) {
  std::vector<std::string> pass = send_and_deliver("dns", "specific"), fail = pass;
  pass.push_back(R"({"event":"expect","pointer":"/expect/0","result":"pass","seq":4,"t":11000000})");
  fail.push_back(R"({"event":"expect","pointer":"/expect/0","result":"fail","seq":4,"t":11000000})");
  DecisionLog a = reduce(pass, "seed"), b = reduce(fail, "netstack3");
  DecisionDiff diff = diff_decisions({&a, &b});
  EXPECT_EQ(diff.differing, 0u);
  ASSERT_EQ(diff.expectations.size(), 1u);
  EXPECT_EQ(diff.expectations[0].second, (std::vector<std::string>{"pass", "fail"}));
  EXPECT_FALSE(diff.same());
}

TEST(TraceDiff, TheRecorderReadsLinesAsARunWritesThem) {
  DecisionLog log("seed", DiffMode::kOutcome);
  DecisionRecorder recorder(log);
  std::string text = std::string(kHeader) + "\n";
  for (const std::string& l : send_and_deliver("dns", "specific")) text += l + "\n";
  // Bytes arrive in arbitrary pieces.
  for (size_t at = 0; at < text.size(); at += 7) recorder.write(std::string_view(text).substr(at, 7));
  ASSERT_EQ(log.groups().size(), 1u);
  EXPECT_EQ(log.groups()[0].decisions.size(), 2u);
  EXPECT_EQ(log.header().value("policy", ""), "seed");
}

TEST(TraceDiff, ThePageEmbedsTheDiffAsJsonNoMarkupCanEscape) {
  DecisionLog a = reduce(send_and_deliver("</script><b>", "specific"), "seed");
  DecisionLog b = reduce(send_and_deliver("any", "wildcard"), "netstack3");
  std::ostringstream page;
  write_diff_page(page, diff_decisions({&a, &b}), {"s", "policies", {"seed.html", ""}, ""});
  const std::string html = page.str();
  const size_t start = html.find("<script type=\"application/json\" id=\"netsim-diff\">");
  ASSERT_NE(start, std::string::npos);
  const size_t body = html.find('>', start) + 1, end = html.find("</script>", body);
  json data = json::parse(html.substr(body, end - body));
  EXPECT_EQ(data["format"], "netsim-diff/1");
  EXPECT_EQ(data["differing"], 1);
  EXPECT_EQ(data["sides"][0]["viewer"], "seed.html");
  EXPECT_EQ(data["rows"][0]["cells"][0][1][1], "deliver b: </script><b>");
}

}  // namespace
}  // namespace netsim
