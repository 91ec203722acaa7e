// Tests of the scenario loader (scenarios/loader.h) and its positional JSON
// parser (scenarios/json_source.h): typed values, units, defaults, step order,
// and one test per class of error with its position and pointer.
#include "scenarios/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "scenarios/json_source.h"
#include "viz/sha256.h"

namespace netsim::scenario {
namespace {

const std::string kSourceDir = NETSIM_SOURCE_DIR;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.errors) out += format_diagnostic(d) + "\n";
  return out;
}

// The diagnostic whose message contains `needle`, or nullptr.
const Diagnostic* find_error(const LoadResult& r, std::string_view needle) {
  for (const auto& d : r.errors)
    if (d.message.find(needle) != std::string::npos) return &d;
  return nullptr;
}

// A small valid scenario; tests append or replace pieces of it as text.
const char* kMinimal = R"({
  "format": "netsim-scenario/1",
  "hosts": {
    "a": { "interfaces": { "eth0": { "addresses": ["10.0.0.1/24"] } } },
    "b": { "interfaces": { "eth0": { "addresses": ["10.0.0.2/24"] } } }
  },
  "links": [ { "between": ["a.eth0", "b.eth0"] } ],
  "steps": [
    { "at": "0s", "host": "b", "op": "listen", "proto": "tcp", "socket": "srv", "port": 80 }
  ]
})";

std::string with(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

LoadResult load(const std::string& text, const std::vector<Override>& overrides = {}) {
  return load_scenario_text(text, "t.json", overrides);
}

// --- the positional JSON parser ----------------------------------------------

TEST(JsonSource, RecordsLineAndColumnOfEveryValue) {
  JsonSource s = parse_json_source("{\n  \"a\": [1,\n    {\"b~/c\": true}]\n}");
  ASSERT_TRUE(s.syntax_ok);
  EXPECT_EQ(s.value_pos.at("").line, 1);
  EXPECT_EQ(s.value_pos.at("/a").line, 2);
  EXPECT_EQ(s.value_pos.at("/a").column, 8);
  EXPECT_EQ(s.value_pos.at("/a/1").line, 3);
  EXPECT_EQ(s.value_pos.at("/a/1").column, 5);
  EXPECT_EQ(s.value_pos.at("/a/1/b~0~1c").column, 14);
  EXPECT_EQ(s.key_pos.at("/a").column, 3);
}

TEST(JsonSource, DuplicateKeyIsAnErrorNamingBothPositions) {
  JsonSource s = parse_json_source("{\"x\": 1,\n \"x\": 2}");
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0].pos.line, 2);
  EXPECT_EQ(s.errors[0].pos.column, 2);
  EXPECT_EQ(s.errors[0].pointer, "/x");
  EXPECT_NE(s.errors[0].message.find("first at line 1, column 2"), std::string::npos);
}

TEST(JsonSource, SyntaxErrorHasLineAndColumn) {
  JsonSource s = parse_json_source("{\n  \"a\": 1,\n  \"b\" 2\n}");
  EXPECT_FALSE(s.syntax_ok);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0].pos.line, 3);
  EXPECT_EQ(s.errors[0].pos.column, 7);
  EXPECT_NE(s.errors[0].message.find("expected `:`"), std::string::npos);
}

TEST(JsonSource, DecodesEscapesAndSurrogatePairs) {
  JsonSource s = parse_json_source(R"(["\u00e9\ud83d\ude00\n\"\/"])");
  ASSERT_TRUE(s.syntax_ok);
  EXPECT_EQ(s.value[0].get<std::string>(), "\xc3\xa9\xf0\x9f\x98\x80\n\"/");
}

TEST(JsonSource, LoneSurrogateIsRejected) {
  EXPECT_FALSE(parse_json_source(R"(["\ud83d x"])").syntax_ok);
  EXPECT_FALSE(parse_json_source(R"(["\ude00"])").syntax_ok);
}

TEST(JsonSource, InvalidUtf8IsRejected) {
  EXPECT_FALSE(parse_json_source("[\"\xff\"]").syntax_ok);
  EXPECT_FALSE(parse_json_source("[\"\xc3\"]").syntax_ok);
  EXPECT_TRUE(parse_json_source("[\"\xc3\xa9\"]").syntax_ok);
}

TEST(JsonSource, NestingBeyondTheLimitIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  JsonSource s = parse_json_source(deep);
  EXPECT_FALSE(s.syntax_ok);
  EXPECT_NE(s.errors.at(0).message.find("nesting deeper"), std::string::npos);
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parse_json_source(ok).syntax_ok);
}

TEST(JsonSource, NumbersKeepTheirKind) {
  JsonSource s = parse_json_source("[18446744073709551615, -9223372036854775808, 1.5, 1e999, 0]");
  ASSERT_TRUE(s.syntax_ok);
  EXPECT_TRUE(s.value[0].is_number_unsigned());
  EXPECT_TRUE(s.value[1].is_number_integer());
  EXPECT_TRUE(s.value[2].is_number_float());
  ASSERT_EQ(s.errors.size(), 1u);  // 1e999 is out of range
  EXPECT_EQ(s.errors[0].pointer, "/3");
}

TEST(JsonSource, RejectsWhatRfc8259Rejects) {
  for (const char* bad : {"", "01", "[1,]", "{\"a\":1,}", "[1 2]", "tru", "\"a\tb\"", "[.5]",
                          "{a: 1}", "[1] x", "'a'", "[-]", "[1.]", "[1e]", "nul"})
    EXPECT_FALSE(parse_json_source(bad).syntax_ok) << bad;
}

// --- units -------------------------------------------------------------------

TEST(Units, DurationsAreExactIntegerNanoseconds) {
  EXPECT_EQ(parse_duration("1.5ms", nullptr)->ns, 1500000);
  EXPECT_EQ(parse_duration("250us", nullptr)->ns, 250000);
  EXPECT_EQ(parse_duration("3s", nullptr)->ns, 3000000000);
  EXPECT_EQ(parse_duration("10ns", nullptr)->ns, 10);
  EXPECT_EQ(parse_duration("0.000000001s", nullptr)->ns, 1);
  EXPECT_EQ(parse_duration("0.1s", nullptr)->ns, 100000000);  // no binary rounding
  EXPECT_EQ(parse_duration("1.50000ns", nullptr), std::nullopt);
  EXPECT_EQ(parse_duration("2.000ns", nullptr)->ns, 2);
}

TEST(Units, DurationFinerThanOneNanosecondIsRejected) {
  std::string err;
  EXPECT_FALSE(parse_duration("0.5ns", &err));
  EXPECT_NE(err.find("precision below 1 ns"), std::string::npos);
  EXPECT_FALSE(parse_duration("1.0000000001s", &err));
}

TEST(Units, MalformedDurationsAreRejected) {
  for (const char* bad : {"", "ms", "-1ms", "1", "1.ms", ".5ms", "1e3ms", "1 ms", "1sec",
                          "99999999999999999999s", "9300000000s"})
    EXPECT_FALSE(parse_duration(bad, nullptr)) << bad;
}

TEST(Units, RatesAreExactBitsPerSecond) {
  EXPECT_EQ(*parse_rate("2.5Gbps", nullptr), 2500000000u);
  EXPECT_EQ(*parse_rate("100Mbps", nullptr), 100000000u);
  EXPECT_EQ(*parse_rate("64kbps", nullptr), 64000u);
  EXPECT_EQ(*parse_rate("9600bps", nullptr), 9600u);
  EXPECT_FALSE(parse_rate("1.5bps", nullptr));
  EXPECT_FALSE(parse_rate("10Mbit", nullptr));
}

// --- a full valid scenario ---------------------------------------------------

class FullScenario : public ::testing::Test {
 protected:
  void SetUp() override {
    result_ = load_scenario_file(kSourceDir + "/tests/data/loader/full.json");
    ASSERT_TRUE(result_.scenario) << all_errors(result_);
    s_ = &*result_.scenario;
  }
  const Host& host(const std::string& name) {
    for (const auto& h : s_->hosts)
      if (h.name == name) return h;
    throw std::runtime_error("no host " + name);
  }
  LoadResult result_;
  const Scenario* s_ = nullptr;
};

TEST_F(FullScenario, TopLevelValues) {
  EXPECT_EQ(s_->name, "loader-full");
  EXPECT_EQ(s_->seed, 42u);
  EXPECT_EQ(s_->policy, Policy::kNetstack3);
  EXPECT_EQ(s_->until, SimTime{2500000000});
  EXPECT_EQ(s_->fingerprint, "abc123");
  EXPECT_TRUE(s_->auto_routes);
  EXPECT_EQ(s_->source_sha256.size(), 64u);
  EXPECT_NE(s_->source_path.find("full.json"), std::string::npos);
}

TEST_F(FullScenario, Sha256IsOfTheFileBytes) {
  // sha256 of the empty string is well known; the loader hashes exactly its input.
  std::string text = read_file(kSourceDir + "/tests/data/loader/full.json");
  auto again = load_scenario_text(text, "x");
  EXPECT_EQ(again.scenario->source_sha256, s_->source_sha256);
  auto changed = load_scenario_text(text + " ", "x");
  EXPECT_NE(changed.scenario->source_sha256, s_->source_sha256);
}

TEST_F(FullScenario, TcpDefaultsFillOnlyGivenKeys) {
  EXPECT_EQ(s_->tcp.msl, Duration::seconds(2));
  EXPECT_EQ(s_->tcp.initial_rto, Duration::milliseconds(250));
  EXPECT_FALSE(s_->tcp.delayed_ack);
  EXPECT_EQ(s_->tcp.backlog, 4u);
  EXPECT_EQ(s_->tcp.max_rto, TcpParams{}.max_rto);
}

TEST_F(FullScenario, HostsAndInterfacesKeepFileOrder) {
  ASSERT_EQ(s_->hosts.size(), 2u);
  EXPECT_EQ(s_->hosts[0].name, "server");
  EXPECT_EQ(s_->hosts[1].name, "client");
  const Host& server = host("server");
  ASSERT_EQ(server.interfaces.size(), 2u);
  EXPECT_EQ(server.interfaces[0].name, "eth0");
  EXPECT_EQ(server.interfaces[0].mtu, 9000u);
  ASSERT_EQ(server.interfaces[0].addresses.size(), 2u);
  EXPECT_EQ(server.interfaces[0].addresses[0], *Prefix::parse("10.0.0.1/24"));
  EXPECT_EQ(server.interfaces[0].addresses[1], *Prefix::parse("fd00::1/64"));
  EXPECT_FALSE(server.interfaces[1].up);
  EXPECT_EQ(server.pointer, "/hosts/server");
}

TEST_F(FullScenario, HostModelDefaultAppliesWhereNotGiven) {
  EXPECT_EQ(host("server").host_model, HostModel::kStrong);
  EXPECT_EQ(host("client").host_model, HostModel::kWeak);
  EXPECT_TRUE(host("client").forwarding);
  EXPECT_EQ(s_->default_host_model, HostModel::kStrong);
}

TEST_F(FullScenario, RouteDestinationIsTheNetwork) {
  const Route& r = host("server").routes.at(0);
  EXPECT_EQ(r.to, *Prefix::parse("192.168.0.0/16"));
  EXPECT_EQ(r.via, IpAddr::parse("10.0.0.254"));
  EXPECT_EQ(r.dev, "eth0");
  EXPECT_EQ(r.metric, 10u);
}

TEST_F(FullScenario, LinkDefaultsFillFieldsNotGiven) {
  ASSERT_EQ(s_->links.size(), 2u);
  const Link& wan = s_->links[0];
  EXPECT_EQ(wan.name, "wan");
  EXPECT_EQ(wan.latency.ns, 250000);  // given in ns
  EXPECT_EQ(wan.loss, 0.25);
  EXPECT_EQ(wan.queue, 64u);          // from defaults
  EXPECT_EQ(wan.bandwidth_bps, 2500000000u);
  const Link& l1 = s_->links[1];
  EXPECT_EQ(l1.name, "link1");
  EXPECT_EQ(l1.latency.ns, 1500000);
  EXPECT_EQ(l1.loss, 0.0);
  ASSERT_EQ(l1.between.size(), 2u);
  EXPECT_EQ(l1.between[1].host, "client");
  EXPECT_EQ(l1.between[1].interface, "eth1");
}

TEST_F(FullScenario, StepsAreSortedStablyByTimeAndKeepTheirPointers) {
  std::vector<std::string> order;
  for (const auto& st : s_->steps) order.push_back(st.pointer);
  EXPECT_EQ(order, (std::vector<std::string>{"/steps/1", "/steps/4", "/steps/2", "/steps/0",
                                             "/steps/3", "/steps/5", "/steps/6", "/steps/7"}));
  EXPECT_EQ(s_->steps[1].at, SimTime{1});
}

TEST_F(FullScenario, StepsAreTyped) {
  const auto& listen = std::get<ListenStep>(s_->steps[0].action);
  EXPECT_EQ(listen.proto, Proto::kTcp);
  EXPECT_EQ(listen.port, 80);
  EXPECT_EQ(listen.addresses, std::vector<IpAddr>{*IpAddr::parse("10.0.0.1")});
  EXPECT_EQ(std::get<LinkDownStep>(s_->steps[1].action).link, "wan");  // "link0" resolved
  EXPECT_EQ(s_->steps[1].host, "");
  const auto& connect = std::get<ConnectStep>(s_->steps[2].action);
  EXPECT_EQ(connect.remote, *SocketAddr::parse("10.0.0.1:80"));
  EXPECT_EQ(connect.local->port, 0);
  const auto& send = std::get<SendStep>(s_->steps[4].action);
  EXPECT_EQ(send.size, 1000u);
  EXPECT_EQ(send.repeat->count, 3u);
  EXPECT_EQ(send.repeat->every, Duration::microseconds(1));
  const auto& ping = std::get<PingStep>(s_->steps[5].action);
  EXPECT_EQ(ping.count, 2u);
  EXPECT_EQ(ping.every, Duration::seconds(1));
  EXPECT_EQ(ping.size, 56u);
  EXPECT_EQ(s_->steps[6].expect_error, NetError::kAddressNotAvailable);
  EXPECT_EQ(std::get<ShutdownStep>(s_->steps[7].action).how, ShutdownHow::kWrite);
}

TEST_F(FullScenario, ExpectationsSplitCountsFromFields) {
  ASSERT_EQ(s_->expect.size(), 3u);
  const Expectation& e0 = s_->expect[0];
  EXPECT_EQ(e0.count, 1u);
  EXPECT_EQ(e0.after, SimTime{20000000});
  EXPECT_EQ(e0.before, SimTime{1000000000});
  EXPECT_EQ(e0.match->fields, (nlohmann::json{{"event", "deliver"}, {"host", "server"},
                                              {"socket", "web#1"}, {"data", "hello"}}));
  EXPECT_EQ(s_->expect[1].count, 0u);  // never: true
  EXPECT_FALSE(s_->expect[1].match->fields.contains("never"));
  const Expectation& seq = s_->expect[2];
  EXPECT_FALSE(seq.match);
  ASSERT_EQ(seq.sequence.size(), 2u);
  EXPECT_EQ(seq.sequence[1].fields["packet"]["src"], "10.0.0.100:*");
  EXPECT_EQ(seq.sequence[1].pointer, "/expect/2/sequence/1");
  EXPECT_EQ(seq.after, SimTime{1000000});
}

// --- valid details -----------------------------------------------------------

TEST(Loader, MinimalScenarioLoads) {
  auto r = load(kMinimal);
  ASSERT_TRUE(r.scenario) << all_errors(r);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.scenario->name, "t");  // the file's stem when no name is given
  EXPECT_EQ(r.scenario->seed, 1u);
  EXPECT_EQ(r.scenario->policy, Policy::kSeed);
  EXPECT_FALSE(r.scenario->until);
  EXPECT_FALSE(r.scenario->auto_routes);
}

TEST(Loader, LoopbackExistsOnEveryHost) {
  auto r = load(with(kMinimal, R"("port": 80 })",
                     R"("port": 80, "device": "lo" },
    { "at": "1s", "host": "a", "op": "add_address", "interface": "lo", "address": "127.0.0.2/8" })"));
  EXPECT_TRUE(r.scenario) << all_errors(r);
}

TEST(Loader, AcceptedConnectionOfATcpListenerIsAKnownSocket) {
  auto r = load(with(kMinimal, R"("port": 80 })", R"("port": 80 },
    { "at": "1s", "host": "b", "op": "close", "socket": "srv#2" })"));
  EXPECT_TRUE(r.scenario) << all_errors(r);
}

TEST(Loader, PolicyLinuxAndTheUidOptionAreRead) {
  auto r = load(with(with(kMinimal, "{", R"({ "policy": "linux",)"), R"("port": 80 })",
                     R"("port": 80, "reuse_port": true, "uid": 1000 },
    { "at": "1s", "host": "a", "op": "connect", "proto": "tcp", "socket": "c", "remote": "10.0.0.2:80", "uid": 7 })"));
  ASSERT_TRUE(r.scenario) << all_errors(r);
  EXPECT_EQ(r.scenario->policy, Policy::kLinux);
  EXPECT_EQ(std::get<ListenStep>(r.scenario->steps[0].action).uid, 1000u);
  EXPECT_EQ(std::get<ConnectStep>(r.scenario->steps[1].action).uid, 7u);
}

TEST(Loader, PolicySetOnTheCommandLineIsChecked) {
  auto r = load(kMinimal, {Override{"/policy", "linux"}});
  ASSERT_TRUE(r.scenario) << all_errors(r);
  EXPECT_EQ(r.scenario->policy, Policy::kLinux);
}

TEST(Loader, UidMustBeAnUnsignedThirtyTwoBitInteger) {
  for (const char* bad : {R"("1000")", "-1", "4294967296", "1.5", "true"}) {
    auto r = load(with(kMinimal, R"("port": 80 })", std::string(R"("port": 80, "uid": )") + bad + " }"));
    EXPECT_FALSE(r.scenario) << bad;
    ASSERT_EQ(r.errors.size(), 1u) << bad << all_errors(r);
    EXPECT_EQ(r.errors[0].pointer, "/steps/0/uid") << bad;
    EXPECT_GT(r.errors[0].line, 0) << bad;
  }
}

TEST(Loader, SchemaKeyIsIgnored) {
  auto r = load(with(kMinimal, "{", R"({ "$schema": "anything",)"));
  EXPECT_TRUE(r.scenario) << all_errors(r);
}

// --- errors: position, pointer, message ----------------------------------------

TEST(LoaderErrors, UnknownKeyPointsAtTheKeyWithAHint) {
  auto r = load(with(kMinimal, R"("between")", R"("latncy": "1ms", "between")"));
  ASSERT_FALSE(r.scenario);
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  const Diagnostic& d = r.errors[0];
  EXPECT_EQ(d.file, "t.json");
  EXPECT_EQ(d.line, 7);
  EXPECT_EQ(d.column, 16);
  EXPECT_EQ(d.pointer, "/links/0/latncy");
  EXPECT_EQ(d.message, "unknown link key `latncy` (did you mean `latency`?)");
  EXPECT_EQ(format_diagnostic(d),
            "t.json:7:16: /links/0/latncy: unknown link key `latncy` (did you mean `latency`?)");
}

TEST(LoaderErrors, NoHintWhenNothingIsClose) {
  auto r = load(with(kMinimal, R"("between")", R"("zzzzzzzz": 1, "between")"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message.find("did you mean"), std::string::npos);
}

TEST(LoaderErrors, WrongTypePointsAtTheValue) {
  auto r = load(with(kMinimal, R"("port": 80)", R"("port": "80")"));
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].pointer, "/steps/0/port");
  EXPECT_EQ(r.errors[0].line, 9);
  EXPECT_EQ(r.errors[0].column, 89);
  EXPECT_NE(r.errors[0].message.find("got a string"), std::string::npos);
}

TEST(LoaderErrors, EveryErrorIsReportedAtOnceInFileOrder) {
  std::string text = with(kMinimal, R"("format": "netsim-scenario/1",)",
                          R"("format": "netsim-scenario/1", "seed": -3, "until": "5 s",)");
  text = with(text, R"("10.0.0.2/24")", R"("10.0.0.2/33")");
  text = with(text, R"("op": "listen")", R"("op": "listn")");
  auto r = load(text);
  ASSERT_EQ(r.errors.size(), 4u) << all_errors(r);
  EXPECT_EQ(r.errors[0].pointer, "/seed");
  EXPECT_EQ(r.errors[1].pointer, "/until");
  EXPECT_EQ(r.errors[2].pointer, "/hosts/b/interfaces/eth0/addresses/0");
  EXPECT_EQ(r.errors[3].pointer, "/steps/0/op");
  EXPECT_NE(r.errors[3].message.find("did you mean `listen`"), std::string::npos);
}

// An error in a parent does not hide its children's: an interface with a bad name still has
// its addresses checked, a step on an unknown host its op's keys, a matcher naming an unknown
// host its fields.
TEST(LoaderErrors, ABadParentStillHasItsChildrenChecked) {
  auto iface = load(with(kMinimal, R"("eth0": { "addresses": ["10.0.0.1/24"])",
                         R"("e/0": { "addresses": ["10.0.0.300/24"])"));
  ASSERT_EQ(iface.errors.size(), 3u) << all_errors(iface);  // and the link's `a.eth0`
  EXPECT_EQ(iface.errors[0].pointer, "/hosts/a/interfaces/e~10");
  EXPECT_NE(iface.errors[0].message.find(R"(interface name "e/0" may not contain)"), std::string::npos);
  EXPECT_EQ(iface.errors[0].line, 4);
  EXPECT_EQ(iface.errors[0].column, 28);
  EXPECT_EQ(iface.errors[1].pointer, "/hosts/a/interfaces/e~10/addresses/0");
  EXPECT_NE(iface.errors[1].message.find("10.0.0.300/24"), std::string::npos);
  EXPECT_EQ(iface.errors[1].line, 4);
  EXPECT_EQ(iface.errors[1].column, 51);

  auto step = load(with(kMinimal, R"("host": "b", "op": "listen", "proto": "tcp", "socket": "srv", "port": 80)",
                        R"("host": "c", "op": "listen", "proto": "tpc", "socket": "srv", "port": 80, "device": "eth9")"));
  ASSERT_EQ(step.errors.size(), 2u) << all_errors(step);
  EXPECT_EQ(step.errors[0].pointer, "/steps/0/host");
  EXPECT_EQ(step.errors[1].pointer, "/steps/0/proto");

  auto matcher = load(with(kMinimal, "\n}", R"(,
  "expect": [ { "event": "drop", "host": "bb", "sockt": "srv" } ]
})"));
  EXPECT_NE(find_error(matcher, "unknown host `bb`"), nullptr) << all_errors(matcher);
  EXPECT_NE(find_error(matcher, "unknown `drop` field `sockt`"), nullptr) << all_errors(matcher);
}

// An interface address is one a host can hold: not the unspecified address, not multicast,
// not 255.255.255.255 (docs/scenario-format.md, HOST). A /0 prefix is a host's choice.
TEST(LoaderErrors, InterfaceAddressesAreUnicast) {
  const std::pair<const char*, const char*> refused[] = {
      {"0.0.0.0/24", "0.0.0.0 is the unspecified address"},
      {"::/64", ":: is the unspecified address"},
      {"224.0.0.1/24", "224.0.0.1 is a multicast address (224.0.0.0/4)"},
      {"239.255.255.255/8", "239.255.255.255 is a multicast address (224.0.0.0/4)"},
      {"ff02::1/64", "ff02::1 is a multicast address (ff00::/8)"},
      {"255.255.255.255/32", "255.255.255.255 is the limited broadcast address"}};
  for (const auto& [address, why] : refused) {
    SCOPED_TRACE(address);
    auto host = load(with(kMinimal, "10.0.0.1/24", address));
    const Diagnostic* d = find_error(host, std::string("`") + address + "` cannot be an interface address: " + why);
    ASSERT_NE(d, nullptr) << all_errors(host);
    EXPECT_EQ(d->pointer, "/hosts/a/interfaces/eth0/addresses/0");
    EXPECT_EQ(d->line, 4);
    auto step = load(with(kMinimal, R"("port": 80 })", std::string(R"("port": 80 },
    { "at": "1s", "host": "a", "op": "add_address", "interface": "eth0", "address": ")") + address + R"(" })"));
    d = find_error(step, "cannot be an interface address");
    ASSERT_NE(d, nullptr) << all_errors(step);
    EXPECT_EQ(d->pointer, "/steps/1/address");
  }
  for (const char* address : {"10.0.0.1/0", "223.255.255.254/8", "240.0.0.1/4", "255.255.255.254/24",
                              "fe80::1/64", "fd00::1/0"}) {
    auto r = load(with(kMinimal, "10.0.0.1/24", address));
    EXPECT_TRUE(r.scenario) << address << "\n" << all_errors(r);
  }
}

TEST(LoaderErrors, MissingRequiredKeyPointsAtTheObject) {
  auto r = load(with(kMinimal, R"("proto": "tcp", )", ""));
  const Diagnostic* d = find_error(r, "missing required key `proto`");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_EQ(d->pointer, "/steps/0");
  EXPECT_EQ(d->line, 9);
  EXPECT_EQ(d->column, 5);
}

TEST(LoaderErrors, KeyOfAnotherOpIsNamedAsSuch) {
  auto r = load(with(kMinimal, R"("port": 80 })", R"("port": 80, "remote": "10.0.0.1:80" })"));
  ASSERT_NE(find_error(r, "key `remote` is not valid for op `listen`"), nullptr) << all_errors(r);
}

TEST(LoaderErrors, SocketUsedBeforeItsCreatingStepIsUnknown) {
  auto r = load(with(kMinimal, R"("port": 80 })", R"("port": 80 },
    { "at": "0s", "host": "a", "op": "close", "socket": "cli" },
    { "at": "1s", "host": "a", "op": "connect", "proto": "tcp", "socket": "cli", "remote": "10.0.0.2:80" })"));
  const Diagnostic* d = find_error(r, "socket `cli` is not created by an earlier");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_EQ(d->pointer, "/steps/1/socket");
}

TEST(LoaderErrors, SocketOfAnotherHostIsUnknown) {
  auto r = load(with(kMinimal, R"("port": 80 })", R"("port": 80 },
    { "at": "1s", "host": "a", "op": "close", "socket": "srv" })"));
  EXPECT_NE(find_error(r, "socket `srv` is not created"), nullptr) << all_errors(r);
}

TEST(LoaderErrors, ExpectedUnknownSocketIsNotAStaticError) {
  auto r = load(with(kMinimal, R"("port": 80 })", R"("port": 80 },
    { "at": "1s", "host": "a", "op": "close", "socket": "nope", "expect_error": "unknown_socket" })"));
  EXPECT_TRUE(r.scenario) << all_errors(r);
}

TEST(LoaderErrors, SendNeedsDataOrSize) {
  auto r = load(with(kMinimal, R"("port": 80 })", R"("port": 80 },
    { "at": "1s", "host": "b", "op": "send", "socket": "srv" })"));
  EXPECT_NE(find_error(r, "needs `data` (a string) or `size`"), nullptr) << all_errors(r);
}

TEST(LoaderErrors, FamilyIsForWildcardListenersOnly) {
  auto r = load(with(kMinimal, R"("port": 80 })",
                     R"("port": 80, "addresses": ["10.0.0.2"], "family": "ipv4" })"));
  EXPECT_NE(find_error(r, "wildcard listeners only"), nullptr) << all_errors(r);
}

TEST(LoaderErrors, UnknownDeviceOfAStepHost) {
  auto r = load(with(kMinimal, R"("port": 80 })", R"("port": 80, "device": "eth9" })"));
  const Diagnostic* d = find_error(r, "host `b` has no interface `eth9`");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_NE(d->message.find("did you mean `eth0`"), std::string::npos);
}

TEST(LoaderErrors, LinkMtuBelow1280WithIpv6) {
  auto r = load(with(with(kMinimal, R"("10.0.0.1/24")", R"("fd00::1/64")"),
                     R"("b.eth0"] })", R"("b.eth0"], "mtu": 576 })"));
  EXPECT_NE(find_error(r, "below 1280"), nullptr) << all_errors(r);
  EXPECT_TRUE(load(with(kMinimal, R"("b.eth0"] })", R"("b.eth0"], "mtu": 576 })")).scenario);
}

// A host's route needs a gateway or an interface; an add_route step without either is a
// run-time failure (network_unreachable), not a load error.
TEST(LoaderErrors, HostRouteNeedsViaOrDev) {
  auto r = load(with(kMinimal, R"(["10.0.0.1/24"] } } },)",
                     R"(["10.0.0.1/24"] } }, "routes": [ { "to": "10.9.0.0/16" } ] },)"));
  const Diagnostic* d = find_error(r, "a route needs a gateway (`via`) or an interface (`dev`)");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_EQ(d->pointer, "/hosts/a/routes/0");
  auto step = load(with(kMinimal, R"("port": 80 })", R"("port": 80 },
    { "at": "1s", "host": "a", "op": "add_route", "to": "10.9.0.0/16" })"));
  EXPECT_TRUE(step.scenario) << all_errors(step);
}

// The count keys of a sequence count its occurrences (an extension), with the same rules as
// a single matcher's; inside the sequence they are refused.
TEST(LoaderErrors, SequenceCountsFollowTheCountRules) {
  const auto expect = [](const std::string& entry) {
    return load(with(kMinimal, "\n}", ",\n  \"expect\": [ " + entry + " ]\n}"));
  };
  const std::string seq = R"("sequence": [ { "event": "accept" }, { "event": "close" } ])";
  auto counted = expect("{ " + seq + R"(, "min": 1, "max": 2, "before": "1s" })");
  ASSERT_TRUE(counted.scenario) << all_errors(counted);
  EXPECT_EQ(counted.scenario->expect[0].min, 1u);
  EXPECT_EQ(counted.scenario->expect[0].max, 2u);
  auto never = expect("{ " + seq + R"(, "never": true })");
  ASSERT_TRUE(never.scenario) << all_errors(never);
  EXPECT_EQ(never.scenario->expect[0].count, 0u);
  EXPECT_NE(find_error(expect("{ " + seq + R"(, "count": 1, "min": 1 })"), "`count` cannot be combined"), nullptr);
  EXPECT_NE(find_error(expect(R"({ "sequence": [ { "event": "accept", "count": 1 } ] })"),
                       "not allowed inside a sequence"), nullptr);
}

// A matcher names trace fields only: a key no event of its kind carries (a typo) would make
// it vacuous, so a `never` expectation would pass whatever happened. It is an unknown key,
// reported with its pointer and a hint, in packets and sequences too.
TEST(LoaderErrors, MatcherKeysAreFieldsOfTheirEventKind) {
  const auto expect = [](const std::string& entry) {
    return load(with(kMinimal, "\n}", ",\n  \"expect\": [ " + entry + " ]\n}"));
  };
  auto typo = expect(R"({ "event": "deliver", "sockt": "web", "never": true })");
  const Diagnostic* d = find_error(typo, "unknown `deliver` field `sockt` (did you mean `socket`?)");
  ASSERT_NE(d, nullptr) << all_errors(typo);
  EXPECT_EQ(d->pointer, "/expect/0/sockt");
  EXPECT_NE(find_error(expect(R"({ "event": "receive", "packet": { "src": "10.0.0.1:*" } })"),
                       "unknown `receive` field `packet`"), nullptr);
  EXPECT_NE(find_error(expect(R"({ "sockt": "web" })"), "unknown trace field `sockt`"), nullptr);
  auto packet = expect(R"({ "event": "drop", "packet": { "scr": "10.0.0.1:*", "inner": { "typ": "x" } } })");
  EXPECT_NE(find_error(packet, "unknown packet field `scr` (did you mean `src`?)"), nullptr) << all_errors(packet);
  EXPECT_NE(find_error(packet, "unknown packet field `typ` (did you mean `type`?)"), nullptr) << all_errors(packet);
  EXPECT_NE(find_error(expect(R"({ "sequence": [ { "event": "accept", "listner": "web" } ] })"),
                       "unknown `accept` field `listner`"), nullptr);
  auto fields = expect(R"({ "event": "deliver", "socket": "web", "match": "specific", "shadowed": [],
    "packet": { "src": "10.0.0.1:*", "flags": "S" }, "t": 0, "seq": 1, "cause": 0, "count": 1 },
    { "event": "guard", "link_in_flight": 3, "never": true },
    { "event": "step", "op": "listen", "port": 80, "addresses": [], "result": "ok", "min": 0 })");
  EXPECT_TRUE(fields.scenario) << all_errors(fields);
}

// Auto routes sum latencies along paths; without them no sum is taken.
TEST(LoaderErrors, LinkLatenciesMustSumWithinTheClockWithAutoRoutes) {
  std::string text = read_file(kSourceDir + "/tests/data/invalid/auto-routes-latency-overflow.json");
  auto r = load(text);
  const Diagnostic* d = find_error(r, "link `l9` takes the sum past it");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_EQ(d->pointer, "/links/9");
  EXPECT_EQ(r.errors.size(), 1u) << all_errors(r);
  auto without = load(with(text, R"("routes": "auto",)", ""));
  EXPECT_TRUE(without.scenario) << all_errors(without);
}

TEST(LoaderErrors, NeverWithCountIsAnError) {
  auto r = load(with(kMinimal, "\n}", R"(,
  "expect": [ { "event": "drop", "never": true, "count": 2 } ]
})"));
  EXPECT_NE(find_error(r, "`never` cannot be combined"), nullptr) << all_errors(r);
}

TEST(LoaderErrors, ExpectationNamingAnUnknownHost) {
  auto r = load(with(kMinimal, "\n}", R"(,
  "expect": [ { "event": "drop", "host": "bb" } ]
})"));
  EXPECT_NE(find_error(r, "unknown host `bb` (did you mean `b`?)"), nullptr) << all_errors(r);
}

TEST(LoaderErrors, DuplicateKeyGivesBothPositions) {
  auto r = load(with(kMinimal, R"("port": 80)", R"("port": 80, "port": 81)"));
  ASSERT_FALSE(r.scenario);
  const Diagnostic* d = find_error(r, "duplicate key `port` (first at line 9, column 81)");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_EQ(d->line, 9);
  EXPECT_EQ(d->column, 93);
  EXPECT_EQ(d->pointer, "/steps/0/port");
}

// Every file under tests/data/invalid/ states in its description ("error: ...") the
// message it must fail with.
TEST(LoaderErrors, EveryInvalidExampleFailsWithItsStatedError) {
  const std::string marker = "\"description\": \"error: ";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir + "/tests/data/invalid")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    std::string text = read_file(entry.path());
    size_t begin = text.find(marker);
    ASSERT_NE(begin, std::string::npos) << "no \"description\": \"error: ...\"";
    begin += marker.size();
    size_t end = begin;
    while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
    std::string expected =
        nlohmann::json::parse("\"" + text.substr(begin, end - begin) + "\"").get<std::string>();
    auto r = load_scenario_file(entry.path().string());
    EXPECT_FALSE(r.scenario);
    const Diagnostic* d = find_error(r, expected);
    ASSERT_NE(d, nullptr) << "expected `" << expected << "`, got:\n" << all_errors(r);
    EXPECT_GT(d->line, 0);
    EXPECT_GT(d->column, 0);
  }
  EXPECT_GE(files, 20);
}

// --- overrides -----------------------------------------------------------------

TEST(Overrides, ParseJsonValueOrBareString) {
  std::string err;
  auto seed = parse_override("/seed=7", &err);
  ASSERT_TRUE(seed);
  EXPECT_EQ(seed->pointer, "/seed");
  EXPECT_EQ(seed->value, 7);
  EXPECT_EQ(parse_override("/name=hello world", &err)->value, "hello world");
  EXPECT_EQ(parse_override("/links/0/loss=0.1", &err)->value, 0.1);
  EXPECT_EQ(parse_override("/x={\"a\":[1]}", &err)->value, (nlohmann::json{{"a", {1}}}));
  EXPECT_EQ(parse_override("/policy=\"seed\"", &err)->value, "seed");
}

TEST(Overrides, MalformedOverridesAreRejected) {
  std::string err;
  EXPECT_FALSE(parse_override("seed", &err));
  EXPECT_NE(err.find("POINTER=VALUE"), std::string::npos);
  EXPECT_FALSE(parse_override("seed=7", &err));
  EXPECT_FALSE(parse_override("/a~2=7", &err));
}

TEST(Overrides, ReplaceValuesBeforeTyping) {
  auto r = load(kMinimal, {*parse_override("/seed=7", nullptr),
                           *parse_override("/links/0/latency=3ms", nullptr)});
  ASSERT_TRUE(r.scenario) << all_errors(r);
  EXPECT_EQ(r.scenario->seed, 7u);
  EXPECT_EQ(r.scenario->links[0].latency, Duration::milliseconds(3));
}

TEST(Overrides, InvalidOverriddenValueIsReportedAsSuch) {
  auto r = load(kMinimal, {*parse_override("/links/0/loss=2", nullptr)});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].pointer, "/links/0/loss");
  EXPECT_EQ(r.errors[0].line, 0);
  EXPECT_NE(r.errors[0].message.find("set by --set"), std::string::npos);
}

TEST(Overrides, MissingParentIsAnError) {
  auto r = load(kMinimal, {*parse_override("/links/5/loss=0.1", nullptr)});
  ASSERT_FALSE(r.scenario);
  const Diagnostic* d = find_error(r, "`/links/5` does not exist");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_EQ(d->pointer, "/links/5/loss");
}

// --- hostile input -------------------------------------------------------------

TEST(Garbage, NeverCrashesAndAlwaysExplains) {
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary += static_cast<char>((i * 7919) & 0xff);
  std::string text = read_file(kSourceDir + "/tests/data/loader/full.json");
  std::vector<std::string> inputs = {"",  binary, "null", "[]", "\"x\"", "{", "{\"format\":",
                                     std::string(5000, '{'), "{\"seed\": 1e400}",
                                     "{\"format\": \"netsim-scenario/1\", \"seed\": 99999999999999999999999}",
                                     "{\"format\": \"netsim-scenario/1\", \"hosts\": [], \"links\": {}, "
                                     "\"steps\": 3, \"expect\": \"x\", \"defaults\": null}"};
  for (size_t cut = 0; cut < text.size(); cut += 97) inputs.push_back(text.substr(0, cut));
  for (const auto& in : inputs) {
    auto r = load(in);
    EXPECT_FALSE(r.scenario) << in.substr(0, 40);
    EXPECT_FALSE(r.errors.empty());
  }
}

TEST(Garbage, WrongShapesEverywhereGiveErrorsNotCrashes) {
  // Replace every value of the full scenario, one at a time, with values of other types.
  std::string text = read_file(kSourceDir + "/tests/data/loader/full.json");
  JsonSource src = parse_json_source(text);
  ASSERT_TRUE(src.syntax_ok);
  for (const auto& [ptr, pos] : src.value_pos) {
    if (ptr.empty() || ptr.rfind("/$schema", 0) == 0 || ptr == "/name" || ptr == "/description")
      continue;
    for (const char* v : {"null", "-1", "[]", "{}", "1e300"}) {
      auto r = load(text, {*parse_override(ptr + "=" + v, nullptr)});
      (void)r;  // many of these are valid (e.g. an empty list); none may crash
    }
  }
}

// An integer key takes a JSON integer as written: `1500.0` and `1.5e3` are numbers with a
// fraction or an exponent and are refused with their pointer (docs/scenario-format.md, "Units"),
// although JSON Schema's `integer` would count them.
TEST(Garbage, IntegersWrittenWithAFractionOrExponentAreRefused) {
  for (const char* v : {"1500.0", "1.5e3"}) {
    auto r = load(with(kMinimal, R"("10.0.0.1/24"] })", std::string(R"("10.0.0.1/24"], "mtu": )") + v + " }"));
    const Diagnostic* d = find_error(r, std::string("mtu must be an integer from 68 to 65535, got ") + v);
    ASSERT_NE(d, nullptr) << all_errors(r);
    EXPECT_EQ(d->pointer, "/hosts/a/interfaces/eth0/mtu");
  }
  auto seed = load(with(kMinimal, R"("format")", R"("seed": 1.0, "format")"));
  EXPECT_NE(find_error(seed, "expected a non-negative integer, got 1.0"), nullptr) << all_errors(seed);
}

// A control character in a name (a line break, NUL, an escape) would break every one-line
// report that shows it: host, interface, link and socket names refuse them, and the message
// shows the name escaped.
TEST(Garbage, NamesHoldNoControlCharacters) {
  auto host = load(with(kMinimal, R"("b": {)", R"("b\nx": {)"));
  EXPECT_NE(find_error(host, R"(host name "b\nx" may not contain)"), nullptr) << all_errors(host);
  auto iface = load(with(kMinimal, R"("a": { "interfaces": { "eth0")", R"("a": { "interfaces": { "e\u0000")"));
  EXPECT_NE(find_error(iface, R"(interface name "e\u0000" may not contain)"), nullptr) << all_errors(iface);
  auto link = load(with(kMinimal, R"("b.eth0"] })", R"("b.eth0"], "name": "l\u001b[31m" })"));
  EXPECT_NE(find_error(link, R"(link name "l\u001b[31m" may not contain control characters)"), nullptr)
      << all_errors(link);
  auto socket = load(with(kMinimal, R"("socket": "srv")", R"("socket": "s\tv")"));
  EXPECT_NE(find_error(socket, R"(socket name "s\tv" may not contain control characters)"), nullptr)
      << all_errors(socket);
}

TEST(Garbage, MissingFileAndDirectoryAreDiagnostics) {
  auto missing = load_scenario_file(kSourceDir + "/tests/data/loader/no-such-file.json");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(missing.errors[0].message.find("cannot open"), std::string::npos);
  auto dir = load_scenario_file(kSourceDir + "/tests/data/loader");
  ASSERT_EQ(dir.errors.size(), 1u);
  EXPECT_NE(dir.errors[0].message.find("is a directory"), std::string::npos);
}

// --- issue 12: hardening -----------------------------------------------------------

std::string step(const std::string& json) {
  return with(kMinimal, R"("socket": "srv", "port": 80 })", R"("socket": "srv", "port": 80 },
    )" + json);
}

TEST(NewSocketNames, ListenOrConnectNameWithHashIsAnInvalidFile) {
  // `#` belongs to the names of accepted connections (LISTENER#N): a socket named so by
  // a step could collide with one (issue 12 item 7).
  auto r = load(with(kMinimal, R"("socket": "srv")", R"("socket": "web#1")"));
  ASSERT_FALSE(r.scenario);
  const Diagnostic* d = find_error(r, "may not contain `#`");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_EQ(d->pointer, "/steps/0/socket");
  EXPECT_GT(d->line, 0);
  auto c = load(step(R"({ "at": "1s", "host": "a", "op": "connect", "proto": "tcp", "socket": "c#", "remote": "10.0.0.2:80" })"));
  ASSERT_NE(find_error(c, "may not contain `#`"), nullptr) << all_errors(c);
  EXPECT_EQ(find_error(c, "may not contain `#`")->pointer, "/steps/1/socket");
}

TEST(NewSocketNames, AcceptedConnectionNamesStayUsable) {
  auto r = load(step(R"({ "at": "1s", "host": "b", "op": "close", "socket": "srv#1" })"));
  EXPECT_TRUE(r.scenario) << all_errors(r);
}

TEST(ListenerAddresses, AnAddressListedTwiceIsAnInvalidFile) {
  auto r = load(with(kMinimal, R"("port": 80 })", R"("port": 80, "addresses": ["10.0.0.2", "10.0.0.2"] })"));
  ASSERT_FALSE(r.scenario);
  const Diagnostic* d = find_error(r, "listed twice");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_EQ(d->pointer, "/steps/0/addresses/1");
  EXPECT_NE(d->message.find("/steps/0/addresses/0"), std::string::npos);
}

TEST(TcpDefaults, ZeroInitialOrMaximumRtoIsAnInvalidFile) {
  for (const char* key : {"initial_rto", "max_rto"}) {
    SCOPED_TRACE(key);
    auto r = load(with(kMinimal, R"("hosts")",
                       std::string(R"("defaults": { "tcp": { ")") + key + R"(": "0ns" } }, "hosts")"));
    ASSERT_FALSE(r.scenario);
    const Diagnostic* d = find_error(r, "must be greater than 0");
    ASSERT_NE(d, nullptr) << all_errors(r);
    EXPECT_EQ(d->pointer, std::string("/defaults/tcp/") + key);
  }
  auto min_zero = load(with(kMinimal, R"("hosts")", R"("defaults": { "tcp": { "min_rto": "0ns" } }, "hosts")"));
  EXPECT_TRUE(min_zero.scenario) << all_errors(min_zero);
}

TEST(TcpDefaults, CongestionControlIsThePolicysUnlessSet) {
  auto seed = load(kMinimal);
  ASSERT_TRUE(seed.scenario) << all_errors(seed);
  EXPECT_EQ(seed.scenario->tcp.congestion, netsim::tcp::CongestionAlgorithm::kNewReno);
  auto under_linux = load(with(kMinimal, R"("hosts")", R"("policy": "linux", "hosts")"));
  ASSERT_TRUE(under_linux.scenario) << all_errors(under_linux);
  EXPECT_EQ(under_linux.scenario->tcp.congestion, netsim::tcp::CongestionAlgorithm::kCubic);
  auto set = load(with(kMinimal, R"("hosts")",
                       R"("policy": "linux", "defaults": { "tcp": { "congestion": "newreno" } }, "hosts")"));
  ASSERT_TRUE(set.scenario) << all_errors(set);
  EXPECT_EQ(set.scenario->tcp.congestion, netsim::tcp::CongestionAlgorithm::kNewReno);
  auto bad = load(with(kMinimal, R"("hosts")", R"("defaults": { "tcp": { "congestion": "bbr" } }, "hosts")"));
  const Diagnostic* d = find_error(bad, "unknown value `bbr`");
  ASSERT_NE(d, nullptr) << all_errors(bad);
  EXPECT_EQ(d->pointer, "/defaults/tcp/congestion");
}

TEST(TcpDefaults, ReceiverSwsAvoidanceIsOnUnderLinuxUnlessSet) {
  auto seed = load(kMinimal);
  ASSERT_TRUE(seed.scenario) << all_errors(seed);
  EXPECT_FALSE(seed.scenario->tcp.receive_sws_avoidance);
  auto under_linux = load(with(kMinimal, R"("hosts")", R"("policy": "linux", "hosts")"));
  ASSERT_TRUE(under_linux.scenario) << all_errors(under_linux);
  EXPECT_TRUE(under_linux.scenario->tcp.receive_sws_avoidance);
  auto off = load(with(kMinimal, R"("hosts")",
                       R"("policy": "linux", "defaults": { "tcp": { "receive_sws_avoidance": false } }, "hosts")"));
  ASSERT_TRUE(off.scenario) << all_errors(off);
  EXPECT_FALSE(off.scenario->tcp.receive_sws_avoidance);
  auto on = load(with(kMinimal, R"("hosts")", R"("defaults": { "tcp": { "receive_sws_avoidance": true } }, "hosts")"));
  ASSERT_TRUE(on.scenario) << all_errors(on);
  EXPECT_TRUE(on.scenario->tcp.receive_sws_avoidance);
}

TEST(TcpOptions, CongestionOfAStepIsReadForTcpAndRefusedForUdp) {
  auto r = load(with(kMinimal, R"("port": 80 })", R"("port": 80, "congestion": "cubic" })"));
  ASSERT_TRUE(r.scenario) << all_errors(r);
  const auto& listen = std::get<ListenStep>(r.scenario->steps[0].action);
  EXPECT_EQ(listen.tcp.congestion, netsim::tcp::CongestionAlgorithm::kCubic);
  auto udp = load(with(kMinimal, R"("proto": "tcp", "socket": "srv", "port": 80 })",
                       R"("proto": "udp", "socket": "srv", "port": 80, "congestion": "cubic" })"));
  const Diagnostic* d = find_error(udp, "applies to TCP sockets only");
  ASSERT_NE(d, nullptr) << all_errors(udp);
  EXPECT_EQ(d->pointer, "/steps/0/congestion");
}

TEST(TcpOptions, NodelayOfAStepIsReadForTcpAndRefusedForUdp) {
  auto unset = load(kMinimal);
  ASSERT_TRUE(unset.scenario) << all_errors(unset);
  EXPECT_EQ(std::get<ListenStep>(unset.scenario->steps[0].action).tcp.nodelay, std::nullopt);
  for (bool nodelay : {true, false}) {
    const std::string key = std::string(R"("port": 80, "nodelay": )") + (nodelay ? "true" : "false") + " }";
    auto r = load(with(kMinimal, R"("port": 80 })", key));
    ASSERT_TRUE(r.scenario) << all_errors(r);
    EXPECT_EQ(std::get<ListenStep>(r.scenario->steps[0].action).tcp.nodelay, nodelay);
  }
  auto not_bool = load(with(kMinimal, R"("port": 80 })", R"("port": 80, "nodelay": 1 })"));
  ASSERT_FALSE(not_bool.scenario);
  auto udp = load(with(kMinimal, R"("proto": "tcp", "socket": "srv", "port": 80 })",
                       R"("proto": "udp", "socket": "srv", "port": 80, "nodelay": true })"));
  const Diagnostic* d = find_error(udp, "applies to TCP sockets only");
  ASSERT_NE(d, nullptr) << all_errors(udp);
  EXPECT_EQ(d->pointer, "/steps/0/nodelay");
}

TEST(Bounds, IntegerRangesStateBothBoundsAndTheNumberAsWritten) {
  auto queue = load(with(kMinimal, R"(["a.eth0", "b.eth0"] })", R"(["a.eth0", "b.eth0"], "queue": 4294967296 })"));
  ASSERT_NE(find_error(queue, "queue must be an integer from 1 to 4294967295, got 4294967296"), nullptr)
      << all_errors(queue);
  auto count = load(step(R"({ "at": "1s", "host": "b", "op": "ping", "to": "10.0.0.1", "count": 1e12 })"));
  ASSERT_NE(find_error(count, "count must be an integer from 1 to 4294967295, got 1e12"), nullptr)
      << all_errors(count);
}

TEST(Bounds, NumberBeyondDoubleIsOneErrorQuotingIt) {
  auto r = load(with(kMinimal, R"(["a.eth0", "b.eth0"] })", R"(["a.eth0", "b.eth0"], "loss": 1e400 })"));
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].pointer, "/links/0/loss");
  EXPECT_NE(r.errors[0].message.find("1e400"), std::string::npos) << all_errors(r);
  EXPECT_EQ(r.errors[0].message.find("1.79"), std::string::npos) << all_errors(r);
}

TEST(Bounds, TooLargeDurationsAndRatesStateTheMaximum) {
  // However far past it, and in any form, a duration above 1e18 ns gets the same message.
  for (const char* until : {R"("1000000001s")", R"("99999999999999999999s")", "9223372036854775808",
                            "1000000000000000001"}) {
    SCOPED_TRACE(until);
    auto r = load(with(kMinimal, R"("hosts")", std::string(R"("until": )") + until + R"(, "hosts")"));
    ASSERT_NE(find_error(r, "duration too large: at most 1000000000s (1e18 ns), got"), nullptr)
        << all_errors(r);
  }
  EXPECT_EQ(parse_duration("1000000000s", nullptr)->ns, 1000000000000000000);
  std::string err;
  EXPECT_FALSE(parse_rate("99999999999999999999Gbps", &err));
  EXPECT_NE(err.find("rate too large: at most 9223372036854775807 bps"), std::string::npos) << err;
}

TEST(Bounds, ExponentsInDurationsAndRatesAreNamedAsSuch) {
  std::string err;
  EXPECT_FALSE(parse_duration("1e3ms", &err));
  EXPECT_NE(err.find("without an exponent"), std::string::npos) << err;
  EXPECT_FALSE(parse_rate("1E6bps", &err));
  EXPECT_NE(err.find("without an exponent"), std::string::npos) << err;
  EXPECT_FALSE(parse_duration("5 ms", &err));
  EXPECT_NE(err.find("no space"), std::string::npos) << err;
}

TEST(OverridePointers, IndicesWithLeadingZerosAreNotArrayIndices) {
  // RFC 6901: an array index is `0` or digits without a leading zero.
  for (const char* p : {"/links/00/loss=0.1", "/links/01/loss=0.1", "/steps/00=1"}) {
    SCOPED_TRACE(p);
    auto r = load(kMinimal, {*parse_override(p, nullptr)});
    ASSERT_FALSE(r.scenario);
    EXPECT_NE(find_error(r, "is not an array index"), nullptr) << all_errors(r);
  }
}

TEST(OverridePointers, ValueOutOfRangeIsNotTakenAsAString) {
  std::string err;
  EXPECT_FALSE(parse_override("/links/0/loss=1e400", &err));
  EXPECT_NE(err.find("1e400 is out of range"), std::string::npos) << err;
  EXPECT_FALSE(parse_override(R"(/x={"a": 1, "a": 2})", &err));
}

TEST(OverridePointers, BadEscapeIsNamed) {
  std::string err;
  EXPECT_FALSE(parse_override("/a~2=7", &err));
  EXPECT_NE(err.find("`~` must be followed by `0`"), std::string::npos) << err;
  EXPECT_EQ(err.find("starts with"), std::string::npos) << err;
  EXPECT_FALSE(parse_override("seed=7", &err));
  EXPECT_NE(err.find("starts with `/`"), std::string::npos) << err;
  EXPECT_EQ(pointer_error("/a~0b~1c/0"), "");
}

TEST(OverridePointers, AppendedValueErrorsAreMarkedAsSet) {
  // `-` appends: the error is at the new element's index and says it came from --set,
  // with no file position (the file has no such element).
  auto r = load(kMinimal, {*parse_override(R"(/steps/-={"at": "1s", "host": "a", "op": "close", "socket": 7})", nullptr)});
  ASSERT_FALSE(r.scenario);
  const Diagnostic* d = find_error(r, "expected a string");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_EQ(d->pointer, "/steps/1/socket");
  EXPECT_EQ(d->line, 0);
  EXPECT_NE(d->message.find("(value set by --set)"), std::string::npos) << all_errors(r);
}

TEST(OverridePointers, ErrorAboutAFileObjectNamesTheSetValueInside) {
  // The step is in the file (its position is kept); what made it wrong was set.
  auto r = load(kMinimal, {*parse_override("/steps/0/op=connect", nullptr)});
  ASSERT_FALSE(r.scenario);
  const Diagnostic* d = find_error(r, "missing required key `remote`");
  ASSERT_NE(d, nullptr) << all_errors(r);
  EXPECT_GT(d->line, 0);
  EXPECT_NE(d->message.find("(with /steps/0/op set by --set)"), std::string::npos) << all_errors(r);
}

TEST(PinnedFingerprint, ScenarioHashCountsThePinAsEmpty) {
  // The header's scenario_sha256 cannot cover the pin (the pin is made from a trace
  // holding that hash): the pin's value counts as "" (docs/scenario-format.md).
  std::string pinned = with(kMinimal, R"("format")", R"("fingerprint": "ab\"c", "format")");
  std::string other_pin = with(kMinimal, R"("format")", R"("fingerprint": "0123", "format")");
  std::string empty_pin = with(kMinimal, R"("format")", R"("fingerprint": "", "format")");
  auto a = load(pinned), b = load(other_pin);
  ASSERT_TRUE(a.scenario) << all_errors(a);
  ASSERT_TRUE(b.scenario) << all_errors(b);
  EXPECT_EQ(a.scenario->source_sha256, b.scenario->source_sha256);
  EXPECT_EQ(a.scenario->source_sha256, sha256_hex(empty_pin));
  // Without a pin: the file's bytes, as before.
  EXPECT_EQ(load(kMinimal).scenario->source_sha256, sha256_hex(kMinimal));
}

TEST(SchemaMember, ScenarioHashLeavesOutTheSchemaMember) {
  // `$schema` is editor metadata: adding it, first, last or beside a pin, changes neither
  // the header's scenario_sha256 nor, therefore, the trace (docs/scenario-format.md).
  const std::string plain = sha256_hex(kMinimal);
  const std::string first = with(kMinimal, "{\n  \"format\"",
                                 "{\n  \"$schema\": \"../schema/scenario.schema.json\",\n  \"format\"");
  const std::string last = with(kMinimal, "  ]\n}", "  ],\n  \"$schema\" : \"x\\\"y\"\n}");
  for (const std::string& text : {first, last}) {
    auto r = load(text);
    ASSERT_TRUE(r.scenario) << all_errors(r);
    EXPECT_EQ(r.scenario->source_sha256, plain) << text;
  }
  const std::string pinned = with(kMinimal, R"("format")", R"("fingerprint": "abc", "format")");
  const std::string both = with(pinned, R"("fingerprint")", R"("$schema": "s", "fingerprint")");
  EXPECT_EQ(load(both).scenario->source_sha256, load(pinned).scenario->source_sha256);
  // Only the member goes: anything else in the file still counts, and so does a `$schema`
  // that is not a string (the schema rejects it; the loader ignores it).
  EXPECT_NE(load(with(first, "\"format\"", "\"name\": \"n\", \"format\"")).scenario->source_sha256, plain);
  const std::string number = with(kMinimal, R"("format")", R"("$schema": 1, "format")");
  EXPECT_EQ(load(number).scenario->source_sha256, sha256_hex(number));
}

// The JSON Schema's keys are the loader's: every object's `properties` and `required` come
// from the loader's key tables, the steps from the op descriptors (issue 10 item 4, issue
// 14). On a difference the expected file is written next to the test binary: review, copy.
TEST(Schema, FileIsWhatTheLoadersTablesMake) {
  const std::string path = kSourceDir + "/scenarios/schema/scenario.schema.json";
  const std::string text = read_file(path);
  const std::string expected = scenario_schema(nlohmann::ordered_json::parse(text)).dump(2) + "\n";
  if (expected != text) {
    std::ofstream("scenario.schema.json.expected", std::ios::binary) << expected;
    FAIL() << path << " differs from the loader's key tables and op descriptors; the expected file is "
           << std::filesystem::absolute("scenario.schema.json.expected").string();
  }
}


// Every property the tables and descriptors make carries a description (what an editor
// shows on hover): a key added without one fails here, also where ajv is not installed.
void expect_described(const nlohmann::ordered_json& node, const std::string& pointer) {
  if (!node.is_structured()) return;
  for (const auto& [key, value] : node.items()) {
    const std::string at = pointer + "/" + key;
    if (key == "if") continue;  // a condition, never shown
    if (key == "properties" && value.is_object()) {
      for (const auto& [name, schema] : value.items()) {
        if (schema.is_boolean()) continue;  // only says whether the key may appear
        const auto description = schema.value("description", std::string());
        EXPECT_NE(description.find_first_not_of(' '), std::string::npos) << at << "/" << name;
      }
    }
    expect_described(value, at);
  }
}

TEST(Schema, EveryPropertyHasADescription) {
  const auto file = nlohmann::ordered_json::parse(read_file(kSourceDir + "/scenarios/schema/scenario.schema.json"));
  expect_described(scenario_schema(file), "");
}

// The schema's hand-written expectation objects list exactly the keys the loader accepts
// there; `false` (a key that must not appear) does not count.
TEST(Schema, ObjectKeysAreTheLoaders) {
  const auto schema = nlohmann::json::parse(read_file(kSourceDir + "/scenarios/schema/scenario.schema.json"));
  for (const auto& [pointer, keys] : schema_object_keys()) {
    SCOPED_TRACE(pointer);
    const nlohmann::json::json_pointer at(pointer);
    ASSERT_TRUE(schema.contains(at));
    std::set<std::string> in_schema;
    for (const auto& [key, value] : schema.at(at).items())
      if (value != false) in_schema.insert(key);
    EXPECT_EQ(in_schema, std::set<std::string>(keys.begin(), keys.end()));
  }
}

// The op table of docs/scenario-format.md names every op and its keys as the descriptors
// do: required keys in bold (**`key`**), the others plain.
TEST(Docs, OpTableAgreesWithTheOpDescriptors) {
  std::istringstream doc(read_file(kSourceDir + "/docs/scenario-format.md"));
  std::vector<std::string> rows;
  for (std::string line; std::getline(doc, line);)
    if (line.rfind("| `", 0) == 0) rows.push_back(line);
  for (const OpKeys& op : op_keys()) {
    SCOPED_TRACE(op.op);
    const std::string* row = nullptr;
    for (const std::string& r : rows) {
      std::string first = r.substr(0, r.find(" | ", 2));
      if (first.find("`" + op.op + "`") != std::string::npos) row = &r;
    }
    ASSERT_NE(row, nullptr) << "no row for op `" << op.op << "`";
    std::string keys = row->substr(row->find(" | ", 2));
    for (const auto& [key, required] : op.keys) {
      EXPECT_NE(keys.find("`" + key + "`"), std::string::npos) << key;
      EXPECT_EQ(keys.find("**`" + key + "`**") != std::string::npos, required) << key;
    }
  }
}

}  // namespace
}  // namespace netsim::scenario
