#include "scenarios/loader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "scenarios/json_source.h"
#include "stack/policy.h"
#include "sim/topology.h"
#include "viz/sha256.h"

namespace netsim::scenario {

using nlohmann::json;

namespace {

constexpr uint64_t kMaxFileBytes = 64ull << 20;

// ---------------------------------------------------------------------------
// Small helpers

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// " (did you mean `x`?)" for the closest candidate, or "" when none is close.
template <typename Range>
std::string did_you_mean(std::string_view word, const Range& candidates) {
  if (word.size() > 64) return "";
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max();
  for (const auto& c : candidates) {
    std::string_view cand(c);
    size_t dist = edit_distance(word, cand);
    if (dist < best_d) {
      best_d = dist;
      best = std::string(cand);
    }
  }
  size_t limit = std::max<size_t>(1, std::max(word.size(), best.size()) / 3);
  if (best.empty() || best_d == 0 || best_d > limit) return "";
  return " (did you mean `" + best + "`?)";
}

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

std::string quote_list(const std::vector<std::string>& v) {
  std::vector<std::string> q;
  for (const auto& s : v) q.push_back("`" + s + "`");
  return join(q);
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    default: return "an invalid value";
  }
}

// A JSON value for a message: never throws (invalid UTF-8 is replaced), clipped.
// Why no host can hold `a` as its own address, or nullptr when one can: the unspecified
// address means "none" (RFC 1122 3.2.1.3, RFC 4291 2.5.2), a multicast one names a group
// (RFC 1112, RFC 4291 2.7), 255.255.255.255 every host on the link (RFC 919).
const char* not_a_host_address(const IpAddr& a) {
  if (a.is_unspecified()) return "the unspecified address";
  const uint8_t first = a.bytes()[0];
  if (a.is_v4() && (first & 0xf0) == 0xe0) return "a multicast address (224.0.0.0/4)";
  if (a.is_v4() && a.v4_bits() == 0xffffffff) return "the limited broadcast address";
  if (a.is_v6() && first == 0xff) return "a multicast address (ff00::/8)";
  return nullptr;
}

// True when `name` holds an ASCII control character (a line break, NUL, an escape): such a
// name would break every one-line report and diagnostic that shows it.
bool has_control(const std::string& name) {
  return std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

std::string safe_dump(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// Durations and times are at most kMaxDuration (1e18 ns, about 31.7 years), so sums of
// a few of them (a step time plus a repeat, now plus a latency or a timer) cannot overflow
// the signed 64-bit nanosecond clock.
constexpr uint64_t kMaxDuration = 1'000'000'000'000'000'000;
constexpr const char* kMaxDurationText = "1000000000s (1e18 ns)";

// Splits "12.5ms" into an exact value in units of 1/scale: number * unit_factor.
// Returns nullopt and an error message when the text is malformed, negative, finer
// than one unit or above `max` (stated as `max_text`).
struct UnitTable {
  std::string_view name;
  uint64_t factor;
};

std::optional<uint64_t> parse_with_unit(std::string_view text, const std::vector<UnitTable>& units,
                                        bool unit_case_insensitive, const char* what,
                                        const char* finest, uint64_t max, const std::string& max_text,
                                        std::string* error) {
  auto fail = [&](std::string m) -> std::optional<uint64_t> {
    if (error) *error = std::move(m);
    return std::nullopt;
  };
  std::vector<std::string> names;
  for (const auto& u : units) names.emplace_back(u.name);
  if (text.empty()) return fail(std::string("empty ") + what);
  if (text[0] == '-') return fail(std::string(what) + " cannot be negative");
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  std::string_view int_part = text.substr(0, i);
  std::string_view frac_part;
  if (i < text.size() && text[i] == '.') {
    size_t start = ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    frac_part = text.substr(start, i - start);
    if (frac_part.empty()) return fail("expected a digit after `.` in `" + std::string(text) + "`");
  }
  if (int_part.empty())
    return fail("expected a number and a unit (" + join(names) + "), got `" + std::string(text) + "`");
  std::string_view unit = text.substr(i);
  if (unit.size() >= 2 && (unit[0] == 'e' || unit[0] == 'E') &&
      (std::isdigit(static_cast<unsigned char>(unit[1])) || unit[1] == '-' || unit[1] == '+'))
    return fail("`" + std::string(text) + "`: a " + what +
                " is written without an exponent (e.g. `1000ms`, not `1e3ms`)");
  if (!unit.empty() && std::isspace(static_cast<unsigned char>(unit[0])))
    return fail("`" + std::string(text) + "`: no space between the number and the unit");
  if (unit.empty())
    return fail("missing unit in `" + std::string(text) + "` (use " + join(names) + ")");
  const UnitTable* found = nullptr;
  for (const auto& u : units) {
    bool eq = unit == u.name;
    if (!eq && unit_case_insensitive && unit.size() == u.name.size()) {
      eq = std::equal(unit.begin(), unit.end(), u.name.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
      });
    }
    if (eq) found = &u;
  }
  if (!found)
    return fail("unknown unit `" + std::string(unit) + "` in `" + std::string(text) + "` (use " +
                join(names) + ")" + did_you_mean(unit, names));
  while (!frac_part.empty() && frac_part.back() == '0') frac_part.remove_suffix(1);
  auto too_large = [&] {
    return fail(std::string(what) + " too large: at most " + max_text + ", got `" + std::string(text) + "`");
  };
  unsigned __int128 value = 0;
  for (char c : int_part) {
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > max) return too_large();
  }
  value *= found->factor;
  if (!frac_part.empty()) {
    if (frac_part.size() > 18) return fail(std::string("precision below 1 ") + finest);
    unsigned __int128 frac = 0, denom = 1;
    for (char c : frac_part) {
      frac = frac * 10 + static_cast<unsigned>(c - '0');
      denom *= 10;
    }
    unsigned __int128 scaled = frac * found->factor;
    if (scaled % denom != 0)
      return fail("`" + std::string(text) + "` has precision below 1 " + finest);
    value += scaled / denom;
  }
  if (value > max) return too_large();
  return static_cast<uint64_t>(value);
}

// ---------------------------------------------------------------------------
// Static tables

class OpReader;

// One key of a scenario object: its name, whether it is required, its JSON Schema (as JSON
// text, without the description) and its description. The loader's unknown-key checks and
// the JSON Schema's `properties` (scenario_schema(), checked equal to
// scenarios/schema/scenario.schema.json by loader_test) both come from these tables.
struct KeySpec {
  const char* name;
  bool required;
  const char* schema;  // the key's JSON Schema, as JSON text
  const char* doc;     // the key's description in the schema (editors show it); never empty
};

std::vector<std::string> key_names(const std::vector<KeySpec>& keys) {
  std::vector<std::string> names;
  for (const KeySpec& k : keys) names.emplace_back(k.name);
  return names;
}

constexpr const char* kClosedObject = R"({"type": "object", "additionalProperties": false})";

// The top level (schema: /properties).
const std::vector<KeySpec> kTopKeys = {
    {"$schema", false, R"({"type": "string"})",
     "this schema, for editors (a path or URL); netsim ignores it, and it does not count in the "
     "trace's scenario_sha256"},
    {"format", true, R"({"const": "netsim-scenario/1"})", "the format and its version"},
    {"name", false, R"({"type": "string"})",
     "the scenario's name in reports and the trace; default: the file name without `.json`"},
    {"description", false, R"({"type": "string"})", "free text"},
    {"seed", false, R"({"type": "integer", "minimum": 0, "maximum": 18446744073709551615})",
     "seeds every random stream (loss, initial sequence numbers, ephemeral ports); default 1"},
    {"policy", false, R"({"enum": ["seed", "netstack3", "linux"]})",
     "the socket rules (docs/semantics.md 5, docs/policies.md): `seed` (default), `netstack3` or "
     "`linux` (an extension)"},
    {"until", false, R"({"$ref": "#/$defs/duration"})",
     "virtual time to stop at; default: when no event is left (bounded by `limits.time`)"},
    {"defaults", false, kClosedObject,
     "values for whatever hosts, links and TCP stacks do not set"},
    {"hosts", false,
     R"({"type": "object", "propertyNames": {"$ref": "#/$defs/name"},
         "additionalProperties": {"$ref": "#/$defs/host"}})",
     "the hosts, by name"},
    {"links", false, R"({"type": "array", "items": {"$ref": "#/$defs/link"}})", "the links"},
    {"routes", false, R"({"const": "auto"})",
     "`auto`: shortest-path routes by latency on every host (docs/routing.md)"},
    {"steps", false, R"({"type": "array", "items": {"$ref": "#/$defs/step"}})",
     "the timeline; steps run by `at`, then in file order"},
    {"expect", false, R"({"type": "array", "items": {"$ref": "#/$defs/expectation"}})",
     "what the trace must show"},
    {"fingerprint", false, R"({"type": "string", "minLength": 1})",
     "extension: the trace fingerprint this scenario must produce"},
    {"limits", false, kClosedObject,
     "extension: the scenario's own resource guards; a run that hits one stops with a `guard` "
     "trace event and fails. Unset ones keep netsim's defaults."},
};
// /properties/limits/properties
const std::vector<KeySpec> kLimitsKeys = {
    {"events", false, R"({"type": "integer", "minimum": 1})",
     "simulator events a run may execute; default 200000000"},
    {"time", false, R"({"$ref": "#/$defs/positive_duration"})",
     "virtual time a run without `until` may reach; greater than 0; default 1 hour"},
    {"in_flight", false, R"({"type": "integer", "minimum": 1})",
     "packets queued or on links at once; default 1000000"},
};
// /properties/defaults/properties
const std::vector<KeySpec> kDefaultsKeys = {
    {"link", false, R"({"$ref": "#/$defs/link_defaults"})", "defaults of every link"},
    {"host", false, kClosedObject, "defaults of every host"},
    {"tcp", false, R"({"$ref": "#/$defs/tcp_params"})", "extension: TCP parameters of every host"},
};
// /$defs/link_defaults/properties (and a link's own, kLinkKeys)
const std::vector<KeySpec> kLinkDefaultKeys = {
    {"latency", false, R"({"$ref": "#/$defs/duration"})", "propagation delay; default 0"},
    {"bandwidth", false, R"({"$ref": "#/$defs/rate"})", "serialisation rate; absent: infinite"},
    {"loss", false, R"({"$ref": "#/$defs/loss"})",
     "probability that a packet is lost; default 0"},
    {"queue", false, R"({"$ref": "#/$defs/queue"})",
     "drop-tail limit in packets per sending interface; default 1000"},
    {"mtu", false, R"({"$ref": "#/$defs/mtu"})", "the link's MTU; default 1500"},
};
// /properties/defaults/properties/host/properties
const std::vector<KeySpec> kHostDefaultKeys = {
    {"host_model", false, R"({"$ref": "#/$defs/host_model"})",
     "host model of hosts that set none; default: the policy's"},
};
// /$defs/tcp_params/properties
constexpr const char* kCongestionSchema = R"({"enum": ["newreno", "cubic"]})";
const std::vector<std::pair<std::string, tcp::CongestionAlgorithm>> kCongestionNames = {
    {"newreno", tcp::CongestionAlgorithm::kNewReno}, {"cubic", tcp::CongestionAlgorithm::kCubic}};
constexpr const char* kRecoverySchema = R"({"enum": ["sack", "newreno"]})";
const std::vector<std::pair<std::string, tcp::LossRecovery>> kRecoveryNames = {
    {"sack", tcp::LossRecovery::kSack}, {"newreno", tcp::LossRecovery::kNewReno}};
constexpr const char* kRecoveryDoc =
    "loss recovery: `sack` (RFC 6675, when both ends negotiated SACK; NewReno otherwise) or "
    "`newreno` (RFC 6582); default: the policy's (linux: sack; seed, netstack3: newreno)";
constexpr const char* kCongestionDoc =
    "congestion control: `newreno` (RFC 5681) or `cubic` (RFC 9438); default: the policy's "
    "(linux: cubic; seed, netstack3: newreno)";
constexpr const char* kPositiveU32 = R"({"type": "integer", "minimum": 1, "maximum": 4294967295})";
const std::vector<KeySpec> kTcpKeys = {
    {"msl", false, R"({"$ref": "#/$defs/duration"})",
     "maximum segment lifetime; TIME_WAIT lasts twice this; default 30s"},
    {"initial_rto", false, R"({"$ref": "#/$defs/positive_duration"})",
     "retransmission timeout before any RTT sample; greater than 0; default 1s"},
    {"min_rto", false, R"({"$ref": "#/$defs/duration"})",
     "lower bound of the retransmission timeout; at most `max_rto`; default 200ms"},
    {"max_rto", false, R"({"$ref": "#/$defs/positive_duration"})",
     "upper bound of the retransmission timeout; greater than 0; default 60s"},
    {"max_retries", false, R"({"$ref": "#/$defs/u32"})",
     "retransmissions of a segment before `timed_out`; default 8"},
    {"syn_retries", false, R"({"$ref": "#/$defs/u32"})",
     "retransmissions of a SYN before `timed_out`; default 6"},
    {"initial_cwnd_segments", false, kPositiveU32,
     "initial congestion window in segments; default 10"},
    {"abc_limit", false, kPositiveU32,
     "slow start adds at most this many segments per ACK (RFC 3465 L; 2 doubles cwnd per round "
     "trip with delayed ACKs); default: linux 2, else 1 (RFC 5681)"},
    {"initial_ssthresh", false, kPositiveU32,
     "initial slow-start threshold in bytes; default 2147483647"},
    {"receive_buffer", false, kPositiveU32,
     "receive buffer in bytes; the advertised window never exceeds it; default 131072"},
    {"send_buffer", false, kPositiveU32,
     "send buffer in bytes: at most this many unacknowledged and unsent bytes are the stack's "
     "(the rest of a send waits, as behind a blocking write); default 131072"},
    {"delayed_ack", false, R"({"type": "boolean"})",
     "delay ACKs (RFC 9293 3.8.6.3); default true"},
    {"delayed_ack_timeout", false, R"({"$ref": "#/$defs/duration"})",
     "longest delay of an ACK; default 40ms"},
    {"backlog", false, R"({"$ref": "#/$defs/u32"})",
     "a listener's accept backlog when its step sets none; default 128"},
    {"window_scaling", false, R"({"type": "boolean"})",
     "offer RFC 7323 window scaling when `receive_buffer` exceeds 65535, and answer a peer's "
     "offer; false caps every window at 65535; default true"},
    {"timestamps", false, R"({"type": "boolean"})",
     "offer RFC 7323 timestamps (RTT from every ACK, PAWS); default: linux true, else false"},
    {"sack", false, R"({"type": "boolean"})",
     "offer RFC 2018 SACK-permitted; default: linux true, else false"},
    {"congestion", false, kCongestionSchema, kCongestionDoc},
    {"nodelay", false, R"({"type": "boolean"})",
     "send short segments at once, without Nagle's algorithm (RFC 1122 4.2.3.4); default: "
     "linux false, else true"},
    {"fin_wait_2_timeout", false, R"({"$ref": "#/$defs/duration"})",
     "how long a closed connection waits in FIN_WAIT_2 for the peer's FIN; 0: forever; "
     "default: linux 60s, else 0"},
    {"receive_sws_avoidance", false, R"({"type": "boolean"})",
     "the receiver moves its window's right edge only by min(receive_buffer / 2, MSS) or more "
     "(RFC 9293 3.8.6.2.2), even when bytes arrive in small segments; default: linux true, else "
     "false"},
    {"rfc1337", false, R"({"type": "boolean"})",
     "TIME_WAIT ignores RSTs (RFC 1337); default false (Linux's net.ipv4.tcp_rfc1337)"},
    {"recovery", false, kRecoverySchema, kRecoveryDoc},
};
// /$defs/host/properties
const std::vector<KeySpec> kHostKeys = {
    {"host_model", false, R"({"$ref": "#/$defs/host_model"})",
     "this host's host model; default `defaults.host.host_model`, else the policy's (seed: "
     "weak, netstack3: strong)"},
    {"forwarding", false, R"({"type": "boolean"})",
     "a router: forwards packets that are not for it; default false"},
    {"interfaces", false,
     R"({"type": "object", "propertyNames": {"$ref": "#/$defs/name", "not": {"const": "lo"}},
         "additionalProperties": {"$ref": "#/$defs/interface"}})",
     "interfaces by name (not `lo`, which every host has)"},
    {"routes", false, R"({"type": "array", "items": {"$ref": "#/$defs/route"}})",
     "static routes, besides the on-link ones"},
};
// /$defs/interface/properties
const std::vector<KeySpec> kInterfaceKeys = {
    {"addresses", false, R"({"type": "array", "items": {"$ref": "#/$defs/prefix"}})",
     "its addresses, each with prefix length; an address may be on one interface of a host "
     "only"},
    {"mtu", false, R"({"$ref": "#/$defs/mtu"})", "its MTU; default 1500"},
    {"up", false, R"({"type": "boolean"})", "whether it starts up; default true"},
};
// /$defs/link/properties: `between`, the keys of link defaults (a link leaves out what
// `defaults.link` gives), `name`.
const std::vector<KeySpec> kLinkKeys = [] {
  std::vector<KeySpec> keys = {
      {"between", true,
       R"({"type": "array", "minItems": 2, "uniqueItems": true,
           "items": {"type": "string", "pattern": "^[^./# \\t]+\\.[^./# \\t]+$"}})",
       "the interfaces it joins, as `host.interface`, each once"}};
  keys.insert(keys.end(), kLinkDefaultKeys.begin(), kLinkDefaultKeys.end());
  keys.push_back({"name", false, R"({"type": "string", "minLength": 1})",
                  "unique name for link steps and the trace; default `linkN` (N: its index)"});
  return keys;
}();
const std::vector<std::string> kRepeatKeys = {"count", "every"};
const std::vector<std::string> kExpectCountKeys = {"count", "min", "max", "never", "after", "before"};
const std::vector<std::string> kSequenceKeys = {"sequence", "count", "min", "max", "never", "after", "before"};

// --- op descriptors ------------------------------------------------------------
// One descriptor per op: its name, its keys (each with its JSON Schema and a line of
// documentation) and its parser. The step key checks, the required-key checks, the
// parsing and the JSON Schema's `$defs/step_OP` (step_schema_defs() inside scenario_schema(),
// checked equal to scenarios/schema/scenario.schema.json by loader_test) all come from
// op_specs().

struct OpSpec {
  const char* name;
  bool on_host;  // false for link ops, which take no `host`
  std::vector<KeySpec> keys;
  const char* doc;
  const char* extra_schema;  // JSON object merged into the op's schema ("" when none)
  std::optional<StepOp> (*parse)(OpReader&);
};

const std::vector<OpSpec>& op_specs();

const OpSpec* find_op(std::string_view name) {
  for (const OpSpec& op : op_specs())
    if (op.name == name) return &op;
  return nullptr;
}

// The keys of a route: an entry of a host's `routes`, and add_route / remove_route.
const std::vector<KeySpec>& route_keys() {
  static const std::vector<KeySpec> kKeys = {
      {"to", true, R"({"$ref": "#/$defs/prefix"})", "destination prefix; host bits are cleared"},
      {"via", false, R"({"$ref": "#/$defs/ip"})", "next-hop address, same family as `to`"},
      {"dev", false, R"({"$ref": "#/$defs/name"})", "egress interface of the host"},
      {"metric", false, R"({"$ref": "#/$defs/u32"})",
       "lower wins among equal prefixes; default 0"}};
  return kKeys;
}

// The keys every step has besides its op's own.
const std::vector<KeySpec>& common_step_keys() {
  static const std::vector<KeySpec> kKeys = {
      {"at", true, R"({"$ref": "#/$defs/duration"})", "virtual time of the step"},
      {"host", true, R"({"$ref": "#/$defs/name"})", "the host it runs on"},
      {"op", true, "", "the operation"},  // the schema is the op's name as a const
      {"expect_error", false, R"({"$ref": "#/$defs/error_kind"})",
       "the step must fail with exactly this error"},
  };
  return kKeys;
}

struct IfaceInfo {
  bool has_v6 = false;
  std::string pointer;
};

struct HostInfo {
  std::map<std::string, IfaceInfo> interfaces;  // includes "lo"
};

// ---------------------------------------------------------------------------
// The loader proper: walks the JSON once, collecting every error.

class Loader {
  friend class OpReader;

 public:
  Loader(const JsonSource& src, std::string file, std::vector<std::string> overridden)
      : src_(src), file_(std::move(file)), overridden_(std::move(overridden)) {}

  std::vector<Diagnostic>& errors() { return errors_; }

  void error(const std::string& ptr, std::string msg) { report(ptr, std::move(msg), false); }
  void key_error(const std::string& ptr, std::string msg) { report(ptr, std::move(msg), true); }

  Scenario load(const json& root, const std::string& file_name) {
    Scenario s;
    if (!root.is_object()) {
      error("", std::string("a scenario must be a JSON object, got ") + type_name(root));
      return s;
    }
    check_keys(root, "", kTopKeys, "top-level key");
    if (const json* f = member(root, "format")) {
      if (!f->is_string() || f->get<std::string>() != kScenarioFormat)
        error("/format", "unsupported format " + safe_dump(*f) + " (expected \"" +
                             std::string(kScenarioFormat) + "\")");
    } else {
      error("", "missing required key `format` (\"" + std::string(kScenarioFormat) + "\")");
    }
    if (auto v = opt_string(root, "", "name")) s.name = *v;
    else s.name = std::filesystem::path(file_name).stem().string();
    if (auto v = opt_string(root, "", "description")) s.description = *v;
    if (const json* v = member(root, "seed"))
      if (auto n = as_uint(*v, "/seed", 0, std::numeric_limits<uint64_t>::max())) s.seed = *n;
    if (const json* v = member(root, "policy"))
      if (auto p = as_enum<Policy>(*v, "/policy", {{"seed", Policy::kSeed},
                                                  {"netstack3", Policy::kNetstack3},
                                                  {"linux", Policy::kLinux}}))
        s.policy = *p;
    s.tcp = policy_tcp_params(s.policy);
    if (const json* v = member(root, "until"))
      if (auto d = as_duration(*v, "/until")) s.until = SimTime{d->ns};
    if (const json* v = member(root, "fingerprint")) {
      if (auto f = as_string(*v, "/fingerprint")) {
        if (f->empty()) error("/fingerprint", "fingerprint must not be empty");
        else s.fingerprint = *f;
      }
    }
    if (const json* v = member(root, "limits")) load_limits(*v, s);
    if (const json* v = member(root, "routes")) {
      if (!v->is_string() || v->get<std::string>() != "auto")
        error("/routes", "`routes` must be \"auto\" (or left out), got " + safe_dump(*v));
      else s.auto_routes = true;
    }
    if (const json* v = member(root, "defaults")) load_defaults(*v, s);
    if (const json* v = member(root, "hosts")) load_hosts(*v, s);
    if (const json* v = member(root, "links")) load_links(*v, s);
    if (s.auto_routes) check_route_latencies(s);
    if (const json* v = member(root, "steps")) load_steps(*v, s);
    if (const json* v = member(root, "expect")) load_expect(*v, s);
    return s;
  }

  // What PieceLoader tells of a scenario built piece by piece: its hosts, interfaces and links,
  // known as if loaded before the piece that comes next.
  void know_host(const std::string& name, const std::string& pointer) {
    hosts_[name].interfaces["lo"] = IfaceInfo{true, pointer};
  }
  void know_interface(const std::string& host, const Interface& i) {
    const bool v6 = std::any_of(i.addresses.begin(), i.addresses.end(),
                                [](const Prefix& p) { return p.family() == Family::kV6; });
    hosts_[host].interfaces[i.name] = IfaceInfo{v6, i.pointer};
  }
  void know_link(const std::string& name) {
    link_names_by_index_.push_back(name);
    link_names_.insert(name);
  }

  void load_limits(const json& v, Scenario& s) {
    if (!expect_object(v, "/limits", "`limits`")) return;
    check_keys(v, "/limits", kLimitsKeys, "key in `limits`");
    constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
    if (const json* x = member(v, "events"))
      if (auto n = as_uint(*x, "/limits/events", 1, kMax, "`events`")) s.limits.events = *n;
    if (const json* x = member(v, "time")) {
      if (auto d = as_duration(*x, "/limits/time")) {
        if (d->ns == 0) error("/limits/time", "`time` must be greater than 0");
        else s.limits.time = *d;
      }
    }
    if (const json* x = member(v, "in_flight"))
      if (auto n = as_uint(*x, "/limits/in_flight", 1, kMax, "`in_flight`")) s.limits.in_flight = *n;
  }

 private:
  // --- reporting ---------------------------------------------------------

  bool is_overridden(const std::string& ptr) const {
    for (const auto& o : overridden_)
      if (ptr == o || ptr.rfind(o + "/", 0) == 0 || o.empty()) return true;
    return false;
  }

  void report(const std::string& ptr, std::string msg, bool at_key) {
    Diagnostic d;
    d.file = file_;
    d.pointer = ptr;
    d.message = std::move(msg);
    if (is_overridden(ptr)) {
      d.message += " (value set by --set)";
    } else {
      // An object or array in the file that holds a set value: the position is the
      // file's, the message says what changed inside it.
      for (const auto& o : overridden_)
        if (!ptr.empty() && o.rfind(ptr + "/", 0) == 0) {
          d.message += " (with " + o + " set by --set)";
          break;
        }
      auto k = at_key ? src_.key_pos.find(ptr) : src_.key_pos.end();
      if (k != src_.key_pos.end()) {
        d.line = k->second.line;
        d.column = k->second.column;
      } else {
        // The value itself, or failing that its closest ancestor that has a position.
        std::string p = ptr;
        while (true) {
          auto it = src_.value_pos.find(p);
          if (it != src_.value_pos.end()) {
            d.line = it->second.line;
            d.column = it->second.column;
            break;
          }
          if (p.empty()) break;
          p = p.substr(0, p.rfind('/'));
        }
      }
    }
    errors_.push_back(std::move(d));
  }

  // --- generic readers ----------------------------------------------------

  // A value for a message: a number as it is written in the file ("1e12", not
  // 1000000000000.0), anything else as compact JSON.
  std::string shown(const json& v, const std::string& ptr) const {
    if (v.is_number_float() && !is_overridden(ptr)) {
      auto it = src_.number_text.find(ptr);
      if (it != src_.number_text.end()) return it->second;
    }
    return safe_dump(v);
  }

  static const json* member(const json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  // Object keys in file order (by position), keys without a position last.
  std::vector<std::string> ordered_keys(const json& obj, const std::string& ptr) const {
    std::vector<std::pair<std::pair<int, int>, std::string>> keyed;
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      auto p = src_.key_pos.find(pointer_append(ptr, it.key()));
      std::pair<int, int> at{std::numeric_limits<int>::max(), 0};
      if (p != src_.key_pos.end() && !is_overridden(p->first)) at = {p->second.line, p->second.column};
      keyed.push_back({at, it.key()});
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (auto& k : keyed) out.push_back(std::move(k.second));
    return out;
  }

  bool expect_object(const json& v, const std::string& ptr, const char* what) {
    if (v.is_object()) return true;
    error(ptr, std::string(what) + " must be an object, got " + type_name(v));
    return false;
  }

  bool expect_array(const json& v, const std::string& ptr, const char* what) {
    if (v.is_array()) return true;
    error(ptr, std::string(what) + " must be an array, got " + type_name(v));
    return false;
  }

  void check_keys(const json& obj, const std::string& ptr, const std::vector<std::string>& allowed,
                  const char* what) {
    for (const auto& key : ordered_keys(obj, ptr)) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      key_error(pointer_append(ptr, key),
                "unknown " + std::string(what) + " `" + key + "`" + did_you_mean(key, allowed));
    }
  }

  void check_keys(const json& obj, const std::string& ptr, const std::vector<KeySpec>& allowed,
                  const char* what) {
    for (const auto& key : ordered_keys(obj, ptr)) {
      if (std::any_of(allowed.begin(), allowed.end(), [&](const KeySpec& k) { return k.name == key; }))
        continue;
      key_error(pointer_append(ptr, key), "unknown " + std::string(what) + " `" + key + "`" +
                                              did_you_mean(key, key_names(allowed)));
    }
  }

  void require(const json& obj, const std::string& ptr, const char* key, const std::string& what) {
    if (!member(obj, key)) error(ptr, "missing required key `" + std::string(key) + "` in " + what);
  }

  std::optional<std::string> as_string(const json& v, const std::string& ptr) {
    if (v.is_string()) return v.get<std::string>();
    error(ptr, std::string("expected a string, got ") + type_name(v));
    return std::nullopt;
  }

  std::optional<std::string> opt_string(const json& obj, const std::string& ptr, const char* key) {
    if (const json* v = member(obj, key)) return as_string(*v, pointer_append(ptr, key));
    return std::nullopt;
  }

  std::optional<bool> as_bool(const json& v, const std::string& ptr) {
    if (v.is_boolean()) return v.get<bool>();
    error(ptr, std::string("expected true or false, got ") + type_name(v));
    return std::nullopt;
  }

  std::optional<uint64_t> as_uint(const json& v, const std::string& ptr, uint64_t lo, uint64_t hi,
                                  const char* what = nullptr) {
    // Both bounds, unless the upper one is the 64-bit limit.
    std::string range = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    if (hi == std::numeric_limits<uint64_t>::max())
      range = lo == 0 ? "a non-negative integer" : "an integer >= " + std::to_string(lo);
    std::string name = what ? std::string(what) + " must be " : "expected ";
    if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
      uint64_t n = v.get<uint64_t>();
      if (n >= lo && n <= hi) return n;
      error(ptr, name + range + ", got " + std::to_string(n));
      return std::nullopt;
    }
    if (v.is_number_integer()) {
      error(ptr, name + range + ", got " + std::to_string(v.get<int64_t>()));
      return std::nullopt;
    }
    error(ptr, name + range + ", got " + (v.is_number() ? shown(v, ptr) : type_name(v)));
    return std::nullopt;
  }

  std::optional<uint32_t> as_u32(const json& v, const std::string& ptr, uint32_t lo = 0,
                                 uint32_t hi = std::numeric_limits<uint32_t>::max(),
                                 const char* what = nullptr) {
    auto n = as_uint(v, ptr, lo, hi, what);
    if (!n) return std::nullopt;
    return static_cast<uint32_t>(*n);
  }

  std::optional<double> as_probability(const json& v, const std::string& ptr) {
    if (!v.is_number()) {
      error(ptr, std::string("loss must be a number from 0 to 1, got ") + type_name(v));
      return std::nullopt;
    }
    double d = v.get<double>();
    if (!(d >= 0.0 && d <= 1.0)) {
      error(ptr, "loss must be a number from 0 to 1, got " + shown(v, ptr));
      return std::nullopt;
    }
    return d;
  }

  // A duration: integer nanoseconds or a string with a unit, at most kMaxDuration.
  std::optional<Duration> as_duration(const json& v, const std::string& ptr) {
    if (v.is_number_unsigned() ||
        (v.is_number_integer() && v.get<int64_t>() >= 0)) {
      uint64_t n = v.get<uint64_t>();
      if (n > kMaxDuration) {
        error(ptr, "duration too large: at most " + std::string(kMaxDurationText) + ", got " +
                       std::to_string(n));
        return std::nullopt;
      }
      return Duration{static_cast<int64_t>(n)};
    }
    if (v.is_number_integer()) {
      error(ptr, "durations cannot be negative, got " + safe_dump(v));
      return std::nullopt;
    }
    if (v.is_string()) {
      std::string err;
      if (auto d = parse_duration(v.get<std::string>(), &err)) return d;
      error(ptr, err);
      return std::nullopt;
    }
    error(ptr, std::string("a duration is a string with a unit (\"1.5ms\"; ns, us, ms, s) or an "
                           "integer of nanoseconds, got ") +
                   (v.is_number() ? shown(v, ptr) : type_name(v)));
    return std::nullopt;
  }

  std::optional<uint64_t> as_rate(const json& v, const std::string& ptr) {
    std::optional<uint64_t> r;
    if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
      r = v.get<uint64_t>();
    } else if (v.is_string()) {
      std::string err;
      r = parse_rate(v.get<std::string>(), &err);
      if (!r) {
        error(ptr, err);
        return std::nullopt;
      }
    } else {
      error(ptr, std::string("a rate is a string with a unit (\"100Mbps\"; bps, kbps, Mbps, Gbps) "
                             "or an integer of bits per second, got ") +
                     (v.is_number() ? shown(v, ptr) : type_name(v)));
      return std::nullopt;
    }
    if (*r == 0) {
      error(ptr, "bandwidth must be positive (leave it out for infinite bandwidth)");
      return std::nullopt;
    }
    return r;
  }

  template <typename E>
  std::optional<E> as_enum(const json& v, const std::string& ptr,
                           const std::vector<std::pair<std::string, E>>& table) {
    std::vector<std::string> names;
    for (const auto& [n, e] : table) names.push_back(n);
    if (!v.is_string()) {
      error(ptr, "expected one of " + quote_list(names) + ", got " + type_name(v));
      return std::nullopt;
    }
    std::string s = v.get<std::string>();
    for (const auto& [n, e] : table)
      if (n == s) return e;
    error(ptr, "unknown value `" + s + "` (expected one of " + quote_list(names) + ")" +
                   did_you_mean(s, names));
    return std::nullopt;
  }

  std::optional<HostModel> as_host_model(const json& v, const std::string& ptr) {
    return as_enum<HostModel>(v, ptr, {{"weak", HostModel::kWeak}, {"strong", HostModel::kStrong}});
  }

  std::optional<IpAddr> as_ip(const json& v, const std::string& ptr, bool allow_prefix = false) {
    auto s = as_string(v, ptr);
    if (!s) return std::nullopt;
    if (auto a = IpAddr::parse(*s)) return a;
    if (allow_prefix)
      if (auto p = Prefix::parse(*s)) return p->addr();
    error(ptr, "invalid IP address `" + *s + "`" +
                   (Prefix::parse(*s) ? " (an address without prefix length is expected here)" : ""));
    return std::nullopt;
  }

  std::optional<Prefix> as_prefix(const json& v, const std::string& ptr) {
    auto s = as_string(v, ptr);
    if (!s) return std::nullopt;
    if (auto p = Prefix::parse(*s)) return p;
    if (IpAddr::parse(*s))
      error(ptr, "`" + *s + "` lacks a prefix length (e.g. `" + *s +
                     (s->find(':') != std::string::npos ? "/64" : "/24") + "`)");
    else
      error(ptr, "invalid address with prefix `" + *s + "` (expected e.g. `10.0.0.1/24`)");
    return std::nullopt;
  }

  // An address an interface holds (a host's, or an add_address/change_address step's).
  std::optional<Prefix> as_interface_address(const json& v, const std::string& ptr) {
    auto p = as_prefix(v, ptr);
    if (!p) return std::nullopt;
    if (const char* why = not_a_host_address(p->addr())) {
      error(ptr, "`" + v.get<std::string>() + "` cannot be an interface address: " +
                     p->addr().to_string() + " is " + why);
      return std::nullopt;
    }
    return p;
  }

  std::optional<SocketAddr> as_sockaddr(const json& v, const std::string& ptr, bool allow_no_port) {
    auto s = as_string(v, ptr);
    if (!s) return std::nullopt;
    if (auto a = SocketAddr::parse(*s)) return a;
    if (allow_no_port)
      if (auto a = IpAddr::parse(*s)) return SocketAddr{*a, 0};
    error(ptr, "invalid socket address `" + *s +
                   "` (expected `10.0.0.1:80` or `[fd00::1]:80`, port 0 to 65535)");
    return std::nullopt;
  }

 public:
  // --- defaults -----------------------------------------------------------

  void load_defaults(const json& v, Scenario& s) {
    if (!expect_object(v, "/defaults", "`defaults`")) return;
    check_keys(v, "/defaults", kDefaultsKeys, "key of `defaults`");
    if (const json* l = member(v, "link")) {
      const std::string p = "/defaults/link";
      if (expect_object(*l, p, "`defaults.link`")) {
        check_keys(*l, p, kLinkDefaultKeys, "link default");
        LinkDefaults& d = s.link_defaults;
        if (const json* x = member(*l, "latency")) d.latency = as_duration(*x, p + "/latency");
        if (const json* x = member(*l, "bandwidth")) d.bandwidth_bps = as_rate(*x, p + "/bandwidth");
        if (const json* x = member(*l, "loss")) d.loss = as_probability(*x, p + "/loss");
        if (const json* x = member(*l, "queue")) d.queue = as_u32(*x, p + "/queue", 1, UINT32_MAX, "queue");
        if (const json* x = member(*l, "mtu")) d.mtu = as_u32(*x, p + "/mtu", 68, 65535, "mtu");
      }
    }
    if (const json* h = member(v, "host")) {
      const std::string p = "/defaults/host";
      if (expect_object(*h, p, "`defaults.host`")) {
        check_keys(*h, p, kHostDefaultKeys, "host default");
        if (const json* x = member(*h, "host_model"))
          s.default_host_model = as_host_model(*x, p + "/host_model");
      }
    }
    if (const json* t = member(v, "tcp")) {
      const std::string p = "/defaults/tcp";
      if (expect_object(*t, p, "`defaults.tcp`")) {
        check_keys(*t, p, kTcpKeys, "TCP parameter");
        TcpParams& tp = s.tcp;
        auto dur = [&](const char* key, Duration& out) {
          if (const json* x = member(*t, key))
            if (auto d = as_duration(*x, pointer_append(p, key))) out = *d;
        };
        auto u32 = [&](const char* key, uint32_t& out, uint32_t lo) {
          if (const json* x = member(*t, key))
            if (auto n = as_u32(*x, pointer_append(p, key), lo, UINT32_MAX, key)) out = *n;
        };
        dur("msl", tp.msl);
        dur("initial_rto", tp.initial_rto);
        dur("min_rto", tp.min_rto);
        dur("max_rto", tp.max_rto);
        dur("delayed_ack_timeout", tp.delayed_ack_timeout);
        dur("fin_wait_2_timeout", tp.fin_wait_2_timeout);
        u32("max_retries", tp.max_retries, 0);
        u32("syn_retries", tp.syn_retries, 0);
        u32("initial_cwnd_segments", tp.initial_cwnd_segments, 1);
        u32("abc_limit", tp.abc_limit, 1);
        u32("initial_ssthresh", tp.initial_ssthresh, 1);
        u32("receive_buffer", tp.receive_buffer, 1);
        u32("send_buffer", tp.send_buffer, 1);
        u32("backlog", tp.backlog, 0);
        auto flag = [&](const char* key, bool& out) {
          if (const json* x = member(*t, key))
            if (auto b = as_bool(*x, pointer_append(p, key))) out = *b;
        };
        flag("delayed_ack", tp.delayed_ack);
        flag("window_scaling", tp.window_scaling);
        flag("timestamps", tp.timestamps);
        flag("sack", tp.sack);
        if (const json* x = member(*t, "congestion"))
          if (auto c = as_enum<tcp::CongestionAlgorithm>(*x, p + "/congestion", kCongestionNames))
            tp.congestion = *c;
        flag("nodelay", tp.nodelay);
        flag("rfc1337", tp.rfc1337);
        flag("receive_sws_avoidance", tp.receive_sws_avoidance);
        if (const json* x = member(*t, "recovery"))
          if (auto c = as_enum<tcp::LossRecovery>(*x, p + "/recovery", kRecoveryNames)) tp.recovery = *c;
        // A zero timeout would retransmit at once and double to zero again, forever (Linux
        // keeps every RTO at least one jiffy); min_rto may be 0 (RFC 6298's clock
        // granularity term keeps the computed RTO above 0).
        for (const char* key : {"initial_rto", "max_rto"}) {
          const json* x = member(*t, key);
          if (x && (std::string_view(key) == "initial_rto" ? tp.initial_rto : tp.max_rto).ns == 0)
            error(pointer_append(p, key), std::string(key) + " must be greater than 0");
        }
        if (tp.min_rto > tp.max_rto)
          error(p, "min_rto (" + std::to_string(tp.min_rto.ns) + " ns) exceeds max_rto (" +
                       std::to_string(tp.max_rto.ns) + " ns)");
      }
    }
  }

 private:
  // --- hosts --------------------------------------------------------------

  std::optional<std::string> check_name(const std::string& name, const std::string& ptr,
                                        const char* what) {
    if (name.empty()) {
      key_error(ptr, std::string(what) + " name must not be empty");
      return std::nullopt;
    }
    if (name.find_first_of(". /#") != std::string::npos || has_control(name)) {
      key_error(ptr, std::string(what) + " name " + safe_dump(name) +
                         " may not contain `.`, `/`, `#`, spaces or control characters");
      return std::nullopt;
    }
    return name;
  }

 public:
  // `in_step`: the route's keys sit in an add_route/remove_route step, whose keys
  // are checked against the op's list instead.
  std::optional<Route> load_route(const json& v, const std::string& ptr, const std::string& host,
                                  bool in_step = false) {
    if (!expect_object(v, ptr, "a route")) return std::nullopt;
    if (!in_step) check_keys(v, ptr, key_names(route_keys()), "route key");
    Route r;
    r.pointer = ptr;
    bool ok = true;
    if (const json* x = member(v, "to")) {
      if (auto p = as_prefix(*x, ptr + "/to")) r.to = p->network();
      else ok = false;
    } else {
      error(ptr, "missing required key `to` in a route");
      ok = false;
    }
    if (const json* x = member(v, "via")) {
      r.via = as_ip(*x, ptr + "/via");
      if (!r.via) ok = false;
      else if (ok && r.via->family() != r.to.family()) {
        error(ptr + "/via", "`via` " + r.via->to_string() + " is not of the family of `to` " +
                                r.to.to_string());
        ok = false;
      }
    }
    if (const json* x = member(v, "dev")) {
      r.dev = check_interface(*x, ptr + "/dev", host);
      if (!r.dev) ok = false;
    }
    if (const json* x = member(v, "metric")) {
      if (auto m = as_u32(*x, ptr + "/metric")) r.metric = *m;
      else ok = false;
    }
    // A host's route with neither would never be installed; a step's is refused when it runs.
    if (!in_step && !member(v, "via") && !member(v, "dev")) {
      error(ptr, "a route needs a gateway (`via`) or an interface (`dev`)");
      ok = false;
    }
    if (!ok) return std::nullopt;
    return r;
  }

 private:
  void load_hosts(const json& v, Scenario& s) {
    if (!expect_object(v, "/hosts", "`hosts`")) return;
    for (const auto& name : ordered_keys(v, "/hosts")) {
      const std::string ptr = pointer_append("/hosts", name);
      const json& hv = v.at(name);
      bool name_ok = check_name(name, ptr, "host").has_value();
      HostInfo& info = hosts_[name];
      info.interfaces["lo"] = IfaceInfo{true, ptr};
      if (!expect_object(hv, ptr, "a host")) continue;
      check_keys(hv, ptr, kHostKeys, "host key");
      Host h;
      h.name = name;
      h.pointer = ptr;
      h.host_model = s.default_host_model;
      if (const json* x = member(hv, "host_model"))
        if (auto m = as_host_model(*x, ptr + "/host_model")) h.host_model = m;
      if (const json* x = member(hv, "forwarding"))
        if (auto b = as_bool(*x, ptr + "/forwarding")) h.forwarding = *b;
      // Every address of the host, to find one assigned twice (lo's included).
      std::map<IpAddr, std::string> assigned = {
          {IpAddr::loopback(Family::kV4), "`lo`"}, {IpAddr::loopback(Family::kV6), "`lo`"}};
      if (const json* ifs = member(hv, "interfaces")) {
        const std::string iptr = ptr + "/interfaces";
        if (expect_object(*ifs, iptr, "`interfaces`")) {
          for (const auto& iname : ordered_keys(*ifs, iptr)) {
            const std::string p = pointer_append(iptr, iname);
            if (iname == "lo") {
              key_error(p, "`lo` exists on every host (127.0.0.1/8, ::1/128) and cannot be declared");
              continue;
            }
            // A bad name is reported and the interface still checked (its addresses, mtu):
            // every error at once; it joins the host only when its name is valid.
            const bool iname_ok = check_name(iname, p, "interface").has_value();
            Interface itf;
            itf.name = iname;
            itf.pointer = p;
            IfaceInfo& ii = info.interfaces[iname];
            ii.pointer = p;
            const json& iv = ifs->at(iname);
            if (!expect_object(iv, p, "an interface")) continue;
            check_keys(iv, p, kInterfaceKeys, "interface key");
            if (const json* a = member(iv, "addresses")) {
              if (expect_array(*a, p + "/addresses", "`addresses`")) {
                for (size_t k = 0; k < a->size(); ++k) {
                  const std::string ap = pointer_append(p + "/addresses", k);
                  auto pre = as_interface_address((*a)[k], ap);
                  if (!pre) continue;
                  auto [it, fresh] = assigned.emplace(pre->addr(), ap);
                  if (!fresh) {
                    error(ap, "address " + pre->addr().to_string() + " is assigned twice on host `" +
                                  name + "` (also at " + it->second + ")");
                    continue;
                  }
                  if (pre->family() == Family::kV6) ii.has_v6 = true;
                  itf.addresses.push_back(*pre);
                }
              }
            }
            if (const json* m = member(iv, "mtu")) {
              if (auto n = as_u32(*m, p + "/mtu", 68, 65535, "mtu")) {
                itf.mtu = *n;
                if (ii.has_v6 && *n < 1280)
                  error(p + "/mtu", "mtu " + std::to_string(*n) +
                                        " is below 1280, the minimum for an interface with IPv6");
              }
            }
            if (const json* u = member(iv, "up"))
              if (auto b = as_bool(*u, p + "/up")) itf.up = *b;
            if (iname_ok) h.interfaces.push_back(std::move(itf));
          }
        }
      }
      if (const json* rs = member(hv, "routes")) {
        const std::string rptr = ptr + "/routes";
        if (expect_array(*rs, rptr, "host `routes`"))
          for (size_t k = 0; k < rs->size(); ++k)
            if (auto r = load_route((*rs)[k], pointer_append(rptr, k), name))
              h.routes.push_back(std::move(*r));
      }
      if (name_ok) s.hosts.push_back(std::move(h));
    }
  }

  // A string naming an interface of `host` ("lo" included).
  std::optional<std::string> check_interface(const json& v, const std::string& ptr,
                                             const std::string& host) {
    auto s = as_string(v, ptr);
    if (!s) return std::nullopt;
    auto h = hosts_.find(host);
    if (h == hosts_.end()) return s;  // the host error is reported elsewhere
    if (h->second.interfaces.count(*s)) return s;
    std::vector<std::string> names;
    for (const auto& [n, i] : h->second.interfaces) names.push_back(n);
    error(ptr, "host `" + host + "` has no interface `" + *s + "` (it has " + quote_list(names) +
                   ")" + did_you_mean(*s, names));
    return std::nullopt;
  }

  bool check_host(const json& v, const std::string& ptr, std::string& out) {
    auto s = as_string(v, ptr);
    if (!s) return false;
    out = *s;
    if (hosts_.count(*s)) return true;
    std::vector<std::string> names;
    for (const auto& [n, i] : hosts_) names.push_back(n);
    error(ptr, "unknown host `" + *s + "`" + did_you_mean(*s, names));
    return false;
  }

  // --- links --------------------------------------------------------------

  std::optional<Endpoint> resolve_endpoint(const std::string& text, const std::string& ptr) {
    // Try every split "host.iface"; interface names may contain dots, host names not.
    size_t dot = text.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
      error(ptr, "expected `host.interface`, got `" + text + "`");
      return std::nullopt;
    }
    std::string host = text.substr(0, dot), iface = text.substr(dot + 1);
    auto h = hosts_.find(host);
    if (h == hosts_.end()) {
      std::vector<std::string> names;
      for (const auto& [n, i] : hosts_) names.push_back(n);
      error(ptr, "unknown host `" + host + "` in `" + text + "`" + did_you_mean(host, names));
      return std::nullopt;
    }
    if (iface == "lo") {
      error(ptr, "`" + text + "`: the loopback interface cannot be on a link");
      return std::nullopt;
    }
    if (!h->second.interfaces.count(iface)) {
      std::vector<std::string> names;
      for (const auto& [n, i] : h->second.interfaces)
        if (n != "lo") names.push_back(n);
      error(ptr, "host `" + host + "` has no interface `" + iface + "`" + did_you_mean(iface, names));
      return std::nullopt;
    }
    return Endpoint{host, iface};
  }

  void load_links(const json& v, Scenario& s) {
    if (!expect_array(v, "/links", "`links`")) return;
    std::map<std::string, std::string> iface_link;  // "host.iface" -> link pointer
    std::map<std::string, std::string> names;       // link name -> pointer
    const LinkDefaults& d = s.link_defaults;
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string ptr = pointer_append("/links", i);
      const json& lv = v[i];
      link_names_by_index_.push_back("");
      if (!expect_object(lv, ptr, "a link")) continue;
      check_keys(lv, ptr, kLinkKeys, "link key");
      Link l;
      l.pointer = ptr;
      l.name = "link" + std::to_string(i);
      bool ok = true;
      if (const json* x = member(lv, "name")) {
        auto n = as_string(*x, ptr + "/name");
        if (!n) ok = false;
        else if (n->empty()) {
          error(ptr + "/name", "link name must not be empty");
          ok = false;
        } else if (has_control(*n)) {
          error(ptr + "/name", "link name " + safe_dump(*n) + " may not contain control characters");
          ok = false;
        } else {
          l.name = *n;
        }
      }
      bool any_v6 = false;
      if (const json* b = member(lv, "between")) {
        if (expect_array(*b, ptr + "/between", "`between`")) {
          if (b->size() < 2)
            error(ptr + "/between", "a link needs at least 2 interfaces, got " +
                                        std::to_string(b->size()));
          for (size_t k = 0; k < b->size(); ++k) {
            const std::string ep = pointer_append(ptr + "/between", k);
            auto t = as_string((*b)[k], ep);
            if (!t) continue;
            auto e = resolve_endpoint(*t, ep);
            if (!e) continue;
            std::string key = e->host + "." + e->interface;
            auto [it, fresh] = iface_link.emplace(key, ep);
            if (!fresh) {
              error(ep, "interface `" + key + "` is already on a link (at " + it->second + ")");
              continue;
            }
            if (hosts_[e->host].interfaces[e->interface].has_v6) any_v6 = true;
            l.between.push_back(*e);
          }
        } else {
          ok = false;
        }
      } else {
        error(ptr, "missing required key `between` in a link");
      }
      if (const json* x = member(lv, "latency")) {
        if (auto dd = as_duration(*x, ptr + "/latency")) l.latency = *dd;
      } else if (d.latency) {
        l.latency = *d.latency;
      }
      if (const json* x = member(lv, "bandwidth")) l.bandwidth_bps = as_rate(*x, ptr + "/bandwidth");
      else l.bandwidth_bps = d.bandwidth_bps;
      if (const json* x = member(lv, "loss")) {
        if (auto p = as_probability(*x, ptr + "/loss")) l.loss = *p;
      } else if (d.loss) {
        l.loss = *d.loss;
      }
      if (const json* x = member(lv, "queue")) {
        if (auto q = as_u32(*x, ptr + "/queue", 1, UINT32_MAX, "queue")) l.queue = *q;
      } else if (d.queue) {
        l.queue = *d.queue;
      }
      std::string mtu_ptr = ptr + "/mtu";
      if (const json* x = member(lv, "mtu")) l.mtu = as_u32(*x, mtu_ptr, 68, 65535, "mtu");
      else if (d.mtu) {
        l.mtu = d.mtu;
        mtu_ptr = "/defaults/link/mtu";
      }
      if (l.mtu && *l.mtu < 1280 && any_v6)
        error(mtu_ptr, "mtu " + std::to_string(*l.mtu) + " of link `" + l.name +
                           "` is below 1280, the minimum for IPv6 interfaces on it");
      if (ok) {
        auto [it, fresh] = names.emplace(l.name, ptr);
        if (!fresh)
          error(member(lv, "name") ? ptr + "/name" : ptr,
                "duplicate link name `" + l.name + "` (also " + it->second + ")");
        link_names_by_index_.back() = l.name;
        link_names_.insert(l.name);
        s.links.push_back(std::move(l));
      }
    }
  }

  // Automatic routes add latencies along paths: their sum over every link must fit the clock.
  void check_route_latencies(const Scenario& s) {
    std::vector<Duration> latencies;
    for (const Link& l : s.links) latencies.push_back(l.latency);
    if (auto i = latency_sum_overflow(latencies))
      error(s.links[*i].pointer,
            "with \"routes\": \"auto\" the latencies of all links must add up to at most "
            "9223372036854775807 ns (about 292 years, the clock's range); link `" +
                s.links[*i].name + "` takes the sum past it");
  }

  std::optional<std::string> resolve_link(const json& v, const std::string& ptr) {
    auto s = as_string(v, ptr);
    if (!s) return std::nullopt;
    if (link_names_.count(*s)) return s;
    if (s->rfind("link", 0) == 0 && s->size() > 4) {
      size_t idx = 0;
      auto [p, ec] = std::from_chars(s->data() + 4, s->data() + s->size(), idx);
      if (ec == std::errc() && p == s->data() + s->size() && idx < link_names_by_index_.size() &&
          !link_names_by_index_[idx].empty())
        return link_names_by_index_[idx];
    }
    std::vector<std::string> names(link_names_.begin(), link_names_.end());
    error(ptr, "unknown link `" + *s + "`" + did_you_mean(*s, names));
    return std::nullopt;
  }

  // --- steps --------------------------------------------------------------

  // The step's keys against the common ones and its op's (a key of another op is
  // named as such), and the op's required keys. False when any is wrong.
  bool check_step_keys(const json& sv, const std::string& ptr, const OpSpec& spec) {
    bool ok = true;
    std::vector<std::string> own = key_names(spec.keys), valid;
    for (const KeySpec& k : common_step_keys())
      if (spec.on_host || std::string_view(k.name) != "host") valid.emplace_back(k.name);
    valid.insert(valid.end(), own.begin(), own.end());
    for (const auto& k : ordered_keys(sv, ptr)) {
      if (std::find(valid.begin(), valid.end(), k) != valid.end()) continue;
      ok = false;
      if (k == "host") {
        key_error(pointer_append(ptr, k),
                  "op `" + std::string(spec.name) + "` takes no `host` (links are not on a host)");
        continue;
      }
      bool other_op = false;
      for (const OpSpec& op : op_specs())
        for (const KeySpec& ks : op.keys) other_op = other_op || k == ks.name;
      if (other_op)
        key_error(pointer_append(ptr, k), "key `" + k + "` is not valid for op `" +
                                              std::string(spec.name) + "` (its keys: " + join(own) + ")");
      else
        key_error(pointer_append(ptr, k), "unknown step key `" + k + "`" + did_you_mean(k, valid));
    }
    for (const KeySpec& k : spec.keys) {
      if (!k.required || member(sv, k.name)) continue;
      error(ptr, "missing required key `" + std::string(k.name) + "` for op `" + spec.name + "`");
      ok = false;
    }
    return ok;
  }

  // The op's typed action, by its descriptor's parser (defined after OpReader).
  std::optional<StepOp> load_op(const OpSpec& spec, const json& v, const std::string& ptr,
                                const std::string& host);

  void load_steps(const json& v, Scenario& s) {
    if (!expect_array(v, "/steps", "`steps`")) return;
    std::vector<Step> steps;
    for (size_t i = 0; i < v.size(); ++i)
      if (auto step = load_step(v[i], pointer_append("/steps", i))) steps.push_back(std::move(*step));
    std::stable_sort(steps.begin(), steps.end(),
                     [](const Step& a, const Step& b) { return a.at < b.at; });
    check_sockets(steps);
    s.steps = std::move(steps);
  }

 public:
  // One step at `ptr`: nullopt when anything in it is wrong (every problem reported).
  std::optional<Step> load_step(const json& sv, const std::string& ptr) {
    if (!expect_object(sv, ptr, "a step")) return std::nullopt;
    Step step;
    step.pointer = ptr;
    bool ok = true;
    // op first: it decides which keys are valid.
    const OpSpec* spec = nullptr;
    if (const json* x = member(sv, "op")) {
      if (auto op = as_string(*x, ptr + "/op")) {
        spec = find_op(*op);
        if (!spec) {
          std::vector<std::string> op_names;
          for (const OpSpec& o : op_specs()) op_names.push_back(o.name);
          error(ptr + "/op", "unknown op `" + *op + "`" + did_you_mean(*op, op_names));
          ok = false;
        } else {
          step.op = *op;
        }
      } else {
        ok = false;
      }
    } else {
      error(ptr, "missing required key `op` in a step");
      ok = false;
    }
    if (spec && !check_step_keys(sv, ptr, *spec)) ok = false;
    if (const json* x = member(sv, "at")) {
      if (auto d = as_duration(*x, ptr + "/at")) step.at = SimTime{d->ns};
      else ok = false;
    } else {
      error(ptr, "missing required key `at` in a step");
      ok = false;
    }
    if (spec && spec->on_host) {
      if (const json* x = member(sv, "host")) {
        if (!check_host(*x, ptr + "/host", step.host)) ok = false;
      } else {
        error(ptr, "missing required key `host` for op `" + step.op + "`");
        ok = false;
      }
    }
    if (const json* x = member(sv, "expect_error")) {
      if (auto e = as_string(*x, ptr + "/expect_error")) {
        step.expect_error = net_error_from_string(*e);
        if (!step.expect_error) {
          std::vector<std::string> error_names;
          for (NetError k : kAllNetErrors) error_names.emplace_back(to_string(k));
          error(ptr + "/expect_error", "unknown error kind `" + *e + "`" + did_you_mean(*e, error_names));
          ok = false;
        }
      } else {
        ok = false;
      }
    }
    // The op's keys are checked even when the host is wrong: an interface of an unknown
    // host is not reported again (check_interface leaves that to the host's error).
    if (spec) {
      auto action = load_op(*spec, sv, ptr, step.host);
      if (action) step.action = std::move(*action);
      else ok = false;
    }
    if (!ok) return std::nullopt;
    return step;
  }

 private:
  // A send/close/shutdown must name a socket that an earlier listen/connect created
  // on that host, or `L#N` for an earlier TCP listener L.
  void check_sockets(const std::vector<Step>& steps) {
    std::map<std::string, std::set<std::string>> sockets, tcp_listeners;
    for (const Step& st : steps) {
      if (const auto* l = std::get_if<ListenStep>(&st.action)) {
        sockets[st.host].insert(l->socket);
        if (l->proto == Proto::kTcp) tcp_listeners[st.host].insert(l->socket);
        continue;
      }
      if (const auto* c = std::get_if<ConnectStep>(&st.action)) {
        sockets[st.host].insert(c->socket);
        continue;
      }
      const std::string* name = nullptr;
      if (const auto* x = std::get_if<SendStep>(&st.action)) name = &x->socket;
      if (const auto* x = std::get_if<CloseStep>(&st.action)) name = &x->socket;
      if (const auto* x = std::get_if<ShutdownStep>(&st.action)) name = &x->socket;
      if (!name || st.expect_error == NetError::kUnknownSocket) continue;
      if (sockets[st.host].count(*name)) continue;
      size_t hash = name->rfind('#');
      if (hash != std::string::npos && hash > 0) {
        std::string listener = name->substr(0, hash), n = name->substr(hash + 1);
        uint64_t idx = 0;
        auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), idx);
        bool numeric = !n.empty() && ec == std::errc() && p == n.data() + n.size() && idx >= 1;
        if (numeric && tcp_listeners[st.host].count(listener)) continue;
        if (numeric) {
          error(st.pointer + "/socket", "`" + *name + "`: `" + listener +
                                            "` is not a TCP listener created by an earlier step on host `" +
                                            st.host + "`");
          continue;
        }
      }
      std::vector<std::string> known(sockets[st.host].begin(), sockets[st.host].end());
      error(st.pointer + "/socket", "socket `" + *name + "` is not created by an earlier listen or "
                                    "connect step on host `" + st.host + "`" + did_you_mean(*name, known));
    }
  }

  // --- expectations -------------------------------------------------------

  std::optional<EventMatcher> load_matcher(const json& v, const std::string& ptr,
                                           const std::vector<std::string>& exclude,
                                           bool in_sequence) {
    if (!expect_object(v, ptr, "a matcher")) return std::nullopt;
    EventMatcher m;
    m.pointer = ptr;
    bool ok = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (std::find(exclude.begin(), exclude.end(), it.key()) != exclude.end()) continue;
      if (in_sequence && (std::find(kExpectCountKeys.begin(), kExpectCountKeys.end(), it.key()) !=
                              kExpectCountKeys.end() || it.key() == "sequence")) {
        key_error(pointer_append(ptr, it.key()),
                  "`" + it.key() + "` is not allowed inside a sequence (put counts and windows on "
                  "the expectation)");
        ok = false;
        continue;
      }
      m.fields[it.key()] = it.value();
    }
    bool event_ok = true;  // absent or a known kind: the other keys can be checked against it
    if (const json* e = member(v, "event")) {
      const auto& kinds = trace_event_kinds();
      if (!e->is_string()) {
        error(ptr + "/event", std::string("`event` must be a string, got ") + type_name(*e));
        event_ok = false;
      } else if (std::find(kinds.begin(), kinds.end(), e->get<std::string>()) == kinds.end()) {
        error(ptr + "/event", "unknown event kind `" + e->get<std::string>() + "`" +
                                  did_you_mean(e->get<std::string>(), kinds));
        event_ok = false;
      }
    }
    if (!event_ok) ok = false;
    if (const json* h = member(v, "host"); h && h->is_string() && !hosts_.count(h->get<std::string>())) {
      std::vector<std::string> names;
      for (const auto& [n, i] : hosts_) names.push_back(n);
      error(ptr + "/host", "unknown host `" + h->get<std::string>() + "`" +
                               did_you_mean(h->get<std::string>(), names));
      ok = false;
    }
    if (event_ok) ok = check_matcher_fields(v, ptr) && ok;
    if (!ok) return std::nullopt;
    return m;
  }

  // A key that no event of the matcher's kind carries would make the matcher vacuous (a typo
  // in a `never` expectation would always pass): it is an unknown key, like any other.
  bool check_matcher_fields(const json& v, const std::string& ptr) {
    const json* e = member(v, "event");
    const std::vector<std::string> fields = trace_event_fields(e ? e->get<std::string>() : "");
    const std::string what = e ? "`" + e->get<std::string>() + "` field" : "trace field";
    bool ok = true;
    for (const auto& key : ordered_keys(v, ptr)) {
      const bool count_key = std::find(kExpectCountKeys.begin(), kExpectCountKeys.end(), key) !=
                             kExpectCountKeys.end();
      if (count_key || std::find(fields.begin(), fields.end(), key) != fields.end()) continue;
      key_error(pointer_append(ptr, key), "unknown " + what + " `" + key + "`" + did_you_mean(key, fields));
      ok = false;
    }
    if (const json* p = member(v, "packet"); p && p->is_object()) ok = check_packet_fields(*p, ptr + "/packet") && ok;
    return ok;
  }

  bool check_packet_fields(const json& p, const std::string& ptr) {
    const std::vector<std::string>& fields = trace_packet_fields();
    bool ok = true;
    for (const auto& key : ordered_keys(p, ptr)) {
      if (std::find(fields.begin(), fields.end(), key) != fields.end()) continue;
      key_error(pointer_append(ptr, key), "unknown packet field `" + key + "`" + did_you_mean(key, fields));
      ok = false;
    }
    if (const json* inner = member(p, "inner"); inner && inner->is_object())
      ok = check_packet_fields(*inner, ptr + "/inner") && ok;
    return ok;
  }

  void load_expect(const json& v, Scenario& s) {
    if (!expect_array(v, "/expect", "`expect`")) return;
    for (size_t i = 0; i < v.size(); ++i)
      if (auto e = load_expectation(v[i], pointer_append("/expect", i))) s.expect.push_back(std::move(*e));
  }

 public:
  // One expectation at `ptr`: nullopt when anything in it is wrong (every problem reported).
  std::optional<Expectation> load_expectation(const json& ev, const std::string& ptr) {
    if (!expect_object(ev, ptr, "an expectation")) return std::nullopt;
    Expectation e;
    e.pointer = ptr;
    bool ok = true;
    auto window = [&](const char* k, std::optional<SimTime>& out) {
      if (const json* x = member(ev, k)) {
        if (auto d = as_duration(*x, pointer_append(ptr, k))) out = SimTime{d->ns};
        else ok = false;
      }
    };
    window("after", e.after);
    window("before", e.before);
    if (e.after && e.before && *e.after >= *e.before) {
      error(ptr + "/before", "empty window: `before` must be later than `after`");
      ok = false;
    }
    // Counts: of matching events, or of the sequence's occurrences.
    auto count_key = [&](const char* k, std::optional<uint64_t>& out) {
      if (const json* x = member(ev, k)) {
        out = as_uint(*x, pointer_append(ptr, k), 0, std::numeric_limits<uint64_t>::max(), k);
        if (!out) ok = false;
      }
    };
    count_key("count", e.count);
    count_key("min", e.min);
    count_key("max", e.max);
    if (e.count && (member(ev, "min") || member(ev, "max"))) {
      error(ptr + "/count", "`count` cannot be combined with `min` or `max`");
      ok = false;
    }
    if (e.min && e.max && *e.min > *e.max) {
      error(ptr + "/max", "`max` is below `min`");
      ok = false;
    }
    if (const json* x = member(ev, "never")) {
      if (auto b = as_bool(*x, ptr + "/never")) {
        if (*b) {
          if (member(ev, "count") || member(ev, "min") || member(ev, "max")) {
            error(ptr + "/never", "`never` cannot be combined with `count`, `min` or `max`");
            ok = false;
          }
          e.count = 0;
        }
      } else {
        ok = false;
      }
    }
    if (const json* seq = member(ev, "sequence")) {
      check_keys(ev, ptr, kSequenceKeys, "key of a sequence expectation");
      for (const auto& k : ordered_keys(ev, ptr))
        if (std::find(kSequenceKeys.begin(), kSequenceKeys.end(), k) == kSequenceKeys.end()) ok = false;
      if (expect_array(*seq, ptr + "/sequence", "`sequence`")) {
        if (seq->empty()) {
          error(ptr + "/sequence", "`sequence` must hold at least one matcher");
          ok = false;
        }
        for (size_t k = 0; k < seq->size(); ++k) {
          auto m = load_matcher((*seq)[k], pointer_append(ptr + "/sequence", k), {}, true);
          if (m) e.sequence.push_back(std::move(*m));
          else ok = false;
        }
      } else {
        ok = false;
      }
    } else {
      e.match = load_matcher(ev, ptr, kExpectCountKeys, false);
      if (!e.match) ok = false;
    }
    if (!ok) return std::nullopt;
    return e;
  }

 private:
  const JsonSource& src_;
  std::string file_;
  std::vector<std::string> overridden_;
  std::vector<Diagnostic> errors_;
  std::map<std::string, HostInfo> hosts_;
  std::set<std::string> link_names_;
  std::vector<std::string> link_names_by_index_;  // "" where the link was invalid
};

// ---------------------------------------------------------------------------
// Op parsers

// What an op's parser reads its step with: the step's keys, typed by the Loader's
// readers. Every reader does nothing when its key is absent (required keys are
// checked from the descriptor before parsing); any error marks the step invalid.
class OpReader {
 public:
  OpReader(Loader& loader, const json& step, const std::string& pointer,
           const std::string& host)
      : l_(loader), step_(step), pointer_(pointer), host_(host) {}

  bool ok() const { return ok_; }
  const std::string& pointer() const { return pointer_; }
  const json* get(const char* key) const { return Loader::member(step_, key); }
  std::string at(const char* key) const { return pointer_ + "/" + key; }
  void error(const std::string& ptr, std::string message) {
    l_.error(ptr, std::move(message));
    ok_ = false;
  }

  template <typename T>
  std::optional<T> check(std::optional<T> value) {
    if (!value) ok_ = false;
    return value;
  }

  std::optional<uint64_t> uint(const char* key, uint64_t lo, uint64_t hi) {
    const json* x = get(key);
    return x ? check(l_.as_uint(*x, at(key), lo, hi, key)) : std::nullopt;
  }
  std::optional<std::string> string(const char* key) {
    const json* x = get(key);
    return x ? check(l_.as_string(*x, at(key))) : std::nullopt;
  }
  void boolean(const char* key, bool& out) {
    if (auto b = optional_boolean(key)) out = *b;
  }
  std::optional<bool> optional_boolean(const char* key) {
    const json* x = get(key);
    return x ? check(l_.as_bool(*x, at(key))) : std::nullopt;
  }
  std::optional<Duration> duration(const char* key) {
    const json* x = get(key);
    return x ? check(l_.as_duration(*x, at(key))) : std::nullopt;
  }
  std::optional<IpAddr> ip(const char* key, bool allow_prefix = false) {
    const json* x = get(key);
    return x ? check(l_.as_ip(*x, at(key), allow_prefix)) : std::nullopt;
  }
  std::optional<Prefix> interface_address(const char* key) {
    const json* x = get(key);
    return x ? check(l_.as_interface_address(*x, at(key))) : std::nullopt;
  }
  std::optional<SocketAddr> socket_addr(const char* key, bool allow_no_port) {
    const json* x = get(key);
    return x ? check(l_.as_sockaddr(*x, at(key), allow_no_port)) : std::nullopt;
  }
  template <typename E>
  std::optional<E> enumerated(const char* key, const std::vector<std::pair<std::string, E>>& table) {
    const json* x = get(key);
    return x ? check(l_.as_enum<E>(*x, at(key), table)) : std::nullopt;
  }
  std::optional<HostModel> host_model(const char* key) {
    const json* x = get(key);
    return x ? check(l_.as_host_model(*x, at(key))) : std::nullopt;
  }
  // An interface of the step's host (`lo` included).
  std::optional<std::string> interface(const char* key) {
    const json* x = get(key);
    return x ? check(l_.check_interface(*x, at(key), host_)) : std::nullopt;
  }
  std::optional<std::string> link(const char* key) {
    const json* x = get(key);
    return x ? check(l_.resolve_link(*x, at(key))) : std::nullopt;
  }
  std::optional<IpAddr> ip_value(const json& v, const std::string& ptr) {
    return check(l_.as_ip(v, ptr));
  }
  // `{"count": N >= 1, "every": DURATION}`, both required.
  std::optional<Repeat> repeat(const char* key) {
    const json* x = get(key);
    if (!x) return std::nullopt;
    const std::string rp = at(key);
    if (!l_.expect_object(*x, rp, "`repeat`")) {
      ok_ = false;
      return std::nullopt;
    }
    l_.check_keys(*x, rp, kRepeatKeys, "key of `repeat`");
    Repeat r;
    if (const json* c = Loader::member(*x, "count")) {
      if (auto n = check(l_.as_u32(*c, rp + "/count", 1, UINT32_MAX, "count"))) r.count = *n;
    } else {
      error(rp, "missing required key `count` in `repeat`");
    }
    if (const json* e = Loader::member(*x, "every")) {
      if (auto d = check(l_.as_duration(*e, rp + "/every"))) r.every = *d;
    } else {
      error(rp, "missing required key `every` in `repeat`");
    }
    return r;
  }
  // The step's own keys read as a route (add_route / remove_route).
  Route route() { return check(l_.load_route(step_, pointer_, host_, /*in_step=*/true)).value_or(Route{}); }

  // A socket the step refers to: non-empty (whether it exists is checked across steps).
  void socket(std::string& out) {
    auto s = string("socket");
    if (!s) return;
    if (s->empty()) error(at("socket"), "socket name must not be empty");
    out = *s;
  }
  // The name of the socket a listen or connect step creates: non-empty and without
  // `#`, which only the names of accepted connections (`LISTENER#N`) contain.
  void new_socket(std::string& out) {
    socket(out);
    if (out.find('#') != std::string::npos)
      error(at("socket"), "socket name `" + out + "` may not contain `#` (`LISTENER#N` names the "
                          "connections a TCP listener accepts)");
    else if (has_control(out))
      error(at("socket"), "socket name " + safe_dump(out) + " may not contain control characters");
  }
  void proto(Proto& out) {
    if (auto p = enumerated<Proto>("proto", {{"tcp", Proto::kTcp}, {"udp", Proto::kUdp}})) out = *p;
  }

 private:
  Loader& l_;
  const json& step_;
  const std::string& pointer_;
  const std::string& host_;
  bool ok_ = true;
};

std::optional<StepOp> Loader::load_op(const OpSpec& spec, const json& v, const std::string& ptr,
                                      const std::string& host) {
  OpReader reader(*this, v, ptr, host);
  std::optional<StepOp> out = spec.parse(reader);
  if (!reader.ok()) return std::nullopt;
  return out;
}

// The per-socket TCP options of a `listen` or `connect` step (TCP only).
void parse_tcp_options(OpReader& r, Proto proto, tcp::SocketOptions& out) {
  out.congestion = r.enumerated<tcp::CongestionAlgorithm>("congestion", kCongestionNames);
  out.recovery = r.enumerated<tcp::LossRecovery>("recovery", kRecoveryNames);
  out.nodelay = r.optional_boolean("nodelay");
  if (proto == Proto::kTcp) return;
  for (const char* key : {"congestion", "recovery", "nodelay"})
    if (r.get(key)) r.error(r.at(key), std::string("`") + key + "` applies to TCP sockets only");
}

std::optional<StepOp> parse_listen(OpReader& r) {
  ListenStep s;
  r.proto(s.proto);
  r.new_socket(s.socket);
  if (auto p = r.uint("port", 0, 65535)) s.port = static_cast<Port>(*p);
  if (const json* x = r.get("addresses")) {
    if (!x->is_array()) {
      r.error(r.at("addresses"), std::string("`addresses` must be an array, got ") + type_name(*x));
    } else {
      // Each address once: a listener binds each of them (as Linux would bind one
      // socket per address, where the second bind of an address fails).
      std::map<IpAddr, std::string> seen;
      for (size_t k = 0; k < x->size(); ++k) {
        const std::string p = pointer_append(r.at("addresses"), k);
        auto a = r.ip_value((*x)[k], p);
        if (!a) continue;
        auto [it, fresh] = seen.emplace(*a, p);
        if (!fresh) {
          r.error(p, "address " + a->to_string() + " is listed twice (also at " + it->second + ")");
          continue;
        }
        s.addresses.push_back(*a);
      }
    }
  }
  if (auto f = r.enumerated<FamilyFilter>("family", {{"ipv4", FamilyFilter::kV4},
                                                     {"ipv6", FamilyFilter::kV6}})) {
    s.family = *f;
    if (!s.addresses.empty())
      r.error(r.at("family"), "`family` applies to wildcard listeners only (no `addresses`)");
  }
  s.device = r.interface("device");
  r.boolean("reuse_addr", s.reuse_addr);
  r.boolean("reuse_port", s.reuse_port);
  if (auto u = r.uint("uid", 0, UINT32_MAX)) s.uid = static_cast<uint32_t>(*u);
  if (auto b = r.uint("backlog", 0, UINT32_MAX)) s.backlog = static_cast<uint32_t>(*b);
  parse_tcp_options(r, s.proto, s.tcp);
  return s;
}

std::optional<StepOp> parse_connect(OpReader& r) {
  ConnectStep s;
  r.proto(s.proto);
  r.new_socket(s.socket);
  auto remote = r.socket_addr("remote", false);
  if (remote) s.remote = *remote;
  s.local = r.socket_addr("local", true);
  if (s.local && remote && s.local->addr.family() != remote->addr.family())
    r.error(r.at("local"), "`local` " + s.local->to_string() + " and `remote` " + remote->to_string() +
                               " are of different families");
  s.device = r.interface("device");
  r.boolean("reuse_addr", s.reuse_addr);
  r.boolean("reuse_port", s.reuse_port);
  if (auto u = r.uint("uid", 0, UINT32_MAX)) s.uid = static_cast<uint32_t>(*u);
  parse_tcp_options(r, s.proto, s.tcp);
  return s;
}

std::optional<StepOp> parse_send(OpReader& r) {
  SendStep s;
  r.socket(s.socket);
  const bool data = r.get("data"), size = r.get("size");
  if (data && size) r.error(r.at("size"), "give either `data` or `size`, not both");
  else if (!data && !size) r.error(r.pointer(), "op `send` needs `data` (a string) or `size` (bytes)");
  s.data = r.string("data");
  s.size = r.uint("size", 0, UINT32_MAX);
  s.to = r.socket_addr("to", false);
  s.repeat = r.repeat("repeat");
  return s;
}

std::optional<StepOp> parse_close(OpReader& r) {
  CloseStep s;
  r.socket(s.socket);
  return s;
}

std::optional<StepOp> parse_shutdown(OpReader& r) {
  ShutdownStep s;
  r.socket(s.socket);
  if (auto h = r.enumerated<ShutdownHow>("how", {{"read", ShutdownHow::kRead},
                                                 {"write", ShutdownHow::kWrite},
                                                 {"both", ShutdownHow::kBoth}}))
    s.how = *h;
  return s;
}

std::optional<StepOp> parse_add_address(OpReader& r) {
  AddAddressStep s;
  s.interface = r.interface("interface").value_or("");
  if (auto p = r.interface_address("address")) s.address = *p;
  return s;
}

std::optional<StepOp> parse_remove_address(OpReader& r) {
  RemoveAddressStep s;
  s.interface = r.interface("interface").value_or("");
  if (auto a = r.ip("address", true)) s.address = *a;
  return s;
}

std::optional<StepOp> parse_change_address(OpReader& r) {
  ChangeAddressStep s;
  s.interface = r.interface("interface").value_or("");
  if (auto a = r.ip("from", true)) s.from = *a;
  if (auto p = r.interface_address("to")) s.to = *p;
  return s;
}

std::optional<StepOp> parse_interface_down(OpReader& r) {
  return InterfaceDownStep{r.interface("interface").value_or("")};
}

std::optional<StepOp> parse_interface_up(OpReader& r) {
  return InterfaceUpStep{r.interface("interface").value_or("")};
}

std::optional<StepOp> parse_link_down(OpReader& r) { return LinkDownStep{r.link("link").value_or("")}; }

std::optional<StepOp> parse_link_up(OpReader& r) { return LinkUpStep{r.link("link").value_or("")}; }

std::optional<StepOp> parse_add_route(OpReader& r) { return AddRouteStep{r.route()}; }

std::optional<StepOp> parse_remove_route(OpReader& r) { return RemoveRouteStep{r.route()}; }

std::optional<StepOp> parse_set_host_model(OpReader& r) {
  SetHostModelStep s;
  if (auto m = r.host_model("host_model")) s.host_model = *m;
  return s;
}

std::optional<StepOp> parse_ping(OpReader& r) {
  PingStep s;
  if (auto a = r.ip("to")) s.to = *a;
  if (auto n = r.uint("count", 1, UINT32_MAX)) s.count = static_cast<uint32_t>(*n);
  if (auto d = r.duration("every")) s.every = *d;
  if (auto n = r.uint("size", 0, 65507)) s.size = static_cast<uint32_t>(*n);
  return s;
}

// Key schemas used by several ops.
constexpr const char* kSocketSchema = R"({"$ref": "#/$defs/socket_ref"})";
constexpr const char* kNewSocketSchema = R"({"$ref": "#/$defs/socket_name"})";
constexpr const char* kInterfaceSchema = R"({"$ref": "#/$defs/name"})";
constexpr const char* kBoolSchema = R"({"type": "boolean"})";
constexpr const char* kReuseAddrDoc =
    "share the address and port with sockets that also set it (netstack3, linux: "
    "docs/policies.md; ignored under seed)";
constexpr const char* kReusePortDoc =
    "share the port with sockets that also set it; delivery picks one by a hash of the "
    "four-tuple (netstack3: UDP only; linux: with the same uid; ignored under seed)";
constexpr const char* kCongestionStepDoc =
    "TCP: this socket's congestion control (a listener's: its connections'); default "
    "`defaults.tcp.congestion`";
constexpr const char* kRecoveryStepDoc =
    "TCP: this socket's loss recovery, `sack` or `newreno` (a listener's: its connections'); "
    "default `defaults.tcp.recovery`";
constexpr const char* kNodelayStepDoc =
    "TCP: `true` sends short segments at once, `false` holds them by Nagle's algorithm (RFC 1122 "
    "4.2.3.4), for this socket (a listener's: its connections'); default `defaults.tcp.nodelay`";
constexpr const char* kUidDoc =
    "the socket's owner, default 0 (linux: reuse_port sockets share only with the same uid; "
    "ignored by the other policies)";

const std::vector<OpSpec>& op_specs() {
  static const std::vector<OpSpec> kOps = {
      {"listen", true,
       {{"proto", true, R"({"$ref": "#/$defs/proto"})", "transport protocol"},
        {"socket", true, kNewSocketSchema, "name of the new socket; no `#`"},
        {"port", false, R"({"$ref": "#/$defs/port"})", "local port; 0 or absent: ephemeral"},
        {"addresses", false, R"({"type": "array", "uniqueItems": true, "items": {"$ref": "#/$defs/ip"}})",
         "local addresses, each once; absent or empty: a wildcard listener"},
        {"family", false, R"({"enum": ["ipv4", "ipv6"]})",
         "the one family a wildcard listener covers; absent: both"},
        {"device", false, kInterfaceSchema, "bind to this interface of the host"},
        {"reuse_addr", false, kBoolSchema, kReuseAddrDoc},
        {"reuse_port", false, kBoolSchema, kReusePortDoc},
        {"uid", false, R"({"$ref": "#/$defs/u32"})", kUidDoc},
        {"backlog", false, R"({"$ref": "#/$defs/u32"})",
         "TCP: connections waiting to complete or be accepted; default `defaults.tcp.backlog`"},
        {"congestion", false, kCongestionSchema, kCongestionStepDoc},
        {"recovery", false, kRecoverySchema, kRecoveryStepDoc},
        {"nodelay", false, kBoolSchema, kNodelayStepDoc}},
       "create a listener (for UDP, a bound unconnected socket)", "", parse_listen},
      {"connect", true,
       {{"proto", true, R"({"$ref": "#/$defs/proto"})", "transport protocol"},
        {"socket", true, kNewSocketSchema, "name of the new socket; no `#`"},
        {"remote", true, R"({"$ref": "#/$defs/socket_addr"})", "the peer, `address:port`"},
        {"local", false, R"({"anyOf": [{"$ref": "#/$defs/socket_addr"}, {"$ref": "#/$defs/ip"}]})",
         "address, or address:port (port may be 0); same family as `remote`"},
        {"device", false, kInterfaceSchema, "bind to this interface of the host"},
        {"reuse_addr", false, kBoolSchema, kReuseAddrDoc},
        {"reuse_port", false, kBoolSchema, kReusePortDoc},
        {"uid", false, R"({"$ref": "#/$defs/u32"})", kUidDoc},
        {"congestion", false, kCongestionSchema, kCongestionStepDoc},
        {"recovery", false, kRecoverySchema, kRecoveryStepDoc},
        {"nodelay", false, kBoolSchema, kNodelayStepDoc}},
       "create a connection (TCP: starts the handshake; UDP: a connected socket)", "",
       parse_connect},
      {"send", true,
       {{"socket", true, kSocketSchema, "the sending socket"},
        {"data", false, R"({"type": "string"})", "the payload as text; exactly one of `data` / `size`"},
        {"size", false, R"({"$ref": "#/$defs/u32"})",
         "bytes of generated payload; exactly one of `data` / `size`"},
        {"to", false, R"({"$ref": "#/$defs/socket_addr"})",
         "destination `address:port`; for an unconnected UDP socket only"},
        {"repeat", false,
         R"({"type": "object", "additionalProperties": false, "required": ["count", "every"],
             "properties": {"count": {"description": "how many sends in all", "type": "integer", "minimum": 1, "maximum": 4294967295},
                            "every": {"description": "time between two sends", "$ref": "#/$defs/duration"}}})",
         "send `count` times, `every` apart"}},
       "send",
       R"({"dependentSchemas": {"data": {"properties": {"size": false}}},
           "anyOf": [{"required": ["data"], "properties": {"data": true}},
                     {"required": ["size"], "properties": {"size": true}}]})",
       parse_send},
      {"close", true, {{"socket", true, kSocketSchema, "the socket to close"}},
       "close (TCP: FIN; a listener closes at once and resets its unaccepted connections)", "",
       parse_close},
      {"shutdown", true,
       {{"socket", true, kSocketSchema, "the socket to shut down"},
        {"how", false, R"({"enum": ["read", "write", "both"]})", "the direction; default both"}},
       "shut down one direction", "", parse_shutdown},
      {"add_address", true,
       {{"interface", true, kInterfaceSchema, "an interface of the host"},
        {"address", true, R"({"$ref": "#/$defs/prefix"})", "the address, with prefix length"}},
       "assign an address", "", parse_add_address},
      {"remove_address", true,
       {{"interface", true, kInterfaceSchema, "an interface of the host"},
        {"address", true, R"({"$ref": "#/$defs/ip_or_prefix"})",
         "the address; a prefix length is ignored"}},
       "remove an address (severs connections under policy `seed`)", "", parse_remove_address},
      {"change_address", true,
       {{"interface", true, kInterfaceSchema, "an interface of the host"},
        {"from", true, R"({"$ref": "#/$defs/ip_or_prefix"})",
         "the address removed; a prefix length is ignored"},
        {"to", true, R"({"$ref": "#/$defs/prefix"})", "the address added, with prefix length"}},
       "remove `from`, then add `to`, in one step", "", parse_change_address},
      {"interface_down", true, {{"interface", true, kInterfaceSchema, "an interface of the host"}},
       "take an interface down", "", parse_interface_down},
      {"interface_up", true, {{"interface", true, kInterfaceSchema, "an interface of the host"}},
       "bring an interface up", "", parse_interface_up},
      {"link_down", false, {{"link", true, R"({"$ref": "#/$defs/link_ref"})", "a link name or `linkN`"}},
       "take a link down", "", parse_link_down},
      {"link_up", false, {{"link", true, R"({"$ref": "#/$defs/link_ref"})", "a link name or `linkN`"}},
       "bring a link up", "", parse_link_up},
      {"add_route", true, route_keys(), "add a static route", "", parse_add_route},
      {"remove_route", true, route_keys(), "remove a static route", "", parse_remove_route},
      {"set_host_model", true,
       {{"host_model", true, R"({"$ref": "#/$defs/host_model"})", "the host's new host model"}},
       "change the host model", "", parse_set_host_model},
      {"ping", true,
       {{"to", true, R"({"$ref": "#/$defs/ip"})", "the address to ping"},
        {"count", false, R"({"type": "integer", "minimum": 1, "maximum": 4294967295})",
         "echo requests to send; default 1"},
        {"every", false, R"({"$ref": "#/$defs/duration"})", "time between requests; default 1s"},
        {"size", false, R"({"type": "integer", "minimum": 0, "maximum": 65507})",
         "payload bytes, default 56; the packet must fit the first hop's MTU"}},
       "extension: ICMP echo requests", "", parse_ping},
  };
  return kOps;
}

// Splits an RFC 6901 pointer into unescaped tokens; returns why not when malformed
// ("" when it is fine).
std::string split_pointer(std::string_view ptr, std::vector<std::string>& tokens) {
  tokens.clear();
  if (ptr.empty()) return "";
  if (ptr[0] != '/') return "a JSON Pointer starts with `/` (e.g. /seed)";
  std::string cur;
  for (size_t i = 1; i <= ptr.size(); ++i) {
    if (i == ptr.size() || ptr[i] == '/') {
      tokens.push_back(cur);
      cur.clear();
      continue;
    }
    if (ptr[i] == '~') {
      if (i + 1 >= ptr.size() || (ptr[i + 1] != '0' && ptr[i + 1] != '1'))
        return "`~` must be followed by `0` (for `~`) or `1` (for `/`)";
      cur += ptr[i + 1] == '0' ? '~' : '/';
      ++i;
      continue;
    }
    cur += ptr[i];
  }
  return "";
}

// An RFC 6901 array index: `0`, or digits without a leading zero.
std::optional<size_t> array_index(std::string_view token) {
  if (token.empty() || (token[0] == '0' && token.size() > 1)) return std::nullopt;
  size_t idx = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), idx);
  if (ec != std::errc() || p != token.data() + token.size()) return std::nullopt;
  return idx;
}

std::string not_an_index(const std::string& pointer, const std::string& token) {
  return "cannot set `" + pointer + "`: `" + token +
         "` is not an array index (RFC 6901: `0`, or digits without a leading zero; `-` "
         "appends)";
}

// Applies one override. Returns an error message, or "" and sets `applied` to the
// pointer of the value it set (`-` replaced by the index it appended at).
std::string apply_override(json& root, const Override& o, std::string& applied) {
  std::vector<std::string> tokens;
  if (std::string why = split_pointer(o.pointer, tokens); !why.empty())
    return "invalid JSON Pointer `" + o.pointer + "`: " + why;
  if (tokens.empty()) {
    root = o.value;
    applied = "";
    return "";
  }
  json* cur = &root;
  std::string walked;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (cur->is_object()) {
      walked = pointer_append(walked, t);
      auto it = cur->find(t);
      if (it == cur->end()) return "cannot set `" + o.pointer + "`: `" + walked + "` does not exist";
      cur = &*it;
    } else if (cur->is_array()) {
      auto idx = array_index(t);
      if (!idx) return not_an_index(o.pointer, t);
      walked = pointer_append(walked, *idx);
      if (*idx >= cur->size()) return "cannot set `" + o.pointer + "`: `" + walked + "` does not exist";
      cur = &(*cur)[*idx];
    } else {
      return "cannot set `" + o.pointer + "`: `" + walked + "` is neither an object nor an array";
    }
  }
  const std::string& last = tokens.back();
  if (cur->is_object()) {
    (*cur)[last] = o.value;
    applied = pointer_append(walked, last);
    return "";
  }
  if (cur->is_array()) {
    std::optional<size_t> idx = last == "-" ? std::optional<size_t>(cur->size()) : array_index(last);
    if (!idx) return not_an_index(o.pointer, last);
    if (*idx > cur->size()) return "cannot set `" + o.pointer + "`: no array element `" + last + "`";
    if (*idx == cur->size()) cur->push_back(o.value);
    else (*cur)[*idx] = o.value;
    applied = pointer_append(walked, *idx);
    return "";
  }
  return "cannot set `" + o.pointer + "`: its parent is neither an object nor an array";
}

// Byte offset of a line:column position (both 1-based, columns in bytes).
size_t offset_of(std::string_view text, SourcePos pos) {
  size_t offset = 0;
  for (int line = 1; line < pos.line && offset < text.size(); ++line) {
    size_t nl = text.find('\n', offset);
    if (nl == std::string_view::npos) return text.size();
    offset = nl + 1;
  }
  return std::min(text.size(), offset + static_cast<size_t>(std::max(pos.column, 1) - 1));
}

// The end (one past the closing quote) of the JSON string that starts at `begin`, or npos.
size_t string_end(std::string_view text, size_t begin) {
  if (begin >= text.size() || text[begin] != '"') return std::string_view::npos;
  size_t end = begin + 1;
  while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
  return end < text.size() ? end + 1 : std::string_view::npos;
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A part of the file that scenario_sha256 replaces: bytes [begin, end) become `with`.
struct HashCut {
  size_t begin, end;
  std::string_view with;
};

// What the trace header's `scenario_sha256` covers (docs/scenario-format.md, "Pinned
// fingerprint"): the file's bytes, except
//  - the string that is the value of a top-level `fingerprint` counts as `""`: a pin is made
//    from a trace whose header holds this hash, so the hash cannot cover the pin itself;
//  - a top-level `$schema` member whose value is a string does not count, with the comma and
//    white space that separate it from its neighbour: it is editor metadata, and adding it to
//    a file must leave the hash, its trace and a pinned fingerprint unchanged.
// Without either it is exactly the SHA-256 of the file.
std::string scenario_sha256(std::string_view text, const JsonSource& src) {
  std::vector<HashCut> cuts;
  auto string_value = [&](const char* key) -> std::optional<std::pair<size_t, size_t>> {
    auto pos = src.value_pos.find(std::string("/") + key);
    if (!src.value.is_object() || !src.value.contains(key) || !src.value[key].is_string() ||
        pos == src.value_pos.end())
      return std::nullopt;
    const size_t begin = offset_of(text, pos->second);
    const size_t end = string_end(text, begin);
    if (end == std::string_view::npos) return std::nullopt;
    return std::pair(begin, end);
  };
  if (auto pin = string_value("fingerprint")) cuts.push_back({pin->first, pin->second, "\"\""});
  auto key = src.key_pos.find("/$schema");
  if (auto value = string_value("$schema"); value && key != src.key_pos.end()) {
    size_t begin = offset_of(text, key->second), end = value->second;
    size_t next = end;
    while (next < text.size() && is_json_space(text[next])) ++next;
    if (next < text.size() && text[next] == ',') {  // up to the next member's key
      end = next + 1;
      while (end < text.size() && is_json_space(text[end])) ++end;
    } else {  // the last member: from the comma after the previous one
      size_t before = begin;
      while (before > 0 && is_json_space(text[before - 1])) --before;
      if (before > 0 && text[before - 1] == ',') begin = before - 1;
    }
    cuts.push_back({begin, end, ""});
  }
  if (cuts.empty()) return sha256_hex(text);
  std::sort(cuts.begin(), cuts.end(), [](const HashCut& a, const HashCut& b) { return a.begin < b.begin; });
  std::string bytes;
  size_t at = 0;
  for (const HashCut& c : cuts) {
    bytes += text.substr(at, c.begin - at);
    bytes += c.with;
    at = c.end;
  }
  bytes += text.substr(at);
  return sha256_hex(bytes);
}

}  // namespace

std::vector<OpKeys> op_keys() {
  std::vector<OpKeys> out;
  for (const OpSpec& op : op_specs()) {
    OpKeys& o = out.emplace_back();
    o.op = op.name;
    for (const KeySpec& k : op.keys) o.keys.emplace_back(k.name, k.required);
  }
  return out;
}

struct PieceLoader::Impl {
  JsonSource source;  // none: a piece has no file, its messages no positions
  Loader loader{source, "", {}};

  // The piece's result, or nullopt with the loader's errors moved to `errors`.
  template <typename T>
  std::optional<T> result(std::optional<T> piece, std::vector<Diagnostic>& errors) {
    std::vector<Diagnostic>& found = loader.errors();
    if (found.empty()) return piece;
    errors.insert(errors.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    found.clear();
    return std::nullopt;
  }
};

PieceLoader::PieceLoader() : impl_(std::make_unique<Impl>()) {}
PieceLoader::~PieceLoader() = default;

PieceLoader::PieceLoader(const Scenario& built) : PieceLoader() {
  for (const Host& h : built.hosts) {
    add_host(h);
    for (const Interface& i : h.interfaces) add_interface(h.name, i);
  }
  for (const Link& l : built.links) add_link(l.name);
}

void PieceLoader::add_host(const Host& host) { impl_->loader.know_host(host.name, host.pointer); }
void PieceLoader::add_interface(const std::string& host, const Interface& interface) {
  impl_->loader.know_interface(host, interface);
}
void PieceLoader::add_link(const std::string& name) { impl_->loader.know_link(name); }

std::optional<Step> PieceLoader::step(const nlohmann::json& step, const std::string& pointer,
                                      std::vector<Diagnostic>& errors) {
  return impl_->result(impl_->loader.load_step(step, pointer), errors);
}

std::optional<Route> PieceLoader::route(const std::string& host, const nlohmann::json& route,
                                        const std::string& pointer, std::vector<Diagnostic>& errors) {
  return impl_->result(impl_->loader.load_route(route, pointer, host), errors);
}

std::optional<Expectation> PieceLoader::expectation(const nlohmann::json& expectation,
                                                    const std::string& pointer,
                                                    std::vector<Diagnostic>& errors) {
  return impl_->result(impl_->loader.load_expectation(expectation, pointer), errors);
}

std::optional<TcpParams> PieceLoader::tcp(const TcpParams& base, const nlohmann::json& tcp,
                                          std::vector<Diagnostic>& errors) {
  Scenario s;
  s.tcp = base;
  impl_->loader.load_defaults(nlohmann::json{{"tcp", tcp}}, s);
  return impl_->result(std::optional<TcpParams>(s.tcp), errors);
}

std::optional<Limits> PieceLoader::limits(const Limits& base, const nlohmann::json& limits,
                                          std::vector<Diagnostic>& errors) {
  Scenario s;
  s.limits = base;
  impl_->loader.load_limits(limits, s);
  return impl_->result(std::optional<Limits>(s.limits), errors);
}

std::vector<std::pair<std::string, std::vector<std::string>>> schema_object_keys() {
  std::vector<std::string> count_form = kExpectCountKeys;
  count_form.insert(count_form.begin(), {"event", "host"});
  return {{"/$defs/expectation/oneOf/0/properties", kSequenceKeys},
          {"/$defs/expectation/oneOf/1/properties", count_form}};
}

namespace {

// A key's schema with its description first. Every key gets its doc, also an empty one,
// which the schema tests then report: a new key needs a description.
nlohmann::ordered_json key_schema(const KeySpec& k) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["description"] = k.doc;
  const nlohmann::ordered_json schema = nlohmann::ordered_json::parse(k.schema);
  for (const auto& [name, value] : schema.items()) out[name] = value;
  return out;
}

}  // namespace

nlohmann::ordered_json scenario_schema(nlohmann::ordered_json schema) {
  using ojson = nlohmann::ordered_json;
  // Outer objects first: the top level's `defaults` and `limits` get their own tables.
  const std::pair<const char*, const std::vector<KeySpec>*> kObjects[] = {
      {"", &kTopKeys},
      {"/properties/limits", &kLimitsKeys},
      {"/properties/defaults", &kDefaultsKeys},
      {"/properties/defaults/properties/host", &kHostDefaultKeys},
      {"/$defs/link_defaults", &kLinkDefaultKeys},
      {"/$defs/tcp_params", &kTcpKeys},
      {"/$defs/host", &kHostKeys},
      {"/$defs/interface", &kInterfaceKeys},
      {"/$defs/link", &kLinkKeys}};
  for (const auto& [pointer, keys] : kObjects) {
    ojson& object = schema[ojson::json_pointer(pointer)];
    ojson required = ojson::array(), properties = ojson::object();
    for (const KeySpec& k : *keys) {
      if (k.required) required.push_back(k.name);
      properties[k.name] = key_schema(k);
    }
    if (required.empty()) object.erase("required");
    else object["required"] = required;
    object["properties"] = properties;
  }
  ojson& defs = schema["$defs"];
  const ojson generated = step_schema_defs();
  for (auto it = defs.begin(); it != defs.end();) {  // drop the definitions of removed ops
    const std::string& key = it.key();
    if ((key == "step" || key.rfind("step_", 0) == 0) && !generated.contains(key)) it = defs.erase(it);
    else ++it;
  }
  for (const auto& [key, value] : generated.items()) defs[key] = value;
  // A matcher's keys are trace fields (any kind's; the loader also checks them per kind) and,
  // outside a sequence, the count and window keys.
  ojson names = ojson::array();
  for (const std::string& field : trace_event_fields("")) names.push_back(field);
  for (const std::string& key : kExpectCountKeys) names.push_back(key);
  for (const char* matcher : {"/$defs/matcher", "/$defs/expectation/oneOf/1"})
    schema[ojson::json_pointer(matcher)]["propertyNames"] = ojson{{"enum", names}};
  return schema;
}

nlohmann::ordered_json step_schema_defs() {
  using ojson = nlohmann::ordered_json;
  ojson defs = ojson::object();
  ojson names = ojson::array(), cases = ojson::array();
  for (const OpSpec& op : op_specs()) {
    names.push_back(op.name);
    ojson when = ojson::object();
    when["properties"]["op"]["const"] = op.name;
    when["required"] = ojson::array({"op"});
    ojson c = ojson::object();
    c["if"] = when;
    c["then"]["$ref"] = std::string("#/$defs/step_") + op.name;
    cases.push_back(c);
  }
  ojson& route = defs["route"];
  route["description"] = "a static route";
  route["type"] = "object";
  route["additionalProperties"] = false;
  route["required"] = ojson::array();
  for (const KeySpec& k : route_keys()) {
    if (k.required) route["required"].push_back(k.name);
    route["properties"][k.name] = key_schema(k);
  }
  ojson& step = defs["step"];
  step["description"] = "one step of the timeline: `at`, `op`, the op's keys";
  step["type"] = "object";
  step["required"] = ojson::array({"at", "op"});
  for (const KeySpec& k : common_step_keys()) {
    if (std::string_view(k.name) != "op") {
      step["properties"][k.name] = key_schema(k);
      continue;
    }
    step["properties"]["op"]["description"] = k.doc;
    step["properties"]["op"]["enum"] = names;
  }
  step["allOf"] = cases;
  for (const OpSpec& op : op_specs()) {
    ojson& d = defs[std::string("step_") + op.name];
    d["description"] = op.doc;
    d["type"] = "object";
    d["additionalProperties"] = false;
    ojson required = ojson::array(), properties = ojson::object();
    for (const KeySpec& k : common_step_keys()) {
      if (!op.on_host && std::string_view(k.name) == "host") continue;
      if (k.required) required.push_back(k.name);
      if (std::string_view(k.name) == "op") {
        properties["op"]["description"] = std::string(k.doc) + ": " + op.doc;
        properties["op"]["const"] = op.name;
      } else {
        properties[k.name] = key_schema(k);
      }
    }
    for (const KeySpec& k : op.keys) {
      if (k.required) required.push_back(k.name);
      properties[k.name] = key_schema(k);
    }
    d["required"] = required;
    d["properties"] = properties;
    if (*op.extra_schema) {
      const ojson extra = ojson::parse(op.extra_schema);
      for (const auto& [name, value] : extra.items()) d[name] = value;
    }
  }
  return defs;
}

namespace {

// Every event kind with the fields its records may carry besides the common ones, as the
// writers write them (viz/trace_fields.cpp, scenarios/run_records.cpp, viz/trace_writer.cpp).
struct EventFields {
  std::string kind;
  std::vector<std::string> fields;
};

const std::vector<EventFields>& event_field_table() {
  static const std::vector<EventFields> kTable = {
      {"step", {"op", "socket", "result", "expected", "proto", "port", "addresses", "device", "local", "remote"}},
      {"tx", {"interface", "packet"}},
      {"rx", {"interface", "packet"}},
      {"forward", {"from", "to", "packet"}},
      {"drop", {"packet", "reason", "interface", "link"}},
      {"deliver", {"socket", "proto", "packet", "match", "shadowed", "outranked", "group", "data", "size"}},
      {"accept", {"listener", "socket", "local", "remote"}},
      {"established", {"socket", "local", "remote"}},
      {"receive", {"socket", "data", "size"}},
      {"sever", {"socket", "error"}},
      {"error", {"socket", "error"}},
      {"close", {"socket", "state"}},
      {"address_added", {"interface", "address"}},
      {"address_removed", {"interface", "address"}},
      {"interface_down", {"interface"}},
      {"interface_up", {"interface"}},
      {"link_down", {"link"}},
      {"link_up", {"link"}},
      {"ping", {"packet", "rtt"}},
      {"socket", {"socket", "how", "proto", "listener", "port", "addresses", "local", "remote", "device"}},
      {"guard", {"guard", "limit", "events", "pending", "in_flight", "link", "link_in_flight"}},
      {"expect", {"pointer", "result", "detail"}}};
  return kTable;
}

}  // namespace

const std::vector<std::string>& trace_event_kinds() {
  static const std::vector<std::string> kKinds = [] {
    std::vector<std::string> kinds;
    for (const EventFields& e : event_field_table()) kinds.push_back(e.kind);
    return kinds;
  }();
  return kKinds;
}

std::vector<std::string> trace_event_fields(std::string_view kind) {
  std::vector<std::string> fields;
  for (const EventFields& e : event_field_table())
    if (kind.empty() || e.kind == kind) fields.insert(fields.end(), e.fields.begin(), e.fields.end());
  if (!kind.empty() && fields.empty()) return fields;
  for (const char* common : {"event", "seq", "t", "host", "cause", "step"}) fields.emplace_back(common);
  std::sort(fields.begin(), fields.end());
  fields.erase(std::unique(fields.begin(), fields.end()), fields.end());
  return fields;
}

const std::vector<std::string>& trace_packet_fields() {
  static const std::vector<std::string> kFields = {
      "ack", "dst", "flags", "id", "inner", "len", "mss", "proto", "sack", "sack_ok",
      "seq", "src", "ts_ecr", "ts_val", "ttl", "type", "window", "wscale"};
  return kFields;
}

std::optional<Duration> parse_duration(std::string_view text, std::string* error) {
  static const std::vector<UnitTable> kUnits = {
      {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
  auto v = parse_with_unit(text, kUnits, false, "duration", "ns", kMaxDuration, kMaxDurationText, error);
  if (!v) return std::nullopt;
  return Duration{static_cast<int64_t>(*v)};
}

std::optional<uint64_t> parse_rate(std::string_view text, std::string* error) {
  static const std::vector<UnitTable> kUnits = {
      {"bps", 1}, {"kbps", 1000}, {"Mbps", 1000000}, {"Gbps", 1000000000}};
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  return parse_with_unit(text, kUnits, true, "rate", "bps", kMax, std::to_string(kMax) + " bps", error);
}

std::string format_diagnostic(const Diagnostic& d) {
  std::string out = d.file;
  if (d.line > 0) out += ":" + std::to_string(d.line) + ":" + std::to_string(d.column);
  out += ": ";
  if (!d.pointer.empty()) out += d.pointer + ": ";
  out += d.message;
  return out;
}

std::string pointer_error(std::string_view pointer) {
  std::vector<std::string> tokens;
  return split_pointer(pointer, tokens);
}

std::optional<Override> parse_override(std::string_view text, std::string* error) {
  auto fail = [&](std::string m) -> std::optional<Override> {
    if (error) *error = std::move(m);
    return std::nullopt;
  };
  size_t eq = text.find('=');
  if (eq == std::string_view::npos)
    return fail("expected POINTER=VALUE (e.g. /links/0/loss=0.1), got `" + std::string(text) + "`");
  Override o;
  o.pointer = std::string(text.substr(0, eq));
  if (o.pointer.empty()) return fail("empty JSON Pointer (it starts with `/`, e.g. /seed=7)");
  if (std::string why = pointer_error(o.pointer); !why.empty())
    return fail("invalid JSON Pointer `" + o.pointer + "`: " + why);
  std::string_view value = text.substr(eq + 1);
  JsonSource parsed = parse_json_source(value);
  // Valid JSON with a problem (a number out of range, a duplicate key) is that problem,
  // not a bare string.
  if (parsed.syntax_ok && !parsed.errors.empty()) return fail(parsed.errors[0].message);
  if (parsed.syntax_ok) o.value = std::move(parsed.value);
  else o.value = std::string(value);
  return o;
}

bool parse_overrides(const std::vector<std::string>& texts, std::vector<Override>& out, std::string* error) {
  for (const std::string& text : texts) {
    std::string why;
    auto o = parse_override(text, &why);
    if (!o) {
      *error = "--set " + text + ": " + why;
      return false;
    }
    out.push_back(*o);
  }
  return true;
}

LoadResult load_scenario_text(std::string_view text, const std::string& file_name,
                              const std::vector<Override>& overrides) {
  LoadResult result;
  JsonSource src = parse_json_source(text);
  for (const auto& e : src.errors)
    result.errors.push_back(Diagnostic{file_name, e.pos.line, e.pos.column, e.pointer, e.message});
  if (!src.syntax_ok) return result;

  const std::string hash = scenario_sha256(text, src);
  json root = std::move(src.value);
  std::vector<std::string> overridden;
  for (const auto& o : overrides) {
    std::string applied;
    std::string err = apply_override(root, o, applied);
    if (!err.empty()) result.errors.push_back(Diagnostic{file_name, 0, 0, o.pointer, "--set: " + err});
    else overridden.push_back(applied);
  }

  Loader loader(src, file_name, overridden);
  Scenario s = loader.load(root, file_name);
  auto& errs = loader.errors();
  // A value the parser already reported (a number out of range) gets no second error
  // about the stand-in it was read as.
  std::set<std::string> reported;
  for (const auto& e : src.errors) reported.insert(e.pointer);
  errs.erase(std::remove_if(errs.begin(), errs.end(),
                            [&](const Diagnostic& d) { return d.line > 0 && reported.count(d.pointer); }),
             errs.end());
  result.errors.insert(result.errors.end(), errs.begin(), errs.end());
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
  if (!result.errors.empty()) return result;
  s.source_path = file_name;
  s.source_sha256 = hash;
  result.scenario = std::move(s);
  return result;
}

LoadResult load_scenario_file(const std::string& path, const std::vector<Override>& overrides) {
  LoadResult result;
  auto fail = [&](std::string m) {
    result.errors.push_back(Diagnostic{path, 0, 0, "", std::move(m)});
    return result;
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail("is a directory, not a scenario file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::string("cannot open: ") + std::strerror(errno));
  std::string bytes;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    bytes.append(buf, static_cast<size_t>(in.gcount()));
    if (bytes.size() > kMaxFileBytes)
      return fail("file larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB");
  }
  if (in.bad()) return fail("read error");
  return load_scenario_text(bytes, path, overrides);
}

}  // namespace netsim::scenario
