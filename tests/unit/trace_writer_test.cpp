// The JSONL trace writer: line format, packet objects, data/size, fingerprint,
// summary, and the atomic file write (trace-format.md).
#include "viz/trace_writer.h"
#include "scenarios/run_records.h"
#include "viz/output_file.h"

#include <openssl/evp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

namespace netsim {
namespace {

using nlohmann::json;

IpAddr ip(const char* text) { return *IpAddr::parse(text); }

TraceHeader header() {
  TraceHeader h;
  h.netsim_version = "0.1.0";
  h.policy = "seed";
  h.scenario = "unit";
  h.scenario_sha256 = "abc";
  h.seed = 7;
  h.topology = json{{"hosts", json::array({"a", "b"})}};
  return h;
}

// Socket names as the runner would give them: the handle of a name is made up on first use.
class TestNames : public SocketNamer {
 public:
  SocketId id(const std::string& name, TransportProto proto = TransportProto::kUdp) {
    auto [it, added] = ids_.try_emplace({name, proto}, SocketId{static_cast<uint32_t>(ids_.size()), 0, proto});
    if (added) names_[it->second] = name;
    return it->second;
  }
  std::string_view socket_name(HostId, SocketId socket) const override {
    auto it = names_.find(socket);
    return it == names_.end() ? std::string_view() : std::string_view(it->second);
  }

 private:
  std::map<std::pair<std::string, TransportProto>, SocketId> ids_;
  std::map<SocketId, std::string> names_;
};
TestNames& names() {
  static TestNames n;
  return n;
}
SocketId sock(const std::string& name) { return names().id(name); }
SocketId tcp_sock(const std::string& name) { return names().id(name, TransportProto::kTcp); }

// A stack record on host `h` (or on none).
StackEvent on(StackRecord record, std::string_view host = "h") { return StackEvent{record, host, HostId{}, -1}; }

// A writer whose trace is kept in memory, with the lines parsed back for assertions.
struct CapturedOutput {
  StringTraceOutput out;
};
class CapturedWriter : private CapturedOutput, public TraceWriter {
 public:
  explicit CapturedWriter(TraceObserver* observer = nullptr)
      : TraceWriter(header(), &out, true, observer) {
    set_namer(&names());
  }
  const std::string& text() const { return out.text(); }
  // The event lines parsed (header and summary excluded).
  std::vector<json> events() const {
    std::vector<json> ev;
    std::istringstream in(out.text());
    std::string line;
    while (std::getline(in, line)) {
      json j = json::parse(line);
      if (j["event"] != "header" && j["event"] != "summary") ev.push_back(std::move(j));
    }
    return ev;
  }
};

Packet udp(std::string payload = "hi") {
  Packet p;
  p.id = 7;
  p.proto = IpProto::kUdp;
  p.src = ip("10.0.0.1");
  p.dst = ip("10.0.0.2");
  p.sport = 49152;
  p.dport = 53;
  p.payload = std::move(payload);
  return p;
}

Packet tcp(uint8_t flags, std::string payload = "") {
  Packet p;
  p.id = 3;
  p.proto = IpProto::kTcp;
  p.src = ip("10.0.0.1");
  p.dst = ip("10.0.0.100");
  p.sport = 80;
  p.dport = 49152;
  p.tcp.seq = 1000;
  p.tcp.ack = 1;
  p.tcp.flags = flags;
  p.tcp.window = 65535;
  p.payload = std::move(payload);
  return p;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string evp_sha256_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  char buf[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

// One record of every kind, so format checks cover them all.
void emit_every_kind(TraceWriter& w, const Packet& p) {
  w.set_namer(&names());
  scenario::StepRecord step;
  step.host = "h";
  step.op = "listen";
  step.socket = "s";
  w.emit(scenario::RunRecordBody(scenario::RunRecord(step)));
  w.emit(on(TxRecord{"eth0", &p}));
  w.emit(on(RxRecord{"eth0", &p}));
  w.emit(on(ForwardRecord{"eth0", "eth1", &p}));
  w.emit(on(DropRecord{&p, DropReason::kQueueFull, "eth0", "wan"}));
  const SocketId shadowed[] = {sock("z"), sock("a")};
  w.emit(on(DeliverRecord{sock("s"), MatchRule::kWildcardDevice, shadowed, &p, {}, {}}));
  w.emit(on(AcceptRecord{sock("web#1"), sock("web"), *SocketAddr::parse("10.0.0.1:80"),
                         *SocketAddr::parse("[fd00::9]:4000")}));
  w.emit(on(EstablishedRecord{sock("c"), *SocketAddr::parse("10.0.0.2:4000"), *SocketAddr::parse("10.0.0.1:80")}));
  w.emit(on(ReceiveRecord{sock("c"), "tab\there \"q\" \\ \x01"}));
  w.emit(on(SeverRecord{sock("c"), NetError::kAddressRemoved}));
  w.emit(on(ErrorRecord{sock("c"), NetError::kTimedOut}));
  w.emit(on(CloseRecord{sock("c"), "time_wait"}));
  w.emit(on(AddressAddedRecord{"eth0", *Prefix::parse("fd00::1/64")}));
  w.emit(on(AddressRemovedRecord{"eth0", *Prefix::parse("10.0.0.1/24")}));
  w.emit(on(InterfaceDownRecord{"eth0"}));
  w.emit(on(InterfaceUpRecord{"eth0"}));
  w.emit(on(LinkDownRecord{"wan"}, ""));
  w.emit(on(LinkUpRecord{"wan"}, ""));
  w.emit(on(PingRecord{&p, Duration::microseconds(2)}));
  w.emit(on(SocketRecord{SocketOrigin::kListen, sock("s"), {}, 53, {}, {}, {}, {}}));
}

json emit_one(const StackEvent& e) {
  CapturedWriter w;
  w.emit(e);
  return w.events().back();
}

json emit_one(const scenario::StepRecord& step) {
  CapturedWriter w;
  w.emit(scenario::RunRecordBody(scenario::RunRecord(step)));
  return w.events().back();
}

TEST(TraceWriter, EveryLineIsCanonicalJsonWithSortedKeys) {
  CapturedWriter w;
  Packet p = tcp(tcp_flags::kSyn);
  emit_every_kind(w, p);
  w.append_expect("/expect/0", true, "fine");
  w.finish(1, 0, 1, 0);
  const std::string& text = w.text();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\r'), std::string::npos);
  auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 1 + 20 + 1 + 1u);
  for (const std::string& line : lines) {
    // nlohmann's object is a std::map: dump() is sorted; byte equality means same form.
    EXPECT_EQ(line, json::parse(line).dump());
    auto ordered = nlohmann::ordered_json::parse(line);
    std::string previous;
    for (auto it = ordered.begin(); it != ordered.end(); ++it) {
      EXPECT_LT(previous, it.key()) << line;
      previous = it.key();
    }
  }
}

TEST(TraceWriter, HeaderComesFirstWithFormatAndTopology) {
  CapturedWriter w;
  auto lines = lines_of(w.text());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(
      lines[0],
      R"({"event":"header","format":"netsim-trace/1","netsim":"0.1.0","policy":"seed",)"
      R"("scenario":"unit","scenario_sha256":"abc","seed":7,"topology":{"hosts":["a","b"]}})");
  EXPECT_TRUE(w.events().empty());
}

TEST(TraceWriter, EventKindsCarryTheirTableFields) {
  CapturedWriter w;
  Packet p = udp();
  emit_every_kind(w, p);
  const auto& ev = w.events();
  ASSERT_EQ(ev.size(), 20u);
  EXPECT_EQ(ev[0], json::parse(R"({"event":"step","host":"h","op":"listen","result":"ok",
                                   "seq":0,"socket":"s","t":0})"));
  EXPECT_EQ(ev[3]["from"], "eth0");
  EXPECT_EQ(ev[3]["to"], "eth1");
  EXPECT_EQ(ev[4]["reason"], "queue_full");
  EXPECT_EQ(ev[4]["link"], "wan");
  EXPECT_EQ(ev[5]["match"], "wildcard+device");
  EXPECT_EQ(ev[5]["proto"], "udp");
  EXPECT_EQ(ev[5]["shadowed"], json::parse(R"(["a","z"])"));
  EXPECT_EQ(ev[6],
            json::parse(R"({"event":"accept","host":"h","listener":"web","local":"10.0.0.1:80",
                                   "remote":"[fd00::9]:4000","seq":6,"socket":"web#1","t":0})"));
  EXPECT_EQ(ev[9]["error"], "address_removed");
  EXPECT_EQ(ev[10]["error"], "timed_out");
  EXPECT_EQ(ev[11]["state"], "time_wait");
  EXPECT_EQ(ev[12]["address"], "fd00::1/64");
  EXPECT_EQ(ev[13]["address"], "10.0.0.1/24");
  EXPECT_EQ(ev[16], json::parse(R"({"event":"link_down","link":"wan","seq":16,"t":0})"));
  EXPECT_EQ(ev[18]["rtt"], 2000);
  EXPECT_EQ(ev[19], json::parse(R"({"addresses":[],"event":"socket","host":"h","how":"listen","port":53,
                                    "proto":"udp","seq":19,"socket":"s","t":0})"));
}

// The lifecycle record: how the socket came to be and its key, a listener's as port and
// addresses, a connection's as its two ends; a child names its listener.
TEST(TraceWriter, SocketRecordCarriesHowItCameToBeAndItsKey) {
  const IpAddr addresses[] = {ip("10.0.0.1"), ip("fd00::1")};
  SocketRecord listen{SocketOrigin::kListen, tcp_sock("web"), {}, 80, addresses, {}, {}, "eth1"};
  EXPECT_EQ(emit_one(on(listen)),
            json::parse(R"({"addresses":["10.0.0.1","fd00::1"],"device":"eth1","event":"socket","host":"h",
                            "how":"listen","port":80,"proto":"tcp","seq":0,"socket":"web","t":0})"));
  SocketRecord connect{SocketOrigin::kConnect, sock("q"), {}, 0, {}, *SocketAddr::parse("10.0.0.2:4000"),
                       *SocketAddr::parse("10.0.0.1:53"), {}};
  EXPECT_EQ(emit_one(on(connect)),
            json::parse(R"({"event":"socket","host":"h","how":"connect","local":"10.0.0.2:4000",
                            "proto":"udp","remote":"10.0.0.1:53","seq":0,"socket":"q","t":0})"));
  SocketRecord child{SocketOrigin::kChild, tcp_sock("web#1"), tcp_sock("web"), 0, {},
                     *SocketAddr::parse("[fd00::1]:80"), *SocketAddr::parse("[fd00::9]:4000"), {}};
  EXPECT_EQ(emit_one(StackEvent{child, "h", HostId{}, 5}),
            json::parse(R"({"cause":5,"event":"socket","host":"h","how":"child","listener":"web",
                            "local":"[fd00::1]:80","proto":"tcp","remote":"[fd00::9]:4000","seq":0,
                            "socket":"web#1","t":0})"));
}

TEST(TraceWriter, StepShowsErrorResultAndExpectedKind) {
  scenario::StepRecord r;
  r.host = "c";
  r.op = "connect";
  r.result = NetError::kConnectionRefused;
  r.expected = NetError::kConnectionRefused;
  json e = emit_one(r);
  EXPECT_EQ(e["result"], "connection_refused");
  EXPECT_EQ(e["expected"], "connection_refused");
  EXPECT_FALSE(e.contains("socket"));
}

TEST(TraceWriter, SeqCountsEventLinesFromZeroAndTComesFromTheClock) {
  CapturedWriter w;
  SimTime now{0};
  w.set_clock([&] { return now; });
  const StackEvent r = on(LinkUpRecord{"l"}, "");
  EXPECT_EQ(w.emit(r), 0);
  now = SimTime{1500};
  EXPECT_EQ(w.emit(r), 1);
  now = SimTime{40000000};
  w.append_expect("/expect/0", false, "");
  const auto& ev = w.events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0]["seq"], 0);
  EXPECT_EQ(ev[0]["t"], 0);
  EXPECT_EQ(ev[1]["seq"], 1);
  EXPECT_EQ(ev[1]["t"], 1500);
  EXPECT_EQ(ev[2], json::parse(R"({"event":"expect","pointer":"/expect/0","result":"fail",
                                   "seq":2,"t":40000000})"));
}

TEST(TraceWriter, CauseAndStepComeFromTheRecordOrTheContext) {
  CapturedWriter w;
  StackEvent r = on(InterfaceUpRecord{"eth0"});
  w.emit(r);  // no context: neither key
  w.set_context(0, "/steps/3");
  w.emit(r);  // context cause and step
  r.cause = 1;
  w.emit(r);  // the record's own cause wins
  w.clear_context();
  r.cause = -1;
  w.emit(r);
  const auto& ev = w.events();
  EXPECT_FALSE(ev[0].contains("cause"));
  EXPECT_FALSE(ev[0].contains("step"));
  EXPECT_EQ(ev[1]["cause"], 0);
  EXPECT_EQ(ev[1]["step"], "/steps/3");
  EXPECT_EQ(ev[2]["cause"], 1);
  EXPECT_EQ(ev[2]["step"], "/steps/3");
  EXPECT_FALSE(ev[3].contains("cause"));
  EXPECT_FALSE(ev[3].contains("step"));
}

TEST(TracePacket, UdpHasPortsAndNoTcpFields) {
  EXPECT_EQ(
      TraceWriter::packet_json(udp()),
      R"({"dst":"10.0.0.2:53","id":7,"len":2,"proto":"udp","src":"10.0.0.1:49152","ttl":64})");
}

TEST(TracePacket, TcpHasFlagsSeqAckWindowAndMssOnSyn) {
  Packet p = tcp(tcp_flags::kSyn | tcp_flags::kAck);
  p.tcp.options.mss = 1460;
  p.ttl = 63;
  EXPECT_EQ(TraceWriter::packet_json(p),
            R"({"ack":1,"dst":"10.0.0.100:49152","flags":"SA","id":3,"len":0,"mss":1460,)"
            R"("proto":"tcp","seq":1000,"src":"10.0.0.1:80","ttl":63,"window":65535})");
}

TEST(TracePacket, TcpFlagLettersFollowTheOrderFSRPA) {
  using namespace tcp_flags;
  const std::pair<uint8_t, const char*> cases[] = {
      {0, ""},
      {kSyn, "S"},
      {kSyn | kAck, "SA"},
      {kAck, "A"},
      {kFin | kAck, "FA"},
      {kRst, "R"},
      {kRst | kAck, "RA"},
      {kPsh | kAck, "PA"},
      {kFin | kPsh | kAck, "FPA"},
      {kFin | kSyn | kRst | kPsh | kAck, "FSRPA"},
  };
  for (auto [flags, letters] : cases)
    EXPECT_EQ(json::parse(TraceWriter::packet_json(tcp(flags)))["flags"], letters) << int(flags);
}

TEST(TracePacket, IcmpErrorHasTypeInnerPacketAndNoPorts) {
  Packet p;
  p.id = 9;
  p.proto = IpProto::kIcmp;
  p.icmp_type = IcmpType::kPortUnreachable;
  p.src = ip("10.0.0.2");
  p.dst = ip("10.0.0.1");
  p.inner = std::make_shared<Packet>(udp());
  EXPECT_EQ(TraceWriter::packet_json(p),
            R"({"dst":"10.0.0.1","id":9,"inner":{"dst":"10.0.0.2:53","id":7,"len":2,"proto":"udp",)"
            R"("src":"10.0.0.1:49152","ttl":64},"len":0,"proto":"icmp","src":"10.0.0.2","ttl":64,)"
            R"("type":"port_unreachable"})");
  p.icmp_type = IcmpType::kTimeExceeded;
  EXPECT_EQ(json::parse(TraceWriter::packet_json(p))["type"], "time_exceeded");
}

TEST(TracePacket, IcmpEchoShowsItsSequenceNumber) {
  Packet p;
  p.id = 1;
  p.proto = IpProto::kIcmp;
  p.icmp_type = IcmpType::kEchoReply;
  p.src = ip("fd00::2");
  p.dst = ip("fd00::1");
  p.sport = 77;  // identifier
  p.dport = 3;   // sequence
  p.payload = std::string(56, 'x');
  EXPECT_EQ(TraceWriter::packet_json(p),
            R"({"dst":"fd00::1","id":1,"len":56,"proto":"icmp","seq":3,"src":"fd00::2","ttl":64,)"
            R"("type":"echo_reply"})");
}

TEST(TracePacket, Ipv6PortsAreBracketed) {
  Packet p = udp();
  p.src = ip("fd00::1");
  p.dst = ip("fd00:0:0:0:0:0:0:2");
  json j = json::parse(TraceWriter::packet_json(p));
  EXPECT_EQ(j["src"], "[fd00::1]:49152");
  EXPECT_EQ(j["dst"], "[fd00::2]:53");
}

json deliver(const Packet& p) {
  const SocketId s = p.proto == IpProto::kTcp ? tcp_sock("s") : sock("s");
  return emit_one(on(DeliverRecord{s, MatchRule::kConnection, {}, &p, {}, {}}));
}

TEST(TraceData, ShortUtf8PayloadIsDataUpTo64Bytes) {
  EXPECT_EQ(deliver(udp("hello"))["data"], "hello");
  json at_limit = deliver(udp(std::string(64, 'a')));
  EXPECT_EQ(at_limit["data"], std::string(64, 'a'));
  EXPECT_FALSE(at_limit.contains("size"));
  std::string accents = "h\xC3\xA9llo \xE2\x82\xAC";  // "héllo €"
  EXPECT_EQ(deliver(udp(accents))["data"], accents);
}

TEST(TraceData, LongOrBinaryPayloadIsSizeOnly) {
  json long_one = deliver(udp(std::string(65, 'a')));
  EXPECT_EQ(long_one["size"], 65);
  EXPECT_FALSE(long_one.contains("data"));
  for (std::string bad : {std::string("\xff\xfe"), std::string("a\xC3"), std::string("\xC0\xAF"),
                          std::string("\xED\xA0\x80")}) {
    json e = deliver(udp(bad));
    EXPECT_EQ(e["size"], bad.size());
    EXPECT_FALSE(e.contains("data"));
  }
}

TEST(TraceData, TcpSegmentWithoutPayloadOmitsDataButEmptyUdpShowsIt) {
  json ack = deliver(tcp(tcp_flags::kAck));
  EXPECT_EQ(ack["proto"], "tcp");
  EXPECT_FALSE(ack.contains("data"));
  EXPECT_FALSE(ack.contains("size"));
  EXPECT_EQ(deliver(tcp(tcp_flags::kPsh | tcp_flags::kAck, "GET"))["data"], "GET");
  EXPECT_EQ(deliver(udp(""))["data"], "");
}

TEST(TraceData, ReceiveUsesDataOrSize) {
  EXPECT_EQ(emit_one(on(ReceiveRecord{sock("c"), "ok\n"}))["data"], "ok\n");
  const std::string hundred(100, 'z');
  EXPECT_EQ(emit_one(on(ReceiveRecord{sock("c"), hundred}))["size"], 100);
  const std::string megabyte(1 << 20, '\0');
  json e = emit_one(on(ReceiveRecord{sock("c"), megabyte}));
  EXPECT_EQ(e["size"], 1 << 20);
  EXPECT_FALSE(e.contains("data"));
}

TEST(TraceWriter, FingerprintIsSha256OfEveryLineBeforeTheSummary) {
  CapturedWriter w;
  Packet p = udp();
  emit_every_kind(w, p);
  w.append_expect("/expect/0", true, "");
  std::string before = w.text();
  std::string expected = evp_sha256_hex(before);
  EXPECT_EQ(w.fingerprint(), expected);
  w.finish(3, 1, 1, 0);
  EXPECT_EQ(w.fingerprint(), expected);
  auto lines = lines_of(w.text());
  json summary = json::parse(lines.back());
  EXPECT_EQ(summary["fingerprint"], expected);
  EXPECT_EQ(w.text().substr(0, before.size()), before);
}

TEST(TraceWriter, EqualRunsGiveEqualFingerprintsAndAnyChangeAnother) {
  auto run = [](int64_t t) {
    CapturedWriter w;
    w.set_clock([t] { return SimTime{t}; });
    w.emit(on(LinkUpRecord{"l"}, ""));
    return w.fingerprint();
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(TraceWriter, SummaryCountsEventsStepsAndExpectations) {
  CapturedWriter w;
  SimTime now{0};
  w.set_clock([&] { return now; });
  const StackEvent r = on(LinkUpRecord{"l"}, "");
  w.emit(r);
  w.emit(r);
  now = SimTime{40000000};
  w.append_expect("/expect/0", true, "");
  w.finish(12, 1, 7, 2);
  w.finish(0, 0, 0, 0);  // later calls do nothing
  auto lines = lines_of(w.text());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines.back(), R"({"event":"summary","events":3,"expectations":{"failed":2,"passed":7},)"
                          R"("fingerprint":")" +
                              w.fingerprint() +
                              R"(","steps":{"failed":1,"passed":12},"t":40000000})");
  EXPECT_EQ(w.events().size(), 3u);  // header and summary are not events
}

TEST(TraceWriter, WithoutOutputOrFingerprintNothingIsRendered) {
  TraceWriter w(header(), nullptr, false);
  Packet p = udp();
  emit_every_kind(w, p);
  w.finish(0, 0, 0, 0);
  EXPECT_EQ(w.event_count(), 20u);
  EXPECT_EQ(w.fingerprint(), "");
}

TEST(TraceWriter, FingerprintWithoutOutputEqualsTheWrittenTracesFingerprint) {
  TraceWriter hashed(header(), nullptr, true);
  CapturedWriter written;
  Packet p = udp();
  emit_every_kind(hashed, p);
  emit_every_kind(written, p);
  EXPECT_EQ(hashed.fingerprint(), written.fingerprint());
  EXPECT_EQ(hashed.fingerprint(), evp_sha256_hex(written.text()));
}

// Memory does not grow with the length of the trace: a counting output sees every
// byte while the writer holds no more than one line at a time.
TEST(TraceWriter, StreamsTenMillionRecordsWithoutKeepingThem) {
  struct Counting : TraceOutput {
    void write(std::string_view bytes) override {
      total += bytes.size();
      largest = std::max(largest, bytes.size());
    }
    uint64_t total = 0;
    size_t largest = 0;
  } counting;
  TraceWriter w(header(), &counting, false);
  const StackEvent r = on(LinkUpRecord{"l"}, "");
  const uint64_t kRecords = 10'000'000;
  for (uint64_t i = 0; i < kRecords; ++i) w.emit(r);
  w.finish(0, 0, 0, 0);
  EXPECT_EQ(w.event_count(), kRecords);
  EXPECT_GT(counting.total, kRecords * 40);  // every line went out...
  EXPECT_LT(counting.largest, 256u);         // ...one at a time, none accumulated
}

TEST(TraceWriter, ObserverSeesEveryKeptEventWithItsLineFields) {
  struct Collect : TraceObserver {
    void on_event(const TraceEventView& e) override { seen.push_back(e.to_json()); }
    std::vector<json> seen;
  } collect;
  CapturedWriter w(&collect);
  Packet p = tcp(tcp_flags::kSyn);
  emit_every_kind(w, p);
  EXPECT_EQ(collect.seen, w.events());  // the observer's view is the written line
}

TEST(TraceWriter, StringsAreEscapedLikeNlohmann) {
  std::string out;
  std::string s = std::string("a\"b\\c\n\r\t\b\f\x01\x1f\x7f") + "\xC3\xA9";
  append_json_string(out, s);
  EXPECT_EQ(out, json(s).dump());
  out.clear();
  append_json_string(out, "bad\xff");
  EXPECT_EQ(out, "\"bad\xEF\xBF\xBD\"");  // replaced, still valid UTF-8
}

// --- atomic write -----------------------------------------------------------

class AtomicWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("netsim_atomic_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  size_t entries() const {
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir_), {}));
  }
  std::filesystem::path dir_;
};

TEST_F(AtomicWrite, ReplacesTheFileAndLeavesNoTemporary) {
  auto path = dir_ / "trace.jsonl";
  std::string error;
  ASSERT_TRUE(write_file_atomically(path.string(), "old\n", &error)) << error;
  ASSERT_TRUE(write_file_atomically(path.string(), "new\n", &error)) << error;
  EXPECT_EQ(read(path), "new\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicWrite, MissingDirectoryFailsWithAReason) {
  auto path = dir_ / "missing" / "trace.jsonl";
  std::string error;
  EXPECT_FALSE(write_file_atomically(path.string(), "x", &error));
  EXPECT_NE(error.find("missing"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(AtomicWrite, FailedWriteLeavesTheOldFileAndNoTemporary) {
  auto path = dir_ / "trace.jsonl";
  ASSERT_TRUE(write_file_atomically(path.string(), "old\n", nullptr));
  // Make write() fail part way (EFBIG) through a file size limit; works even as root.
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 16;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string error;
  bool ok = write_file_atomically(path.string(), std::string(4096, 'n'), &error);
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(ok);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(read(path), "old\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicWrite, FollowsASymlinkToARegularFileAndKeepsTheLink) {
  auto real = dir_ / "real.jsonl";
  auto link = dir_ / "link.jsonl";
  ASSERT_TRUE(write_file_atomically(real.string(), "old\n", nullptr));
  std::filesystem::create_symlink(real, link);
  std::string error;
  ASSERT_TRUE(write_file_atomically(link.string(), "new\n", &error)) << error;
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(read(real), "new\n");
  EXPECT_EQ(entries(), 2u);
}

TEST_F(AtomicWrite, RefusesAFifoAndADanglingSymlink) {
  auto fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string error;
  EXPECT_FALSE(write_file_atomically(fifo.string(), "x", &error));
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;
  EXPECT_EQ(std::filesystem::status(fifo).type(), std::filesystem::file_type::fifo);
  auto dangling = dir_ / "dangling";
  std::filesystem::create_symlink(dir_ / "nowhere" / "x", dangling);
  EXPECT_FALSE(write_file_atomically(dangling.string(), "x", &error));
  EXPECT_TRUE(std::filesystem::is_symlink(dangling));
  EXPECT_EQ(entries(), 2u);
}

TEST_F(AtomicWrite, UncommittedOutputLeavesNoTemporary) {
  auto path = dir_ / "trace.jsonl";
  {
    std::string error;
    auto out = OutputFile::open(path.string(), &error);
    ASSERT_TRUE(out) << error;
    out->write("partial");
    EXPECT_EQ(entries(), 1u);  // the temporary
  }
  EXPECT_EQ(entries(), 0u);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(AtomicWrite, TargetThatIsADirectoryFailsAndCleansUp) {
  auto path = dir_ / "sub";
  std::filesystem::create_directories(path / "keep");
  std::string error;
  EXPECT_FALSE(write_file_atomically(path.string(), "x", &error));
  EXPECT_TRUE(std::filesystem::is_directory(path / "keep"));
  EXPECT_EQ(entries(), 1u);
}

}  // namespace
}  // namespace netsim
