// Exports of the JSONL trace (viz/export.h) on the sample traces in tests/data/traces/: pcapng
// (walked block by block here, and read by tshark), Chrome JSON, DOT (rendered by Graphviz),
// Mermaid and the HTML viewer. Tests needing tshark or dot skip when the tool is absent; CI
// installs both.
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "viz/export.h"
#include "viz/export_pcapng.h"
#include "viz/viewer_assets.h"

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Every heap allocation of this test program is counted, so a test can show how much memory an
// export holds at its peak (ExportMemory below).
namespace {
std::atomic<int64_t> g_live_bytes{0}, g_peak_bytes{0};
}  // namespace

void* operator new(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  int64_t live = g_live_bytes += static_cast<int64_t>(malloc_usable_size(p));
  int64_t peak = g_peak_bytes.load();
  while (live > peak && !g_peak_bytes.compare_exchange_weak(peak, live)) {
  }
  return p;
}
// GCC sees free() on memory from operator new: this operator new is malloc, so that is right.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept {
  if (!p) return;
  g_live_bytes -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
void* operator new[](size_t n) { return operator new(n); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, size_t) noexcept { operator delete(p); }
void operator delete[](void* p, size_t) noexcept { operator delete(p); }

namespace netsim {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* const kSamples[] = {"udp-wildcard-uncovered.jsonl", "tcp-handshake-through-router.jsonl"};

std::string source_path(const std::string& rel) { return std::string(NETSIM_SOURCE_DIR) + "/" + rel; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lines of a sample trace, parsed (what the tests expect is read from them).
std::vector<json> load(const std::string& name) {
  std::ifstream in(source_path("tests/data/traces/" + name), std::ios::binary);
  std::vector<json> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(json::parse(line));
  return lines;
}

std::string text_of(const std::vector<json>& lines) {
  std::string text;
  for (const json& l : lines) text += l.dump() + "\n";
  return text;
}

std::string exported(const std::vector<json>& lines, ExportFormat f, const ExportOptions& o = {}) {
  std::istringstream in(text_of(lines));
  std::ostringstream out;
  export_trace(in, "test.jsonl", f, out, o);
  return out.str();
}
std::string export_pcapng(const std::vector<json>& lines) { return exported(lines, ExportFormat::kPcapng); }
std::string export_chrome(const std::vector<json>& lines) { return exported(lines, ExportFormat::kChrome); }
std::string export_html(const std::vector<json>& lines) { return exported(lines, ExportFormat::kHtml); }

std::vector<json> events_of(const std::vector<json>& lines, const std::string& kind = "") {
  std::vector<json> out;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i]["event"] == "summary") break;
    if (kind.empty() || lines[i]["event"] == kind) out.push_back(lines[i]);
  }
  return out;
}

struct Command {
  int exit = -1;
  std::string output;
};
Command run(const std::string& cmd) {
  Command c;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return c;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) c.output.append(buf, n);
  int status = pclose(p);
  c.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return c;
}
bool have(const std::string& tool) { return run("command -v " + tool).exit == 0; }

fs::path scratch(const std::string& name) {
  fs::path dir = fs::path(testing::TempDir()) / "netsim-export-test";
  fs::create_directories(dir);
  return dir / name;
}
void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

// ---------------------------------------------------------------- pcapng, walked by hand

uint32_t le32(const std::string& b, size_t at) {
  return static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8 |
         static_cast<uint8_t>(b[at + 2]) << 16 | static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3])) << 24;
}
uint16_t le16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8);
}
uint16_t be16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) << 8 | static_cast<uint8_t>(b[at + 1]));
}

struct Epb {
  uint32_t interface = 0;
  uint64_t ts = 0;
  std::string data;
  uint32_t flags = 0;
  std::string comment;
};
struct Pcapng {
  std::vector<std::string> interfaces;
  std::vector<uint8_t> tsresol;
  std::vector<Epb> packets;
};

// Options start at `at` and end at `end`; calls f(code, value) for each.
template <typename F>
void options(const std::string& b, size_t at, size_t end, F f) {
  while (at + 4 <= end) {
    uint16_t code = le16(b, at), len = le16(b, at + 2);
    if (code == 0) break;
    f(code, b.substr(at + 4, len));
    at += 4 + (len + 3) / 4 * 4;
  }
}

Pcapng parse_pcapng(const std::string& b) {
  Pcapng p;
  size_t at = 0;
  EXPECT_EQ(le32(b, 0), 0x0A0D0D0Au);
  EXPECT_EQ(le32(b, 8), 0x1A2B3C4Du);
  while (at < b.size()) {
    uint32_t type = le32(b, at), len = le32(b, at + 4);
    EXPECT_EQ(len % 4, 0u);
    EXPECT_LE(at + len, b.size());
    EXPECT_EQ(le32(b, at + len - 4), len) << "trailing block length at " << at;
    if (type == 1) {
      EXPECT_EQ(le16(b, at + 8), 101);  // LINKTYPE_RAW
      std::string name;
      uint8_t res = 6;
      options(b, at + 16, at + len - 4, [&](uint16_t code, const std::string& v) {
        if (code == 2) name = v;
        if (code == 9) res = static_cast<uint8_t>(v[0]);
      });
      p.interfaces.push_back(name);
      p.tsresol.push_back(res);
    } else if (type == 6) {
      Epb e;
      e.interface = le32(b, at + 8);
      e.ts = static_cast<uint64_t>(le32(b, at + 12)) << 32 | le32(b, at + 16);
      uint32_t cap = le32(b, at + 20);
      EXPECT_EQ(cap, le32(b, at + 24));
      e.data = b.substr(at + 28, cap);
      options(b, at + 28 + (cap + 3) / 4 * 4, at + len - 4, [&](uint16_t code, const std::string& v) {
        if (code == 2) e.flags = le32(v, 0);
        if (code == 1) e.comment = v;
      });
      p.packets.push_back(std::move(e));
    }
    at += len;
  }
  return p;
}

uint32_t sum16(const std::string& b, size_t from, size_t to, uint32_t sum = 0) {
  for (size_t i = from; i + 1 < to; i += 2) sum += be16(b, i);
  if ((to - from) % 2) sum += static_cast<uint8_t>(b[to - 1]) << 8;
  return sum;
}
bool sums_to_ffff(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

// Verifies every checksum of one IP datagram (and of an ICMP error's quoted datagram, whole).
void expect_checksums(const std::string& d) {
  ASSERT_GE(d.size(), 20u);
  bool v6 = (static_cast<uint8_t>(d[0]) >> 4) == 6;
  size_t ip = v6 ? 40 : 20;
  uint8_t proto = static_cast<uint8_t>(v6 ? d[6] : d[9]);
  if (!v6) {
    EXPECT_TRUE(sums_to_ffff(sum16(d, 0, 20))) << "IPv4 header checksum";
  }
  EXPECT_EQ(v6 ? be16(d, 4) + 40u : be16(d, 2), d.size()) << "IP length";
  uint32_t pseudo = 0;
  size_t len = d.size() - ip;
  if (v6) {
    pseudo = sum16(d, 8, 40) + static_cast<uint32_t>(len >> 16) + static_cast<uint32_t>(len & 0xffff) + proto;
  } else {
    pseudo = sum16(d, 12, 20) + proto + static_cast<uint32_t>(len);
  }
  if (proto == 1) {
    EXPECT_TRUE(sums_to_ffff(sum16(d, ip, d.size()))) << "ICMP checksum";
  } else {
    EXPECT_TRUE(sums_to_ffff(sum16(d, ip, d.size(), pseudo))) << "transport checksum, proto " << int(proto);
  }
  if ((proto == 1 && d[ip] == 3) || (proto == 58 && d[ip] == 1)) expect_checksums(d.substr(ip + 8));
}

// By default a packet block per tx (each packet once per link traversal, at the sender);
// --capture rx writes the rx events instead, --capture both every tx and rx.
TEST(Pcapng, OneInterfaceBlockPerInterfaceAndOnePacketBlockPerCapturedEvent) {
  const std::pair<PcapngCapture, std::set<std::string>> modes[] = {
      {PcapngCapture::kTx, {"tx"}}, {PcapngCapture::kRx, {"rx"}}, {PcapngCapture::kBoth, {"tx", "rx"}}};
  for (const auto& [mode, kinds] : modes) {
    for (const char* name : kSamples) {
      auto lines = load(name);
      ExportOptions options;
      options.capture = mode;
      Pcapng p = parse_pcapng(exported(lines, ExportFormat::kPcapng, options));
      std::set<std::string> want;
      for (auto& [host, h] : lines[0]["topology"]["hosts"].items()) {
        for (auto& [iface, i] : h["interfaces"].items()) want.insert(host + "/" + iface);
      }
      EXPECT_EQ(std::set<std::string>(p.interfaces.begin(), p.interfaces.end()), want) << name;
      for (uint8_t r : p.tsresol) EXPECT_EQ(r, 9) << "nanosecond timestamps";
      std::vector<json> captured;
      for (const json& e : events_of(lines)) {
        if (kinds.count(e["event"].get<std::string>())) captured.push_back(e);
      }
      ASSERT_EQ(p.packets.size(), captured.size()) << name;
      for (size_t i = 0; i < captured.size(); ++i) {
        const Epb& epb = p.packets[i];
        EXPECT_EQ(p.interfaces.at(epb.interface),
                  captured[i]["host"].get<std::string>() + "/" + captured[i]["interface"].get<std::string>());
        EXPECT_EQ(epb.ts, captured[i]["t"].get<uint64_t>());
        EXPECT_EQ(epb.flags, captured[i]["event"] == "tx" ? 2u : 1u) << "direction";
        expect_checksums(epb.data);
      }
    }
  }
}

TEST(Pcapng, DeliveredPacketCarriesTheDemuxVerdictAsComment) {
  auto lines = load("udp-wildcard-uncovered.jsonl");
  Pcapng p = parse_pcapng(export_pcapng(lines));
  std::vector<std::string> comments;
  for (const auto& e : p.packets) {
    if (!e.comment.empty()) comments.push_back(e.comment);
  }
  ASSERT_GE(comments.size(), 3u);
  EXPECT_EQ(comments[0], "deliver to dns by specific, shadowed: any");
  // The note is on the packet's one block: its capture at the sender.
  EXPECT_EQ(p.interfaces.at(p.packets[0].interface), "client/eth0");
  EXPECT_EQ(p.packets[0].comment, comments[0]);
  EXPECT_EQ(comments[1], "deliver to any by wildcard, shadowed: none");
  EXPECT_NE(std::find(comments.begin(), comments.end(), "drop: no_listener"), comments.end());
}

TEST(Pcapng, PayloadIsTheDeliveredDataElseTheDocumentedPattern) {
  Pcapng udp = parse_pcapng(export_pcapng(load("udp-wildcard-uncovered.jsonl")));
  EXPECT_EQ(udp.packets[0].data.substr(28), "query 1");
  Pcapng tcp = parse_pcapng(export_pcapng(load("tcp-handshake-through-router.jsonl")));
  bool found = false;
  for (const auto& e : tcp.packets) {
    if (e.data.size() == 20 + 20 + 1000) {
      found = true;
      EXPECT_EQ(e.data.substr(40, 30), "abcdefghijklmnopqrstuvwxyzabcd");
    }
  }
  EXPECT_TRUE(found) << "the 1000-byte segment given only by size";
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// Conversation key: protocol and the two addresses (with ports for TCP/UDP), sorted.
std::string conversation(const std::string& proto, std::string a, std::string b) {
  if (b < a) std::swap(a, b);
  return proto + " " + a + " " + b;
}
std::string strip_brackets(std::string s) {
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    return s.substr(1, close - 1) + s.substr(close + 1);
  }
  return s;
}

TEST(Pcapng, TsharkReadsEveryPacketWithoutWarningsAndCountsConversations) {
  if (!have("tshark")) GTEST_SKIP() << "tshark not installed (apt-get install -y tshark)";
  for (const char* name : kSamples) {
    auto lines = load(name);
    fs::path file = scratch(std::string(name) + ".pcapng");
    write_file(file, export_pcapng(lines));
    // These samples send text to well-known ports (53): decode as data to check the headers.
    // tests/exports/check_pcapng.py reads every bundled scenario's capture as users see it.
    std::set<int64_t> ports;
    std::map<std::string, int> want;
    for (const json& e : events_of(lines)) {
      if (e["event"] != "tx") continue;  // the default capture: each packet once per link
      const json& p = e["packet"];
      std::string proto = p["proto"], src = p["src"], dst = p["dst"];
      want[conversation(proto, strip_brackets(src), strip_brackets(dst))]++;
      for (const std::string& ep : {src, dst}) {
        if (proto != "icmp") ports.insert(std::stoll(ep.substr(ep.rfind(':') + 1)));
      }
    }
    std::string cmd = "tshark -n -r " + file.string() +
                      " -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE"
                      " -o udp.check_checksum:TRUE -o tcp.analyze_sequence_numbers:FALSE";
    for (int64_t port : ports) {
      cmd += " -d tcp.port==" + std::to_string(port) + ",data -d udp.port==" + std::to_string(port) + ",data";
    }
    cmd += " -T fields -E separator=/t -E occurrence=a -e _ws.malformed -e _ws.expert.severity"
           " -e ip.checksum.status -e tcp.checksum.status -e udp.checksum.status"
           " -e icmp.checksum.status -e icmpv6.checksum.status -e ip.src -e ip.dst -e ipv6.src"
           " -e ipv6.dst -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e icmp.type"
           " -e icmpv6.type";
    Command c = run(cmd);
    ASSERT_EQ(c.exit, 0) << c.output;
    std::map<std::string, int> got;
    int frames = 0;
    for (const std::string& line : split(c.output, '\n')) {
      auto f = split(line, '\t');
      if (f.size() < 17) continue;  // tshark's own notices
      ++frames;
      EXPECT_EQ(f[0], "") << name << " frame " << frames << ": malformed";
      for (const std::string& sev : split(f[1], ',')) {
        if (!sev.empty()) {
          EXPECT_LT(std::stoul(sev), 0x600000u) << name << " frame " << frames << ": expert warning";
        }
      }
      for (int k = 2; k <= 6; ++k) {
        for (const std::string& st : split(f[k], ',')) {
          if (!st.empty()) {
            EXPECT_EQ(st, "1") << name << " frame " << frames << ": checksum field " << k;
          }
        }
      }
      auto first = [](const std::string& s) { return split(s, ',')[0]; };
      std::string src = first(f[7].empty() ? f[9] : f[7]), dst = first(f[7].empty() ? f[10] : f[8]);
      if (!f[15].empty() || !f[16].empty()) {
        got[conversation("icmp", src, dst)]++;
      } else {
        bool tcp = !f[11].empty();
        std::string sp = first(tcp ? f[11] : f[13]), dp = first(tcp ? f[12] : f[14]);
        got[conversation(tcp ? "tcp" : "udp", src + ":" + sp, dst + ":" + dp)]++;
      }
    }
    EXPECT_EQ(got, want) << name << "\n" << c.output;
  }
}

// ---------------------------------------------------------------- Chrome / Perfetto

TEST(Chrome, ProcessPerHostTracksPerSocketAndInterfaceFlowsFromSendToWhereItEnds) {
  auto lines = load("udp-wildcard-uncovered.jsonl");
  json doc = json::parse(export_chrome(lines));
  ASSERT_TRUE(doc["traceEvents"].is_array());
  EXPECT_FALSE(doc.contains("displayTimeUnit"));
  std::set<std::string> processes, threads;
  std::map<std::string, int> by_ph;
  int deliver_slices = 0, flows_out = 0, flows_in = 0;
  for (const json& e : doc["traceEvents"]) {
    by_ph[e["ph"]]++;
    EXPECT_GT(e["pid"].get<int>(), 0) << e;
    EXPECT_GT(e["tid"].get<int>(), 0) << e;
    flows_out += e.value("flow_out", false);
    flows_in += e.value("flow_in", false);
    if (e["ph"] == "M" && e["name"] == "process_name") processes.insert(e["args"]["name"]);
    if (e["ph"] == "M" && e["name"] == "thread_name") threads.insert(e["args"]["name"]);
    if (e["ph"] == "X" && e["cat"] == "deliver") {
      ++deliver_slices;
      EXPECT_TRUE(e["args"].contains("match"));
      EXPECT_TRUE(e["args"].contains("shadowed"));
    }
  }
  EXPECT_EQ(processes, (std::set<std::string>{"client", "server", "network"}));
  for (const char* t : {"host", "if eth0", "socket dns", "socket any", "socket q"}) {
    EXPECT_TRUE(threads.count(t)) << t;
  }
  EXPECT_EQ(deliver_slices, static_cast<int>(events_of(lines, "deliver").size()));
  // Every packet sent (each ends in a delivery, a drop or an arrival): one arrow out, one in.
  std::set<int64_t> sent;
  for (const json& e : events_of(lines, "tx")) sent.insert(e["packet"]["id"].get<int64_t>());
  EXPECT_EQ(flows_out, static_cast<int>(sent.size()));
  EXPECT_EQ(flows_in, static_cast<int>(sent.size()));
  EXPECT_EQ(by_ph["s"] + by_ph["f"], 0) << "flow v2 (bind_id), not v1 flow events";
  // One async slice per hop (tx -> rx).
  EXPECT_EQ(by_ph["b"], static_cast<int>(events_of(lines, "rx").size()));
  EXPECT_EQ(by_ph["b"], by_ph["e"]);
}

TEST(Chrome, AddressChangesAndSeveringAreInstants) {
  json doc = json::parse(export_chrome(load("tcp-handshake-through-router.jsonl")));
  std::set<std::string> instants;
  for (const json& e : doc["traceEvents"]) {
    if (e["ph"] == "i") instants.insert(e["cat"]);
  }
  for (const char* k : {"address_removed", "address_added", "sever", "link_down"}) {
    EXPECT_TRUE(instants.count(k)) << k;
  }
}

// ---------------------------------------------------------------- DOT, Mermaid

TEST(Dot, TopologyHasHostsInterfacesAddressesAndLinkProperties) {
  std::string dot = exported(load("tcp-handshake-through-router.jsonl"), ExportFormat::kDot);
  for (const char* s : {"graph netsim {", "\"client\" [label=<", "(router)", "10.0.1.254/24",
                        "\"client\":\"eth0\" -- \"r\":\"eth0\"", "access\\n1ms, 100 Mbps",
                        "loss 1%", "<S>10.0.1.1/24</S>", "+10.0.1.2/24 at 60ms"}) {
    EXPECT_NE(dot.find(s), std::string::npos) << s << "\n" << dot;
  }
  // Each starting address once (the header's and its address_added at 0 are one).
  auto count = [&](const std::string& s) {
    size_t n = 0;
    for (size_t at = dot.find(s); at != std::string::npos; at = dot.find(s, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("10.0.1.254/24"), 1u) << dot;
  EXPECT_EQ(count("+10.0.1.254/24"), 0u) << dot;
}

TEST(Dot, RoutesUsedNameThePrefixTheInterfaceAndTheNextHop) {
  std::string dot = exported(load("tcp-handshake-through-router.jsonl"), ExportFormat::kDot);
  EXPECT_NE(dot.find("<I>routes used</I><BR/>10.0.1.0/24 &#8594; eth0 (r)"), std::string::npos) << dot;
}

TEST(Dot, GraphvizRendersIt) {
  if (!have("dot")) GTEST_SKIP() << "graphviz not installed (apt-get install -y graphviz)";
  for (const char* name : kSamples) {
    fs::path file = scratch(std::string(name) + ".dot");
    write_file(file, exported(load(name), ExportFormat::kDot));
    Command c = run("dot -Tsvg " + file.string());
    EXPECT_EQ(c.exit, 0) << c.output;
    EXPECT_NE(c.output.find("<svg"), std::string::npos);
    EXPECT_EQ(c.output.find("Warning"), std::string::npos) << c.output;
  }
}

TEST(Mermaid, ParticipantsAreHostsAndEachDeliveryIsAnArrowWithItsVerdict) {
  auto lines = load("udp-wildcard-uncovered.jsonl");
  std::string m = exported(lines, ExportFormat::kMermaid);
  ASSERT_EQ(m.rfind("sequenceDiagram\n", 0), 0u);
  auto count = [&](const std::string& s) {
    size_t n = 0;
    for (size_t at = m.find(s); at != std::string::npos; at = m.find(s, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("  participant "), 2u);
  // An arrow per delivery and per ICMP error that ends at the host it reports to.
  std::set<int64_t> icmp_ended;
  for (const json& e : events_of(lines, "rx")) {
    if (e["packet"]["proto"] == "icmp") icmp_ended.insert(e["packet"]["id"].get<int64_t>());
  }
  EXPECT_EQ(icmp_ended.size(), 2u);
  EXPECT_EQ(count("->>"), events_of(lines, "deliver").size() + icmp_ended.size());
  EXPECT_NE(m.find("Note over h1: close dns"), std::string::npos) << "the step that uncovers any";
  EXPECT_EQ(m.find("address_added"), std::string::npos) << "the starting addresses are no news";
  EXPECT_EQ(count("-x"), events_of(lines, "drop").size());  // both dropped away from the sender
  EXPECT_NE(m.find("Note right of h1: deliver to dns by specific, shadowed: any"), std::string::npos) << m;
  EXPECT_NE(m.find("FAILED /expect/2"), std::string::npos);
}

TEST(Mermaid, HashAndSemicolonAreEntities) {
  std::string m = exported(load("tcp-handshake-through-router.jsonl"), ExportFormat::kMermaid);
  EXPECT_NE(m.find("web#35;1"), std::string::npos);
  EXPECT_EQ(m.find("web#1"), std::string::npos);
}

// ---------------------------------------------------------------- the HTML viewer

std::string embedded_trace(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"netsim-trace\">";
  size_t a = html.find(open);
  size_t b = html.find("</script>", a);
  if (a == std::string::npos || b == std::string::npos) return "";
  return html.substr(a + open.size(), b - a - open.size());
}

// netsim-viewer/1 back to objects (viz/export_html.h): [shape, values...], [-1, items...],
// [-2, string index].
json decode(const json& packed, const json& v) {
  if (!v.is_array()) return v;
  if (v[0] == -2) return packed["strings"][v[1].get<size_t>()];
  json out = v[0] == -1 ? json::array() : json::object();
  for (size_t k = 1; k < v.size(); ++k) {
    if (v[0] == -1) {
      out.push_back(decode(packed, v[k]));
    } else {
      out[packed["shapes"][v[0].get<size_t>()][k - 1].get<std::string>()] = decode(packed, v[k]);
    }
  }
  return out;
}

// The trace lines a viewer page holds: header, events, summary.
std::vector<json> viewer_lines(const std::string& html) {
  json packed = json::parse(embedded_trace(html));
  EXPECT_EQ(packed["format"], "netsim-viewer/1");
  std::vector<json> lines{packed["header"]};
  for (const json& e : packed["events"]) lines.push_back(decode(packed, e));
  if (!packed["summary"].is_null()) lines.push_back(packed["summary"]);
  return lines;
}

TEST(Html, OneSelfContainedFileWithTheTraceEmbedded) {
  for (const char* name : kSamples) {
    auto lines = load(name);
    std::string html = exported(lines, ExportFormat::kHtml);
    EXPECT_EQ(html, exported(lines, ExportFormat::kHtml)) << "same trace, same bytes";
    EXPECT_EQ(viewer_lines(html), lines) << name;
    for (const char* s : {"src=\"http", "href=\"http", "url(http", "@import", "<link", "fetch("}) {
      EXPECT_EQ(html.find(s), std::string::npos) << s;
    }
    EXPECT_EQ(html.find("@@"), std::string::npos) << "every placeholder filled";
    EXPECT_EQ(html.find("<p id=\"window-note\""), std::string::npos) << "the whole trace: no window note";
  }
  EXPECT_NE(exported(load(kSamples[0]), ExportFormat::kHtml).find("<title>udp-wildcard-uncovered"), std::string::npos);
}

TEST(Html, CompactEncodingIsAtMostHalfTheTrace) {
  auto lines = load("tcp-handshake-through-router.jsonl");
  std::string events;
  for (size_t i = 1; i + 1 < lines.size(); ++i) events += lines[i].dump() + "\n";
  json packed = json::parse(embedded_trace(exported(lines, ExportFormat::kHtml)));
  EXPECT_LE((packed["events"].dump().size() + packed["strings"].dump().size()) * 2, events.size());
}

TEST(Html, TraceTextCannotCloseTheScriptElement) {
  auto lines = load("udp-wildcard-uncovered.jsonl");
  lines[0]["scenario"] = "</script><script>alert(1)</script><!--";
  lines[1]["</script>"] = "<!--";  // a key a newer simulator might add
  std::string html = export_html(lines);
  std::string embedded = embedded_trace(html);
  EXPECT_EQ(embedded.find('<'), std::string::npos);
  EXPECT_EQ(viewer_lines(html), lines);
  EXPECT_NE(html.find("<title>&lt;/script&gt;"), std::string::npos);
}

TEST(Html, PastTheCeilingThePageHoldsAWindowAndSaysSoAtTheTop) {
  auto lines = load("udp-wildcard-uncovered.jsonl");
  size_t events = lines.size() - 2;
  ExportOptions o;
  o.viewer_max_events = 3;
  std::string html = exported(lines, ExportFormat::kHtml, o);
  auto held = viewer_lines(html);
  ASSERT_EQ(held.size(), 2u + 3u);
  EXPECT_EQ(held[3], lines[3]) << "the first events, in order";
  size_t note = html.find("<p id=\"window-note\"");
  ASSERT_NE(note, std::string::npos);
  EXPECT_LT(note, html.find("<main")) << "at the top of the page";
  std::string text = html.substr(note, html.find("</p>", note) - note);
  EXPECT_NE(text.find("3 of " + std::to_string(events) + " events"), std::string::npos) << text;
  EXPECT_NE(text.find("--from"), std::string::npos) << text;
  json window = json::parse(embedded_trace(html))["window"];
  EXPECT_EQ(window["embedded"], 3);
  EXPECT_EQ(window["total"], events);
}

TEST(Html, FromAndToChooseTheWindowInVirtualTime) {
  auto lines = load("tcp-handshake-through-router.jsonl");
  ExportOptions o;
  o.from_ns = 60'000'000;
  o.to_ns = 70'000'000;
  auto held = viewer_lines(exported(lines, ExportFormat::kHtml, o));
  size_t want = 0;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    int64_t t = lines[i]["t"];
    want += t >= *o.from_ns && t <= *o.to_ns;
  }
  ASSERT_GT(want, 0u);
  ASSERT_EQ(held.size(), want + 2);
  for (size_t i = 1; i + 1 < held.size(); ++i) {
    EXPECT_GE(held[i]["t"], *o.from_ns);
    EXPECT_LE(held[i]["t"], *o.to_ns);
  }
}

TEST(Html, EmbeddedAssetsMatchTheirSources) {
  // The embedded assets (generated at build time) are the sources, byte for byte.
  EXPECT_EQ(viewer_assets::kHtml, slurp(source_path("viz/viewer/viewer.html")));
  EXPECT_EQ(viewer_assets::kCss, slurp(source_path("viz/viewer/viewer.css")));
  EXPECT_EQ(viewer_assets::kJs, slurp(source_path("viz/viewer/viewer.js")));
  EXPECT_EQ(viewer_assets::kDiffHtml, slurp(source_path("viz/viewer/diff.html")));
  EXPECT_EQ(viewer_assets::kDiffJs, slurp(source_path("viz/viewer/diff.js")));
}

// ---------------------------------------------------------------- reading a trace

const std::string kHeader =
    R"({"event":"header","format":"netsim-trace/1","scenario":"s","seed":1,"topology":{"hosts":{"a":{"interfaces":{"eth0":{"addresses":["10.0.0.1/24"]}}},"b":{"interfaces":{"eth0":{"addresses":["10.0.0.2/24"]}}}},"links":[{"between":["a.eth0","b.eth0"],"name":"l"}]}})";
const std::string kTx =
    R"({"event":"tx","host":"a","interface":"eth0","packet":{"dst":"10.0.0.2:53","id":0,"len":5,"proto":"udp","src":"10.0.0.1:49152","ttl":64},"seq":0,"t":0})";
// The lifecycle records (trace-format.md, "Sockets"): a listener's and a child's.
const std::string kListen =
    R"({"addresses":["10.0.0.1"],"event":"socket","host":"a","how":"listen","port":80,"proto":"tcp","seq":0,"socket":"web","t":0})";
const std::string kChild =
    R"({"event":"socket","host":"a","how":"child","listener":"web","local":"10.0.0.1:80","proto":"tcp","remote":"10.0.0.2:4000","seq":0,"socket":"web#1","t":0})";

// What reading `text` throws ("" when it reads).
std::string read_error(const std::string& text, TraceLimits limits = {}) {
  std::istringstream in(text);
  try {
    TraceReader r(in, "t.jsonl", limits);
    json e;
    while (r.next(e)) {
    }
  } catch (const TraceReadError& e) {
    return e.what();
  }
  return "";
}

std::string with(const std::string& line, const std::string& from, const std::string& to) {
  std::string s = line;
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

struct BadLine {
  const char* name;
  std::string text;   // the whole trace
  const char* error;  // what the message says, after "t.jsonl:LINE: "
  int line;
};

class TraceReaderRejects : public testing::TestWithParam<BadLine> {};

TEST_P(TraceReaderRejects, NamingTheLine) {
  const BadLine& b = GetParam();
  std::string got = read_error(b.text);
  std::string want = "t.jsonl:" + std::to_string(b.line) + ": ";
  EXPECT_EQ(got.rfind(want, 0), 0u) << got;
  EXPECT_NE(got.find(b.error), std::string::npos) << got;
}

INSTANTIATE_TEST_SUITE_P(
    EveryField, TraceReaderRejects,
    testing::Values(
        BadLine{"Empty", "", "empty trace", 0},
        BadLine{"NotJson", kHeader + "\n{oops\n", "not JSON", 2},
        BadLine{"NotAnObject", kHeader + "\n[1]\n", "not a JSON object", 2},
        BadLine{"NoHeader", kTx + "\n", "not a netsim trace header", 1},
        BadLine{"LenAsFloat", kHeader + "\n" + with(kTx, "\"len\":5", "\"len\":1e11") + "\n", "/packet/len must be an integer", 2},
        BadLine{"LenTooBig", kHeader + "\n" + with(kTx, "\"len\":5", "\"len\":4294967295") + "\n", "/packet/len 4294967295 is outside 0..65535", 2},
        BadLine{"NegativeLen", kHeader + "\n" + with(kTx, "\"len\":5", "\"len\":-1") + "\n", "/packet/len -1", 2},
        BadLine{"NegativeId", kHeader + "\n" + with(kTx, "\"id\":0", "\"id\":-3") + "\n", "/packet/id -3", 2},
        BadLine{"NoId", kHeader + "\n" + with(kTx, "\"id\":0,", "") + "\n", "/packet/id is missing", 2},
        BadLine{"UnknownProto", kHeader + "\n" + with(kTx, "\"udp\"", "\"sctp\"") + "\n", "/packet/proto \"sctp\"", 2},
        BadLine{"BadAddress", kHeader + "\n" + with(kTx, "10.0.0.2:53", "10.0.0.300:53") + "\n", "/packet/dst \"10.0.0.300:53\"", 2},
        BadLine{"BadPort", kHeader + "\n" + with(kTx, "10.0.0.2:53", "10.0.0.2:70000") + "\n", "port outside 0..65535", 2},
        BadLine{"BadTtl", kHeader + "\n" + with(kTx, "\"ttl\":64", "\"ttl\":300") + "\n", "/packet/ttl 300", 2},
        BadLine{"BadFlags", kHeader + "\n" + with(with(kTx, "\"udp\"", "\"tcp\""), "\"ttl\"", "\"flags\":\"SX\",\"ttl\"") + "\n", "/packet/flags \"SX\"", 2},
        BadLine{"SeqRepeats", kHeader + "\n" + kTx + "\n" + kTx + "\n", "/seq 0 does not follow 0", 3},
        BadLine{"TimeGoesBack", kHeader + "\n" + with(kTx, "\"t\":0", "\"t\":5") + "\n" + with(kTx, "\"seq\":0", "\"seq\":1") + "\n", "/t 0 is before", 3},
        BadLine{"NegativeTime", kHeader + "\n" + with(kTx, "\"t\":0", "\"t\":-1") + "\n", "/t -1", 2},
        BadLine{"TxWithoutPacket", kHeader + "\n" + with(kTx, R"("packet":{"dst":"10.0.0.2:53","id":0,"len":5,"proto":"udp","src":"10.0.0.1:49152","ttl":64},)", "") + "\n", "/packet is missing", 2},
        BadLine{"NumberOverflow", kHeader + "\n" + with(kTx, "\"ttl\":64", "\"ttl\":1e400") + "\n", "not JSON: number overflow", 2},
        BadLine{"NoSeq", kHeader + "\n" + with(kTx, "\"seq\":0,", "") + "\n", "/seq is missing", 2},
        BadLine{"CauseIsItself", kHeader + "\n" + with(kTx, "\"seq\":0", "\"cause\":0,\"seq\":0") + "\n", "/cause", 2},
        BadLine{"HostNotText", kHeader + "\n" + with(kTx, "\"host\":\"a\"", "\"host\":7") + "\n", "/host must be a string", 2},
        BadLine{"ShadowedNotText", kHeader + "\n" + with(kTx, "\"seq\"", "\"shadowed\":[1],\"seq\"") + "\n", "/shadowed must be a list of strings", 2},
        BadLine{"DeepNesting", kHeader + "\n" + with(kTx, "\"seq\"", "\"x\":" + std::string(100, '[') + std::string(100, ']') + ",\"seq\"") + "\n", "nested deeper than 16", 2},
        BadLine{"SecondHeader", kHeader + "\n" + with(with(kHeader, "\"format\"", "\"seq\":0,\"t\":0,\"format\""), "", "") + "\n", "a second header", 2},
        BadLine{"LineAfterSummary", kHeader + "\n" + kTx + "\n{\"event\":\"summary\",\"events\":1}\n" + kTx + "\n", "a line after the summary", 4},
        BadLine{"BadMtu", with(kHeader, "\"addresses\":[\"10.0.0.1/24\"]", "\"mtu\":1e9") + "\n", "/topology/hosts/a/interfaces/eth0/mtu", 1},
        BadLine{"BadTopologyAddress", with(kHeader, "10.0.0.1/24", "10.0.0.1/33") + "\n", "is not an address/length", 1},
        BadLine{"SocketWithoutName", kHeader + "\n" + with(kListen, ",\"socket\":\"web\"", "") + "\n", "/socket is missing", 2},
        BadLine{"SocketHowUnknown", kHeader + "\n" + with(kListen, "\"how\":\"listen\"", "\"how\":\"bind\"") + "\n", "/how \"bind\" is not listen, connect or child", 2},
        BadLine{"SocketProtoNotTransport", kHeader + "\n" + with(kListen, "\"proto\":\"tcp\"", "\"proto\":\"icmp\"") + "\n", "/proto \"icmp\" is not tcp or udp", 2},
        BadLine{"ListenerWithoutPort", kHeader + "\n" + with(kListen, "\"port\":80,", "") + "\n", "/port is missing", 2},
        BadLine{"ListenerPortTooBig", kHeader + "\n" + with(kListen, "\"port\":80", "\"port\":65536") + "\n", "/port 65536 is outside 0..65535", 2},
        BadLine{"ListenerWithoutAddresses", kHeader + "\n" + with(kListen, "\"addresses\":[\"10.0.0.1\"],", "") + "\n", "/addresses is missing", 2},
        BadLine{"ListenerAddressNotIp", kHeader + "\n" + with(kListen, "\"10.0.0.1\"", "\"10.0.0.1:80\"") + "\n", "/addresses: \"10.0.0.1:80\" is not an IP address", 2},
        BadLine{"ChildWithoutListener", kHeader + "\n" + with(kChild, "\"listener\":\"web\",", "") + "\n", "/listener is missing", 2},
        BadLine{"ChildWithoutRemote", kHeader + "\n" + with(kChild, "\"remote\":\"10.0.0.2:4000\",", "") + "\n", "/remote is missing", 2},
        BadLine{"ChildLocalWithoutPort", kHeader + "\n" + with(kChild, "10.0.0.1:80", "10.0.0.1") + "\n", "/local \"10.0.0.1\" has no port", 2},
        BadLine{"ChildRemoteBadAddress", kHeader + "\n" + with(kChild, "10.0.0.2:4000", "[fd00::zz]:4000") + "\n", "/remote \"[fd00::zz]:4000\"", 2},
        BadLine{"BadLoss", with(kHeader, "\"name\":\"l\"", "\"loss\":2,\"name\":\"l\"") + "\n", "/topology/links/0/loss", 1}),
    [](const testing::TestParamInfo<BadLine>& info) { return info.param.name; });

TEST(TraceReader, ReadsEveryBundledSampleAndCountsItsEvents) {
  for (const char* name : kSamples) {
    auto lines = load(name);
    EXPECT_EQ(read_error(text_of(lines)), "") << name;
  }
}

TEST(TraceReader, LinesAndNamesAreBounded) {
  TraceLimits small;
  small.max_line_bytes = 100;
  EXPECT_NE(read_error(kHeader + "\n" + kTx + "\n", small).find("t.jsonl:2: line longer than 100 bytes"), std::string::npos);
  small = {};
  small.max_names = 3;  // a, a.eth0, b, ...
  EXPECT_NE(read_error(kHeader + "\n", small).find("more than 3 hosts, interfaces and links"), std::string::npos);
  // A line with no end is cut at the limit, not read into memory whole.
  small = {};
  small.max_line_bytes = 1 << 16;
  EXPECT_NE(read_error(kHeader + "\n\"" + std::string(1 << 20, 'x')).find("line longer than"), std::string::npos);
}

TEST(TraceReader, EventsMayNameHostsTheHeaderDoesNot) {
  std::string late = with(with(kTx, "\"host\":\"a\"", "\"host\":\"c\""), "\"interface\":\"eth0\"", "\"interface\":\"lo\"");
  std::istringstream in(kHeader + "\n" + late + "\n");
  TraceReader r(in, "t.jsonl");
  json e;
  ASSERT_TRUE(r.next(e));
  ASSERT_TRUE(r.topology().hosts.count("c"));
  EXPECT_EQ(r.topology().hosts.at("c").interfaces.at(0).name, "lo");
  EXPECT_FALSE(r.next(e)) << "a trace cut short ends without a summary";
  EXPECT_EQ(r.summary(), nullptr);
}

// ---------------------------------------------------------------- socket records

// A trace whose names and step fields mislead: listener `web#1` looks like a child of `web`, its
// listen step claims UDP on 10.0.0.1:81, and child `any#7` looks like `any`'s. The socket
// records say what is so: `web#1` is a TCP wildcard listener on port 80, `any#7` its child.
const std::string kMisleadingNames =
    kHeader + "\n" +
    R"({"addresses":[],"event":"socket","host":"a","how":"listen","port":80,"proto":"tcp","seq":0,"socket":"web#1","step":"/steps/0","t":0})" "\n"
    R"({"addresses":["10.0.0.1"],"event":"step","host":"a","op":"listen","port":81,"proto":"udp","result":"ok","seq":1,"socket":"web#1","step":"/steps/0","t":0})" "\n"
    R"({"event":"socket","host":"a","how":"child","listener":"web#1","local":"10.0.0.1:80","proto":"tcp","remote":"10.0.0.2:4000","seq":2,"socket":"any#7","t":1000})" "\n"
    R"({"event":"close","host":"a","seq":3,"socket":"any#7","state":"CLOSED","t":2000})" "\n";

std::string export_text(const std::string& trace, ExportFormat f) {
  std::istringstream in(trace);
  std::ostringstream out;
  export_trace(in, "t.jsonl", f, out, {});
  return out.str();
}

TEST(SocketRecords, ChromeLifetimesTakeHowBindingAndListenerFromTheRecord) {
  json doc = json::parse(export_text(kMisleadingNames, ExportFormat::kChrome));
  std::map<std::string, json> lifetimes;  // slice name -> slice (the records' own slices too)
  for (const json& e : doc["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == "socket") lifetimes[e["name"]] = e;
  for (const auto& [name, slice] : lifetimes) EXPECT_EQ(name.find("udp"), std::string::npos) << name;
  ASSERT_TRUE(lifetimes.count("listen tcp *:80")) << doc.dump();
  ASSERT_TRUE(lifetimes.count("accepted from web#1 tcp 10.0.0.1:80 > 10.0.0.2:4000")) << doc.dump();
  EXPECT_EQ(lifetimes["accepted from web#1 tcp 10.0.0.1:80 > 10.0.0.2:4000"]["dur"], 1) << "from the SYN to the close, in us";
}

TEST(SocketRecords, MermaidNotesTakeTheBindingAndTheListenerFromTheRecord) {
  std::string m = export_text(kMisleadingNames, ExportFormat::kMermaid);
  EXPECT_NE(m.find("listen web#35;1 tcp *:80 @0"), std::string::npos) << m;
  EXPECT_EQ(m.find("10.0.0.1:81"), std::string::npos) << "the step's own binding is not the fact";
  EXPECT_NE(m.find("any#35;7 accepted from web#35;1 tcp 10.0.0.1:80 > 10.0.0.2:4000"), std::string::npos) << m;
}

TEST(SocketRecords, WithoutThemExportsFallBackToStepsAndAccepts) {
  // The sample traces from before the records, with their socket lines taken out.
  std::vector<json> lines;
  for (const json& l : load("tcp-handshake-through-router.jsonl"))
    if (l["event"] != "socket") lines.push_back(l);
  json doc = json::parse(export_chrome(lines));
  std::set<std::string> lifetimes;
  for (const json& e : doc["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == "socket") lifetimes.insert(e["name"]);
  EXPECT_TRUE(lifetimes.count("accepted  10.0.1.1:80 > 10.0.0.100:49152")) << doc.dump();
  EXPECT_TRUE(lifetimes.count("listen ")) << doc.dump();
  // With them: the same sockets, named by the records.
  doc = json::parse(export_chrome(load("tcp-handshake-through-router.jsonl")));
  lifetimes.clear();
  for (const json& e : doc["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == "socket") lifetimes.insert(e["name"]);
  EXPECT_TRUE(lifetimes.count("accepted from web tcp 10.0.1.1:80 > 10.0.0.100:49152")) << doc.dump();
  EXPECT_TRUE(lifetimes.count("listen tcp 10.0.1.1:80")) << doc.dump();
  EXPECT_TRUE(lifetimes.count("listen tcp *:80")) << doc.dump();
}

// ---------------------------------------------------------------- hostile names (issue 12 #19)

// Every name a trace carries, made of what breaks output languages: line ends, quotes, markup.
TEST(HostileNames, EveryExportStaysWellFormed) {
  const std::string evil = "x\n\r\"'<>&;#%{}[]|\\:-->>\x01\t.";
  auto lines = load("udp-wildcard-uncovered.jsonl");
  lines[0]["scenario"] = "name\nwith newline " + evil;
  json hosts = json::object();
  for (auto& [name, h] : lines[0]["topology"]["hosts"].items()) hosts[name + evil] = h;
  lines[0]["topology"]["hosts"] = hosts;
  for (auto& l : lines[0]["topology"]["links"]) {
    l["name"] = l["name"].get<std::string>() + evil;
    for (auto& b : l["between"]) {
      std::string s = b;
      b = s.substr(0, s.find('.')) + evil + s.substr(s.find('.'));
    }
  }
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    for (const char* key : {"host", "socket", "listener"}) {
      if (lines[i].contains(key)) lines[i][key] = lines[i][key].get<std::string>() + evil;
    }
  }
  // DOT: one comment line, then the graph; every statement on its own line; Graphviz renders it.
  std::string dot = exported(lines, ExportFormat::kDot);
  auto dot_lines = split(dot, '\n');
  EXPECT_EQ(dot_lines[0].rfind("// netsim topology of scenario name with newline", 0), 0u) << dot;
  EXPECT_EQ(dot_lines[1], "graph netsim {");
  for (size_t k = 2; k + 2 < dot_lines.size(); ++k) EXPECT_EQ(dot_lines[k].rfind("  ", 0), 0u) << dot_lines[k];
  if (have("dot")) {
    fs::path file = scratch("hostile.dot");
    write_file(file, dot);
    Command c = run("dot -Tsvg " + file.string() + " -o /dev/null");
    EXPECT_EQ(c.exit, 0) << c.output << dot;
    EXPECT_EQ(c.output.find("Warning"), std::string::npos) << c.output;
  }
  // Mermaid: every statement on its own line.
  std::string m = exported(lines, ExportFormat::kMermaid);
  auto m_lines = split(m, '\n');
  EXPECT_EQ(m_lines[0], "sequenceDiagram");
  for (size_t k = 1; k + 1 < m_lines.size(); ++k) {
    EXPECT_EQ(m_lines[k].rfind("  ", 0), 0u) << m_lines[k];
    EXPECT_EQ(m_lines[k].find('\r'), std::string::npos);
    std::string bare = m_lines[k];
    for (const std::string entity : {"#35;", "#59;"}) {
      for (size_t at; (at = bare.find(entity)) != std::string::npos;) bare.erase(at, entity.size());
    }
    EXPECT_EQ(bare.find(';'), std::string::npos) << m_lines[k];
  }
  EXPECT_EQ(m_lines.size(), split(exported(load("udp-wildcard-uncovered.jsonl"), ExportFormat::kMermaid), '\n').size());
  // Chrome: JSON that says the names back.
  json chrome = json::parse(exported(lines, ExportFormat::kChrome));
  EXPECT_EQ(chrome["metadata"]["netsim-trace"]["scenario"], lines[0]["scenario"]);
  // HTML: the title escaped, the trace embedded as it is.
  std::string html = exported(lines, ExportFormat::kHtml);
  EXPECT_EQ(viewer_lines(html), lines);
  size_t title = html.find("<title>") + 7;
  EXPECT_EQ(html.substr(title, html.find("</title>") - title).find_first_of("<>\""), std::string::npos);
  // pcapng: every block walks, one interface per interface.
  Pcapng p = parse_pcapng(exported(lines, ExportFormat::kPcapng));
  EXPECT_EQ(p.interfaces.size(), 2u);
}

// ---------------------------------------------------------------- memory: flat in trace length

// A trace of `groups` sends made on the fly (never held whole): per send a step, a tx, an rx and a
// delivery (every 100th a drop instead), an address change every 1000th; then the summary.
class GeneratedTrace : public std::streambuf {
 public:
  explicit GeneratedTrace(uint64_t groups) : groups_(groups) { line_ = kHeader + "\n"; set(); }

  uint64_t lines() const { return 4 * groups_ + groups_ / 1000; }

 private:
  int_type underflow() override {
    if (done_) return traits_type::eof();
    line_.clear();
    if (group_ == groups_) {
      line_ = "{\"event\":\"summary\",\"events\":" + std::to_string(seq_) + ",\"t\":" + std::to_string(t_) + "}\n";
      done_ = true;
    } else {
      next_group();
    }
    set();
    return traits_type::to_int_type(line_[0]);
  }
  void set() { setg(line_.data(), line_.data(), line_.data() + line_.size()); }

  void next_group() {
    t_ = group_ * 1000;
    std::string id = std::to_string(group_);
    std::string packet = R"("packet":{"dst":"10.0.0.2:53","id":)" + id + R"(,"len":1,"proto":"udp","src":"10.0.0.1:49152","ttl":64})";
    auto line = [&](const std::string& body, int64_t dt) {
      line_ += "{" + body + ",\"seq\":" + std::to_string(seq_++) + ",\"t\":" + std::to_string(t_ + dt) + "}\n";
    };
    int64_t step = seq_;
    line(R"("event":"step","host":"a","op":"send","result":"ok","socket":"s","step":"/steps/0")", 0);
    line(R"("cause":)" + std::to_string(step) + R"(,"event":"tx","host":"a","interface":"eth0",)" + packet, 0);
    line(R"("cause":)" + std::to_string(step + 1) + R"(,"event":"rx","host":"b","interface":"eth0",)" + packet, 500);
    if (group_ % 100 == 99) {
      line(R"("cause":)" + std::to_string(step + 2) + R"(,"event":"drop","host":"b","reason":"no_listener",)" + packet, 500);
    } else {
      line(R"("cause":)" + std::to_string(step + 2) + R"(,"data":"x","event":"deliver","host":"b","match":"wildcard",)" + packet + R"(,"proto":"udp","shadowed":[],"socket":"r")", 500);
    }
    if (group_ % 1000 == 999) {
      line(R"("address":"10.0.9.)" + std::to_string(group_ / 1000 % 250) + R"(/24","event":"address_added","host":"a","interface":"eth0")", 500);
    }
    ++group_;
  }

  uint64_t groups_, group_ = 0;
  int64_t seq_ = 0, t_ = 0;
  bool done_ = false;
  std::string line_;
};

// Output that is counted and dropped.
class NullOutput : public std::streambuf {
 public:
  uint64_t bytes = 0;

 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override {
    bytes += static_cast<uint64_t>(n);
    return n;
  }
  int_type overflow(int_type c) override {
    ++bytes;
    return c;
  }
};

struct ExportRun {
  int64_t peak_heap = 0;            // bytes above what was live before the run
  std::vector<size_t> held;         // per format, after the last event
  std::vector<uint64_t> out_bytes;  // per format
};

// Every exporter over one generated trace, in one pass, as `run --out` does.
ExportRun export_generated(uint64_t groups) {
  ExportRun r;
  GeneratedTrace source(groups);
  std::istream in(&source);
  std::vector<NullOutput> sinks(std::size(kAllExportFormats));
  std::vector<std::unique_ptr<std::ostream>> outs;
  std::vector<std::unique_ptr<TraceExporter>> exporters;
  std::vector<TraceExporter*> raw;
  for (size_t k = 0; k < sinks.size(); ++k) {
    outs.push_back(std::make_unique<std::ostream>(&sinks[k]));
    exporters.push_back(make_exporter(kAllExportFormats[k], *outs.back()));
    raw.push_back(exporters.back().get());
  }
  int64_t before = g_live_bytes.load();
  g_peak_bytes = before;
  TraceReader reader(in, "generated.jsonl");
  run_exporters(reader, raw);
  r.peak_heap = g_peak_bytes.load() - before;
  for (size_t k = 0; k < sinks.size(); ++k) {
    r.held.push_back(exporters[k]->held());
    r.out_bytes.push_back(sinks[k].bytes);
  }
  return r;
}

// The rule: what an export holds is bounded by the topology, the sockets and its lookahead, so
// ten times the events (a million lines) takes no more memory than a tenth of them.
TEST(ExportMemory, FlatInTheLengthOfTheTrace) {
  if (kSanitized) GTEST_SKIP() << "measured in the plain build: the sanitizer build takes minutes over a million lines";
  ExportRun small = export_generated(25'000);   // 100 000 lines
  ExportRun large = export_generated(250'000);  // 1 000 000 lines
  for (size_t k = 0; k < std::size(kAllExportFormats); ++k) {
    SCOPED_TRACE(std::string(to_string(kAllExportFormats[k])));
    EXPECT_GT(large.out_bytes[k], 0u);
    EXPECT_LE(large.held[k], 8 * kLookahead) << "entries held about events";
    EXPECT_LE(large.held[k], small.held[k] + small.held[k] / 10 + 64);
  }
  EXPECT_LT(large.peak_heap, 96 << 20) << "peak heap of all five exports together";
  EXPECT_LE(large.peak_heap, small.peak_heap + small.peak_heap / 10) << "small run peaked at " << small.peak_heap;
}

// ---------------------------------------------------------------- command line

TEST(ExportMain, WritesTheFormatItsExtensionNames) {
  std::string trace = source_path("tests/data/traces/udp-wildcard-uncovered.jsonl");
  fs::path out = scratch("cli.dot");
  fs::remove(out);
  EXPECT_EQ(export_main({trace, "-o", out.string()}), 0);
  EXPECT_EQ(slurp(out.string()), exported(load("udp-wildcard-uncovered.jsonl"), ExportFormat::kDot));
  fs::path pcap = scratch("cli.bin");
  EXPECT_EQ(export_main({trace, "--format", "pcapng", "-o", pcap.string()}), 0);
  EXPECT_EQ(le32(slurp(pcap.string()), 0), 0x0A0D0D0Au);
}

TEST(ExportMain, UsageErrorsExitTwoAndBadTracesThree) {
  std::string trace = source_path("tests/data/traces/udp-wildcard-uncovered.jsonl");
  EXPECT_EQ(export_main({}), 2);
  EXPECT_EQ(export_main({trace}), 2);
  EXPECT_EQ(export_main({trace, "--format", "png", "-o", "x.png"}), 2);
  EXPECT_EQ(export_main({trace, "-o", scratch("x.unknown").string()}), 2);
  EXPECT_EQ(export_main({"/nonexistent/trace.jsonl", "-o", scratch("x.html").string()}), 2);
  EXPECT_EQ(export_main({source_path("tests/data"), "-o", scratch("x.html").string()}), 2) << "a directory";
  EXPECT_EQ(export_main({trace, "--from", "3 ms", "-o", scratch("x.html").string()}), 2);
  EXPECT_EQ(export_main({trace, "--from", "5ms", "--to", "1ms", "-o", scratch("x.html").string()}), 2);
  EXPECT_EQ(export_main({trace, "--max-events", "0", "-o", scratch("x.html").string()}), 2);
  EXPECT_EQ(export_main({trace, "--capture", "sideways", "-o", scratch("x.pcapng").string()}), 2);
  EXPECT_EQ(export_main({trace, "-o", "/dev/null", "--format", "dot"}), 2) << "not a regular file";
  fs::path bad = scratch("bad.jsonl");
  write_file(bad, "{\"event\":\"tx\"}\n");
  EXPECT_EQ(export_main({bad.string(), "-o", scratch("x.html").string()}), 3);
}

TEST(ExportMain, ABadTraceIsExitThreeNamingItsLineAndLeavesNoOutput) {
  fs::path bad = scratch("len.jsonl");
  write_file(bad, kHeader + "\n" + with(kTx, "\"len\":5", "\"len\":100000000000") + "\n");
  fs::path out = scratch("len.pcapng");
  fs::remove(out);
  testing::internal::CaptureStderr();
  EXPECT_EQ(export_main({bad.string(), "-o", out.string()}), 3);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.rfind(bad.string() + ":2: /packet/len", 0), 0u) << err;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(out.parent_path())) {
    EXPECT_EQ(entry.path().filename().string().find(".len.pcapng.tmp"), std::string::npos) << "temporary left behind";
  }
}

TEST(ExportMain, WritesThroughASymlinkToARegularFile) {
  fs::path target = scratch("target.dot"), link = scratch("link.dot");
  fs::remove(link);
  write_file(target, "old");
  fs::create_symlink(target, link);
  EXPECT_EQ(export_main({source_path("tests/data/traces/udp-wildcard-uncovered.jsonl"), "-o", link.string()}), 0);
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(slurp(target.string()).rfind("// netsim topology", 0), 0u);
}

TEST(ExportAll, WritesEveryFormatIntoTheDirectoryInOnePass) {
  fs::path dir = scratch("all");
  fs::remove_all(dir);
  std::ifstream in(source_path("tests/data/traces/tcp-handshake-through-router.jsonl"), std::ios::binary);
  export_all(in, "tcp.jsonl", dir);
  auto lines = load("tcp-handshake-through-router.jsonl");
  for (ExportFormat f : kAllExportFormats) {
    EXPECT_EQ(slurp((dir / export_file_name(f)).string()), exported(lines, f)) << export_file_name(f);
  }
}

}  // namespace
}  // namespace netsim
