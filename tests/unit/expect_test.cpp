// The expectation matcher: matching rules, count rules, time window, sequences,
// and the failure detail (scenario-format.md, EXPECTATION).
#include "scenarios/expect.h"

#include <gtest/gtest.h>

namespace netsim::scenario {
namespace {

using nlohmann::json;

json ev(const char* text) { return json::parse(text); }

Expectation single(json fields, const std::string& pointer = "/expect/0") {
  Expectation e;
  e.match = EventMatcher{std::move(fields), pointer};
  e.pointer = pointer;
  return e;
}

Expectation sequence(std::vector<json> elements, const std::string& pointer = "/expect/1") {
  Expectation e;
  for (size_t i = 0; i < elements.size(); ++i)
    e.sequence.push_back(EventMatcher{elements[i], pointer + "/sequence/" + std::to_string(i)});
  e.pointer = pointer;
  return e;
}

// A small trace: a handshake-ish run on two sockets.
std::vector<json> trace() {
  return {
      ev(R"({"seq":0,"t":0,"event":"step","host":"server","op":"listen","socket":"web","result":"ok"})"),
      ev(R"({"seq":1,"t":1000000,"event":"tx","host":"client","interface":"eth0",
             "packet":{"id":1,"proto":"udp","src":"10.0.0.100:49152","dst":"10.0.0.1:80","len":5,"ttl":64}})"),
      ev(R"({"seq":2,"t":2000000,"event":"deliver","host":"server","socket":"any#1","proto":"udp",
             "match":"wildcard","shadowed":[],"data":"hello",
             "packet":{"id":1,"proto":"udp","src":"10.0.0.100:49152","dst":"10.0.0.1:80","len":5,"ttl":64}})"),
      ev(R"({"seq":3,"t":3000000,"event":"deliver","host":"server","socket":"web#1","proto":"tcp",
             "match":"specific","shadowed":["any","all"],"data":"hello",
             "packet":{"id":2,"proto":"tcp","src":"[fd00::9]:4000","dst":"[fd00::1]:80","flags":"PA",
                       "seq":1,"ack":1,"len":5,"ttl":64,"window":65535}})"),
      ev(R"({"seq":4,"t":4000000,"event":"drop","host":"server","reason":"no_listener",
             "packet":{"id":3,"proto":"icmp","src":"10.0.0.1","dst":"10.0.0.100","len":0,"ttl":64,
                       "type":"port_unreachable"}})"),
      ev(R"({"seq":5,"t":5000000,"event":"deliver","host":"server","socket":"web#1","proto":"tcp",
             "match":"specific","shadowed":[],"data":"bye"})"),
  };
}

// --- event_matches ------------------------------------------------------------

TEST(EventMatches, PlainValueMatchesAnEqualValue) {
  auto t = trace();
  EXPECT_TRUE(event_matches(ev(R"({"event":"deliver","socket":"web#1"})"), t[3]));
  EXPECT_FALSE(event_matches(ev(R"({"event":"deliver","socket":"web#2"})"), t[3]));
  EXPECT_TRUE(event_matches(ev(R"({"t":3000000})"), t[3]));
  EXPECT_TRUE(event_matches(ev(R"({"t":3000000.0})"), t[3]));  // numbers compare by value
  EXPECT_FALSE(event_matches(ev(R"({"t":"3000000"})"), t[3]));
}

TEST(EventMatches, KeyAbsentFromTheEventFails) {
  EXPECT_FALSE(event_matches(ev(R"({"error":"timed_out"})"), trace()[3]));
}

TEST(EventMatches, EmptyMatcherMatchesEverything) {
  EXPECT_TRUE(event_matches(json::object(), trace()[0]));
}

TEST(EventMatches, ObjectMatchesWhenEachOfItsKeysMatches) {
  auto t = trace();
  EXPECT_TRUE(event_matches(ev(R"({"packet":{"proto":"tcp","flags":"PA"}})"), t[3]));
  EXPECT_FALSE(event_matches(ev(R"({"packet":{"proto":"tcp","flags":"S"}})"), t[3]));
  EXPECT_FALSE(event_matches(ev(R"({"packet":{"proto":"tcp"}})"), t[5]));   // no packet
  EXPECT_FALSE(event_matches(ev(R"({"socket":{"name":"web#1"}})"), t[3]));  // not an object
}

TEST(EventMatches, ListMatchesAnEqualListInOrder) {
  json e = ev(R"({"hops":["a","b"]})");
  EXPECT_TRUE(event_matches(ev(R"({"hops":["a","b"]})"), e));
  EXPECT_FALSE(event_matches(ev(R"({"hops":["b","a"]})"), e));
  EXPECT_FALSE(event_matches(ev(R"({"hops":["a"]})"), e));
}

TEST(EventMatches, ShadowedListMatchesInAnyOrder) {
  auto t = trace();
  EXPECT_TRUE(event_matches(ev(R"({"shadowed":["all","any"]})"), t[3]));
  EXPECT_TRUE(event_matches(ev(R"({"shadowed":["any","all"]})"), t[3]));
  EXPECT_FALSE(event_matches(ev(R"({"shadowed":["any"]})"), t[3]));
  EXPECT_FALSE(event_matches(ev(R"({"shadowed":["any","web"]})"), t[3]));
  EXPECT_TRUE(event_matches(ev(R"({"shadowed":[]})"), t[2]));
}

TEST(EventMatches, AddressWithStarPortMatchesAnyPort) {
  auto t = trace();
  EXPECT_TRUE(event_matches(ev(R"({"packet":{"src":"10.0.0.100:*"}})"), t[1]));
  EXPECT_FALSE(event_matches(ev(R"({"packet":{"src":"10.0.0.10:*"}})"), t[1]));
  EXPECT_FALSE(event_matches(ev(R"({"packet":{"src":"10.0.0.1:*"}})"), t[1]));
  EXPECT_TRUE(event_matches(ev(R"({"packet":{"src":"[fd00::9]:*","dst":"[fd00::1]:*"}})"), t[3]));
  EXPECT_FALSE(event_matches(ev(R"({"packet":{"src":"[fd00::]:*"}})"), t[3]));
  // ICMP addresses carry no port: the bare address matches.
  EXPECT_TRUE(event_matches(ev(R"({"packet":{"src":"10.0.0.1:*"}})"), t[4]));
  EXPECT_TRUE(event_matches(ev(R"({"a":"[fd00::1]:*"})"), ev(R"({"a":"fd00::1"})")));
  EXPECT_FALSE(event_matches(ev(R"({"a":"10.0.0.1:*"})"), ev(R"({"a":"10.0.0.1:x"})")));
  EXPECT_FALSE(event_matches(ev(R"({"a":"10.0.0.1:80"})"), ev(R"({"a":"10.0.0.1:81"})")));
}

// --- counts and window -----------------------------------------------------------

TEST(CheckExpectation, DefaultIsAtLeastOne) {
  auto t = trace();
  auto r = check_expectation(single(ev(R"({"event":"deliver","socket":"web#1"})")), t);
  EXPECT_TRUE(r.pass);
  EXPECT_EQ(r.count, 2u);
  EXPECT_EQ(r.matching_seqs, (std::vector<uint64_t>{3, 5}));
  EXPECT_FALSE(check_expectation(single(ev(R"({"event":"accept"})")), t).pass);
}

TEST(CheckExpectation, CountIsExact) {
  auto t = trace();
  auto e = single(ev(R"({"event":"deliver"})"));
  e.count = 3;
  EXPECT_TRUE(check_expectation(e, t).pass);
  e.count = 2;
  auto r = check_expectation(e, t);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.count, 3u);
}

TEST(CheckExpectation, MinAndMaxBoundTheCount) {
  auto t = trace();
  auto e = single(ev(R"({"event":"deliver"})"));
  e.min = 2;
  e.max = 3;
  EXPECT_TRUE(check_expectation(e, t).pass);
  e.max = 2;
  EXPECT_FALSE(check_expectation(e, t).pass);
  e.max.reset();
  e.min = 4;
  EXPECT_FALSE(check_expectation(e, t).pass);
  e.min.reset();
  e.max = 0;
  EXPECT_FALSE(check_expectation(e, t).pass);
  e.max = 5;
  EXPECT_TRUE(check_expectation(e, t).pass);
}

TEST(CheckExpectation, NeverIsCountZero) {
  auto t = trace();
  auto e = single(ev(R"({"event":"drop","reason":"no_route"})"));
  e.count = 0;
  EXPECT_TRUE(check_expectation(e, t).pass);
  auto bad = single(ev(R"({"event":"drop","reason":"no_listener"})"), "/expect/4");
  bad.count = 0;
  auto r = check_expectation(bad, t);
  EXPECT_FALSE(r.pass);
  EXPECT_NE(r.detail.find("never"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("seq 4 (t=4ms)"), std::string::npos) << r.detail;
}

TEST(CheckExpectation, AfterIsInclusiveBeforeIsExclusive) {
  auto t = trace();
  auto e = single(ev(R"({"event":"deliver"})"));
  e.after = SimTime{3000000};
  e.count = 2;  // t = 3ms and 5ms
  EXPECT_TRUE(check_expectation(e, t).pass);
  e.before = SimTime{5000000};
  e.count = 1;  // 5ms is excluded
  EXPECT_TRUE(check_expectation(e, t).pass);
  e.count = 2;
  EXPECT_FALSE(check_expectation(e, t).pass);
  e.after = SimTime{3000001};
  e.count.reset();
  EXPECT_FALSE(check_expectation(e, t).pass);  // nothing in (3ms, 5ms)
}

// --- sequences ------------------------------------------------------------------

TEST(CheckSequence, ElementsMetInOrderNotNecessarilyAdjacent) {
  auto t = trace();
  auto r = check_expectation(
      sequence({ev(R"({"event":"tx"})"), ev(R"({"socket":"web#1"})"), ev(R"({"data":"bye"})")}), t);
  EXPECT_TRUE(r.pass) << r.detail;
  EXPECT_EQ(r.matching_seqs, (std::vector<uint64_t>{1, 3, 5}));
}

TEST(CheckSequence, OutOfOrderFails) {
  auto t = trace();
  auto r = check_expectation(sequence({ev(R"({"event":"deliver","socket":"web#1"})"),
                                       ev(R"({"event":"deliver","socket":"any#1"})")}),
                             t);
  EXPECT_FALSE(r.pass);
  EXPECT_NE(r.detail.find("/expect/1"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("element 2 of 2 (/expect/1/sequence/1)"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("not met after seq 3"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find(R"(socket: expected "any#1", got "web#1")"), std::string::npos)
      << r.detail;
}

TEST(CheckSequence, OneEventCannotMeetTwoElements) {
  auto t = trace();
  auto r = check_expectation(sequence({ev(R"({"event":"drop"})"), ev(R"({"event":"drop"})")}), t);
  EXPECT_FALSE(r.pass);
  EXPECT_NE(r.detail.find("not met after seq 4"), std::string::npos) << r.detail;
}

TEST(CheckSequence, GreedyEarliestMatchFindsTheSequence) {
  auto t = trace();
  // Earliest "web#1" (seq 3) leaves seq 5 for the second element.
  auto r =
      check_expectation(sequence({ev(R"({"socket":"web#1"})"), ev(R"({"socket":"web#1"})")}), t);
  EXPECT_TRUE(r.pass) << r.detail;
  EXPECT_EQ(r.matching_seqs, (std::vector<uint64_t>{3, 5}));
}

TEST(CheckSequence, FirstElementNeverMet) {
  auto t = trace();
  auto r = check_expectation(sequence({ev(R"({"event":"accept"})"), ev(R"({"event":"tx"})")}), t);
  EXPECT_FALSE(r.pass);
  EXPECT_NE(r.detail.find("element 1 of 2"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("never met"), std::string::npos) << r.detail;
}

TEST(CheckSequence, WindowAppliesToEveryElement) {
  auto t = trace();
  auto e = sequence({ev(R"({"event":"tx"})"), ev(R"({"event":"drop"})")});
  e.before = SimTime{4000000};
  EXPECT_FALSE(check_expectation(e, t).pass);
  e.before = SimTime{4000001};
  EXPECT_TRUE(check_expectation(e, t).pass);
  e.after = SimTime{1000001};
  EXPECT_FALSE(check_expectation(e, t).pass);
}

TEST(CheckSequence, CountCountsNonOverlappingOccurrences) {
  auto t = trace();
  auto e = sequence({ev(R"({"event":"deliver"})"), ev(R"({"event":"deliver"})")});
  e.count = 1;  // (2,3); 5 alone is no second occurrence
  EXPECT_TRUE(check_expectation(e, t).pass);
  e.count = 0;
  auto r = check_expectation(e, t);
  EXPECT_FALSE(r.pass);
  EXPECT_NE(r.detail.find("matching occurrences: seq 2 (t=2ms), seq 3 (t=3ms)"), std::string::npos)
      << r.detail;
}

// --- failure detail ---------------------------------------------------------------

TEST(ExpectationDetail, NamesPointerRuleCountAndClosestFieldDiff) {
  auto t = trace();
  auto r = check_expectation(
      single(ev(R"({"event":"deliver","socket":"web#2","data":"hello"})"), "/expect/7"), t);
  ASSERT_FALSE(r.pass);
  EXPECT_EQ(r.pointer, "/expect/7");
  EXPECT_EQ(r.detail.rfind("/expect/7: expected at least 1", 0), 0u) << r.detail;
  EXPECT_NE(r.detail.find(R"({"data":"hello","event":"deliver","socket":"web#2"})"),
            std::string::npos)
      << r.detail;
  EXPECT_NE(r.detail.find("saw 0"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("closest events:"), std::string::npos) << r.detail;
  // The two deliveries of "hello" (more fields satisfied) come before "bye".
  size_t first =
      r.detail.find("seq 2 t=2ms deliver on server: socket: expected \"web#2\", got \"any#1\"");
  size_t second =
      r.detail.find("seq 3 t=3ms deliver on server: socket: expected \"web#2\", got \"web#1\"");
  size_t third = r.detail.find("seq 5 t=5ms deliver");
  EXPECT_NE(first, std::string::npos) << r.detail;
  EXPECT_LT(first, second) << r.detail;
  EXPECT_LT(second, third) << r.detail;
  EXPECT_NE(r.detail.find(R"(data: expected "hello", got "bye")"), std::string::npos) << r.detail;
}

TEST(ExpectationDetail, SameKindRanksFirstAndShowsAtMostThree) {
  auto t = trace();
  auto r = check_expectation(single(ev(R"({"event":"drop","host":"client"})")), t);
  ASSERT_FALSE(r.pass);
  size_t closest = r.detail.find("closest events:");
  ASSERT_NE(closest, std::string::npos);
  EXPECT_EQ(
      r.detail.find("\n    seq 4 t=4ms drop on server: host: expected \"client\", got \"server\"",
                    closest),
      closest + std::string("closest events:").size())
      << r.detail;
  size_t lines = std::count(r.detail.begin() + closest, r.detail.end(), '\n');
  EXPECT_EQ(lines, 3u) << r.detail;
}

TEST(ExpectationDetail, NestedAndMissingFieldsAreNamedByPath) {
  auto t = trace();
  auto r = check_expectation(
      single(ev(R"({"event":"deliver","socket":"web#1","error":"x","packet":{"flags":"S"}})")), t);
  ASSERT_FALSE(r.pass);
  EXPECT_NE(r.detail.find(R"(packet.flags: expected "S", got "PA")"), std::string::npos)
      << r.detail;
  EXPECT_NE(r.detail.find(R"(error: expected "x", got nothing)"), std::string::npos) << r.detail;
}

TEST(ExpectationDetail, EventOutsideTheWindowSaysSo) {
  auto t = trace();
  auto e = single(ev(R"({"event":"drop"})"));
  e.after = SimTime{4500000};
  auto r = check_expectation(e, t);
  ASSERT_FALSE(r.pass);
  EXPECT_NE(r.detail.find("in [4500us, end)"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("t: 4ms is outside the window [4500us, end)"), std::string::npos)
      << r.detail;
}

TEST(ExpectationDetail, CountMismatchListsMatchingEventsCappedAt20) {
  std::vector<json> many;
  for (int i = 0; i < 25; ++i)
    many.push_back(json{{"seq", i}, {"t", i * 1000}, {"event", "tx"}, {"host", "a"}});
  auto e = single(ev(R"({"event":"tx"})"), "/expect/3");
  e.count = 1;
  auto r = check_expectation(e, many);
  ASSERT_FALSE(r.pass);
  EXPECT_EQ(r.count, 25u);
  EXPECT_EQ(r.matching_seqs.size(), kMatchesListed);  // the first 20 of 25
  EXPECT_NE(r.detail.find("expected exactly 1 event"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("saw 25"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("seq 0 (t=0ns), seq 1 (t=1us)"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("seq 19 (t=19us), ... 5 more"), std::string::npos) << r.detail;
  EXPECT_EQ(r.detail.find("seq 20 ("), std::string::npos) << r.detail;
}

TEST(ExpectationDetail, ClosestEventsIncludeNonMatchingEventsBeforeAMatch) {
  std::vector<json> events = {
      json::parse(R"({"seq":0,"t":0,"event":"deliver","host":"s","socket":"other"})"),
      json::parse(R"({"seq":1,"t":1,"event":"deliver","host":"s","socket":"web#1"})"),
      json::parse(R"({"seq":2,"t":2,"event":"accept","host":"s","socket":"web#1"})")};
  auto e = single(ev(R"({"event":"deliver","socket":"web#1"})"), "/expect/0");
  e.count = 2;
  auto r = check_expectation(e, events);
  ASSERT_FALSE(r.pass);
  // The earlier deliver (same kind) ranks first although a match came after it.
  size_t closest = r.detail.find("closest events:");
  ASSERT_NE(closest, std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("seq 0 t=0ns deliver on s: socket", closest), std::string::npos) << r.detail;
}

TEST(ExpectationDetail, PassReportsTheCount) {
  auto r = check_expectation(single(ev(R"({"event":"tx"})")), trace());
  EXPECT_TRUE(r.pass);
  EXPECT_NE(r.detail.find("saw 1"), std::string::npos) << r.detail;
}

TEST(CheckExpectations, ChecksEachInOrder) {
  std::vector<Expectation> es = {single(ev(R"({"event":"tx"})"), "/expect/0"),
                                 single(ev(R"({"event":"accept"})"), "/expect/1")};
  auto rs = check_expectations(es, trace());
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_TRUE(rs[0].pass);
  EXPECT_FALSE(rs[1].pass);
  EXPECT_EQ(rs[1].pointer, "/expect/1");
}

TEST(ReferencedEventKinds, SortedUniqueKindsOrNoneWhenAMatcherNamesNoKind) {
  std::vector<Expectation> es = {single(ev(R"({"event":"tx"})")),
                                 sequence({ev(R"({"event":"drop"})"), ev(R"({"event":"tx"})")})};
  EXPECT_EQ(referenced_event_kinds(es), (std::vector<std::string>{"drop", "tx"}));
  es.push_back(single(ev(R"({"socket":"web#1"})")));
  EXPECT_FALSE(referenced_event_kinds(es).has_value());
}

}  // namespace
}  // namespace netsim::scenario
