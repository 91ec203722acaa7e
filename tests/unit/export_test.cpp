// Exports of the JSONL trace (viz/export.h) on the sample traces in tests/data/traces/: pcapng
// (walked block by block here, and read by tshark), Chrome JSON, DOT (rendered by Graphviz),
// Mermaid and the HTML viewer. Tests needing tshark or dot skip when the tool is absent; CI
// installs both.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "viz/export.h"
#include "viz/export_chrome.h"
#include "viz/export_html.h"
#include "viz/export_pcapng.h"
#include "viz/viewer_assets.h"

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

std::vector<json> load(const std::string& name) {
  std::ifstream in(source_path("tests/data/traces/" + name), std::ios::binary);
  return read_trace(in);
}

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

TEST(Pcapng, OneInterfaceBlockPerInterfaceAndOnePacketBlockPerTxAndRx) {
  for (const char* name : kSamples) {
    auto lines = load(name);
    Pcapng p = parse_pcapng(export_pcapng(lines));
    std::set<std::string> want;
    for (auto& [host, h] : lines[0]["topology"]["hosts"].items()) {
      for (auto& [iface, i] : h["interfaces"].items()) want.insert(host + "/" + iface);
    }
    EXPECT_EQ(std::set<std::string>(p.interfaces.begin(), p.interfaces.end()), want) << name;
    for (uint8_t r : p.tsresol) EXPECT_EQ(r, 9) << "nanosecond timestamps";
    std::vector<json> captured;
    for (const json& e : events_of(lines)) {
      if (e["event"] == "tx" || e["event"] == "rx") captured.push_back(e);
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

TEST(Pcapng, DeliveredPacketCarriesTheDemuxVerdictAsComment) {
  auto lines = load("udp-wildcard-uncovered.jsonl");
  Pcapng p = parse_pcapng(export_pcapng(lines));
  std::vector<std::string> comments;
  for (const auto& e : p.packets) {
    if (!e.comment.empty()) comments.push_back(e.comment);
  }
  ASSERT_GE(comments.size(), 3u);
  EXPECT_EQ(comments[0], "deliver to dns by specific, shadowed: any");
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
    // Payloads are scenario text, not the protocol a well-known port implies: decode as data.
    std::set<int64_t> ports;
    std::map<std::string, int> want;
    for (const json& e : events_of(lines)) {
      if (e["event"] != "tx" && e["event"] != "rx") continue;
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

TEST(Chrome, ProcessPerHostTracksPerSocketAndInterfaceFlowsFromSendToDelivery) {
  auto lines = load("udp-wildcard-uncovered.jsonl");
  json doc = json::parse(export_chrome(lines));
  ASSERT_TRUE(doc["traceEvents"].is_array());
  std::set<std::string> processes, threads;
  std::map<std::string, int> by_ph;
  int deliver_slices = 0;
  for (const json& e : doc["traceEvents"]) {
    by_ph[e["ph"]]++;
    if (e["ph"] == "M" && e["name"] == "process_name") processes.insert(e["args"]["name"]);
    if (e["ph"] == "M" && e["name"] == "thread_name") threads.insert(e["args"]["name"]);
    if (e["ph"] == "X" && e["cat"] == "deliver") {
      ++deliver_slices;
      EXPECT_TRUE(e["args"].contains("match"));
      EXPECT_TRUE(e["args"].contains("shadowed"));
    }
  }
  EXPECT_EQ(processes, (std::set<std::string>{"client", "server", "links & expectations"}));
  for (const char* t : {"host", "if eth0", "socket dns", "socket any", "socket q"}) {
    EXPECT_TRUE(threads.count(t)) << t;
  }
  EXPECT_EQ(deliver_slices, static_cast<int>(events_of(lines, "deliver").size()));
  // Every packet that was delivered or dropped: one flow start and one finish.
  int ended = 0;
  std::set<int64_t> ids;
  for (const json& e : events_of(lines)) {
    if ((e["event"] == "deliver" || e["event"] == "drop") && ids.insert(e["packet"]["id"].get<int64_t>()).second) ++ended;
  }
  EXPECT_EQ(by_ph["s"], ended);
  EXPECT_EQ(by_ph["f"], ended);
  // One async slice per hop (tx -> rx).
  EXPECT_EQ(by_ph["b"], static_cast<int>(events_of(lines, "rx").size()));
  EXPECT_EQ(by_ph["b"], by_ph["e"]);
}

TEST(Chrome, AddressChangesAndSeveringAreInstants) {
  json doc = chrome_trace(load("tcp-handshake-through-router.jsonl"));
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
  std::string dot = export_trace(load("tcp-handshake-through-router.jsonl"), ExportFormat::kDot);
  for (const char* s : {"graph netsim {", "\"client\" [label=<", "(router)", "10.0.1.254/24",
                        "\"client\":\"eth0\" -- \"r\":\"eth0\"", "access\\n1ms, 100 Mbps",
                        "loss 1%", "<S>10.0.1.1/24</S>", "+10.0.1.2/24 at 60ms"}) {
    EXPECT_NE(dot.find(s), std::string::npos) << s << "\n" << dot;
  }
}

TEST(Dot, GraphvizRendersIt) {
  if (!have("dot")) GTEST_SKIP() << "graphviz not installed (apt-get install -y graphviz)";
  for (const char* name : kSamples) {
    fs::path file = scratch(std::string(name) + ".dot");
    write_file(file, export_trace(load(name), ExportFormat::kDot));
    Command c = run("dot -Tsvg " + file.string());
    EXPECT_EQ(c.exit, 0) << c.output;
    EXPECT_NE(c.output.find("<svg"), std::string::npos);
    EXPECT_EQ(c.output.find("Warning"), std::string::npos) << c.output;
  }
}

TEST(Mermaid, ParticipantsAreHostsAndEachDeliveryIsAnArrowWithItsVerdict) {
  auto lines = load("udp-wildcard-uncovered.jsonl");
  std::string m = export_trace(lines, ExportFormat::kMermaid);
  ASSERT_EQ(m.rfind("sequenceDiagram\n", 0), 0u);
  auto count = [&](const std::string& s) {
    size_t n = 0;
    for (size_t at = m.find(s); at != std::string::npos; at = m.find(s, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("  participant "), 2u);
  EXPECT_EQ(count("->>"), events_of(lines, "deliver").size());
  EXPECT_EQ(count("-x"), events_of(lines, "drop").size());  // both dropped away from the sender
  EXPECT_NE(m.find("Note right of h1: deliver to dns by specific, shadowed: any"), std::string::npos) << m;
  EXPECT_NE(m.find("FAILED /expect/2"), std::string::npos);
}

TEST(Mermaid, HashAndSemicolonAreEntities) {
  std::string m = export_trace(load("tcp-handshake-through-router.jsonl"), ExportFormat::kMermaid);
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

TEST(Html, OneSelfContainedFileWithTheTraceEmbedded) {
  auto lines = load("udp-wildcard-uncovered.jsonl");
  std::string html = export_trace(lines, ExportFormat::kHtml);
  EXPECT_EQ(html, export_trace(lines, ExportFormat::kHtml)) << "same trace, same bytes";
  EXPECT_EQ(json::parse(embedded_trace(html)), json(lines));
  for (const char* s : {"src=\"http", "href=\"http", "url(http", "@import", "<link", "fetch("}) {
    EXPECT_EQ(html.find(s), std::string::npos) << s;
  }
  EXPECT_NE(html.find("<title>udp-wildcard-uncovered"), std::string::npos);
  EXPECT_EQ(html.find("@@"), std::string::npos) << "every placeholder filled";
}

TEST(Html, TraceTextCannotCloseTheScriptElement) {
  auto lines = load("udp-wildcard-uncovered.jsonl");
  lines[0]["scenario"] = "</script><script>alert(1)</script><!--";
  std::string html = export_html(lines);
  std::string embedded = embedded_trace(html);
  EXPECT_EQ(embedded.find('<'), std::string::npos);
  EXPECT_EQ(json::parse(embedded)[0]["scenario"], lines[0]["scenario"]);
  EXPECT_NE(html.find("<title>&lt;/script&gt;"), std::string::npos);
}

TEST(Html, EmbeddedAssetsMatchTheirSources) {
  // The embedded assets (generated at build time) are the sources, byte for byte.
  EXPECT_EQ(viewer_assets::kHtml, slurp(source_path("viz/viewer/viewer.html")));
  EXPECT_EQ(viewer_assets::kCss, slurp(source_path("viz/viewer/viewer.css")));
  EXPECT_EQ(viewer_assets::kJs, slurp(source_path("viz/viewer/viewer.js")));
}

// ---------------------------------------------------------------- reading, command line

TEST(ReadTrace, RejectsWhatIsNotATrace) {
  std::istringstream not_json("{\"event\":\"header\",\"format\":\"netsim-trace/1\"}\n{oops\n");
  try {
    read_trace(not_json);
    FAIL() << "accepted bad JSON";
  } catch (const TraceReadError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  std::istringstream no_header("{\"event\":\"tx\",\"seq\":0}\n");
  EXPECT_THROW(read_trace(no_header), TraceReadError);
  std::istringstream empty("");
  EXPECT_THROW(read_trace(empty), TraceReadError);
}

TEST(ExportMain, WritesTheFormatItsExtensionNames) {
  std::string trace = source_path("tests/data/traces/udp-wildcard-uncovered.jsonl");
  fs::path out = scratch("cli.dot");
  fs::remove(out);
  EXPECT_EQ(export_main({trace, "-o", out.string()}), 0);
  EXPECT_EQ(slurp(out.string()), export_trace(load("udp-wildcard-uncovered.jsonl"), ExportFormat::kDot));
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
  fs::path bad = scratch("bad.jsonl");
  write_file(bad, "{\"event\":\"tx\"}\n");
  EXPECT_EQ(export_main({bad.string(), "-o", scratch("x.html").string()}), 3);
}

TEST(ExportAll, WritesEveryFormatIntoTheDirectory) {
  fs::path dir = scratch("all");
  fs::remove_all(dir);
  export_all(load("tcp-handshake-through-router.jsonl"), dir);
  for (ExportFormat f : kAllExportFormats) {
    EXPECT_TRUE(fs::exists(dir / export_file_name(f))) << export_file_name(f);
    EXPECT_GT(fs::file_size(dir / export_file_name(f)), 0u);
  }
}

}  // namespace
}  // namespace netsim
