// The scenario loader: scenario JSON text or file -> typed Scenario (scenario.h).
// It checks everything that can be checked without running (types, ranges, units,
// names of hosts, interfaces, links and sockets) and reports every problem at once,
// each with file, line, column and JSON Pointer. Bad input never throws or crashes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/scenario.h"

namespace netsim::scenario {

inline constexpr std::string_view kScenarioFormat = "netsim-scenario/1";

struct Diagnostic {
  std::string file;
  int line = 0;  // 0: no position (e.g. a value set by an override)
  int column = 0;
  std::string pointer;  // "" = the whole document
  std::string message;
};

// A command-line change to the parsed JSON before typing: `--set /links/0/loss=0.1`.
struct Override {
  std::string pointer;
  nlohmann::json value;
};

// Exactly one of: a scenario (errors empty) or errors.
struct LoadResult {
  std::optional<Scenario> scenario;
  std::vector<Diagnostic> errors;
};

LoadResult load_scenario_text(std::string_view text, const std::string& file_name,
                              const std::vector<Override>& overrides = {});
LoadResult load_scenario_file(const std::string& path, const std::vector<Override>& overrides = {});

// Types a scenario built piece by piece (the library API, api/simulation.cpp) with the code that
// types the same pieces of a file: a step, a host's static route, an expectation,
// `defaults.tcp`, `limits`. It knows the hosts, interfaces and links it is told of, as the
// loader knows those loaded before a step. A piece that is wrong gives nullopt and its problems
// appended to `errors` (pointers under the piece's, no file positions); the loader then holds no
// trace of it.
class PieceLoader {
 public:
  PieceLoader();
  explicit PieceLoader(const Scenario& built);  // knows `built`'s hosts, interfaces and links
  ~PieceLoader();
  PieceLoader(const PieceLoader&) = delete;
  PieceLoader& operator=(const PieceLoader&) = delete;

  void add_host(const Host& host);
  void add_interface(const std::string& host, const Interface& interface);
  void add_link(const std::string& name);

  // A step object as a file writes it ({"at": ..., "host": ..., "op": ..., ...}).
  std::optional<Step> step(const nlohmann::json& step, const std::string& pointer,
                           std::vector<Diagnostic>& errors);
  // A route object of host `host` ({"to": ..., "via": ..., "dev": ..., "metric": ...}).
  std::optional<Route> route(const std::string& host, const nlohmann::json& route,
                             const std::string& pointer, std::vector<Diagnostic>& errors);
  // An entry of `expect` (a matcher with counts and a window, or a sequence).
  std::optional<Expectation> expectation(const nlohmann::json& expectation, const std::string& pointer,
                                         std::vector<Diagnostic>& errors);
  // `base` with the keys of a `defaults.tcp` object applied (pointers under /defaults/tcp).
  std::optional<TcpParams> tcp(const TcpParams& base, const nlohmann::json& tcp, std::vector<Diagnostic>& errors);
  // `base` with the keys of a `limits` object applied (pointers under /limits).
  std::optional<Limits> limits(const Limits& base, const nlohmann::json& limits, std::vector<Diagnostic>& errors);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "file:line:col: /pointer: message" (line and column left out when unknown, the
// pointer when it is the document root).
std::string format_diagnostic(const Diagnostic& d);

// "" when `pointer` is a well-formed RFC 6901 JSON Pointer, else what is wrong with it.
std::string pointer_error(std::string_view pointer);

// Parses "POINTER=VALUE"; VALUE is JSON, or taken as a bare string when it is not
// valid JSON. On failure returns nullopt and sets *error (when given).
std::optional<Override> parse_override(std::string_view text, std::string* error);
// Parses every `--set` text in order, appending to `out`; at the first that fails, returns false
// with *error = "--set TEXT: what is wrong".
bool parse_overrides(const std::vector<std::string>& texts, std::vector<Override>& out, std::string* error);

// Exposed for tests and the CLI: the unit parsers the loader uses.
// "1.5ms", "250us", "3s", "10ns" -> exact nanoseconds, at most 1e18 (about 31.7 years);
// nullopt + *error otherwise.
std::optional<Duration> parse_duration(std::string_view text, std::string* error);
// "100Mbps", "2.5Gbps", "64kbps", "9600bps" -> exact bits per second.
std::optional<uint64_t> parse_rate(std::string_view text, std::string* error);

// The JSON Schema of steps, made from the loader's op descriptors (one per op: its keys,
// their schemas and descriptions, its parser): `step` (the op names and one if/then per op),
// `step_OP` for every op and `route` (a host's static route; add_route's keys).
nlohmann::ordered_json step_schema_defs();

// The scenario JSON Schema: `schema` with everything the loader's tables say filled in, the
// `properties` and `required` of the top level, `limits`, `defaults`, link defaults, TCP
// parameters, hosts, interfaces and links (from the key tables the loader checks keys
// against) and step_schema_defs(). What `schema` keeps: the objects' other keywords, the value
// types of `$defs` (addresses, durations, ...) and the expectations.
// scenarios/schema/scenario.schema.json is a fixed point: loader_test checks
// scenario_schema(file) == file and, when not, writes the expected file next to itself.
nlohmann::ordered_json scenario_schema(nlohmann::ordered_json schema);

// The keys the loader accepts in an expectation, under the JSON Pointer of their
// `properties` in the schema (that part is written by hand), for a test to compare.
std::vector<std::pair<std::string, std::vector<std::string>>> schema_object_keys();

// Every op with its keys, each marked required or not (from the same descriptors), for
// checks that other descriptions of the format (docs) agree with the loader.
struct OpKeys {
  std::string op;
  std::vector<std::pair<std::string, bool>> keys;  // (key, required), in descriptor order
};
std::vector<OpKeys> op_keys();

// The trace event kinds an expectation's `event` may name (trace-format.md).
const std::vector<std::string>& trace_event_kinds();

// The fields a matcher may name (trace-format.md, extensions included): those every event
// may carry (`event`, `seq`, `t`, `host`, `cause`, `step`) and those of `kind`; with `kind`
// empty, those of every kind. Empty for an unknown kind.
std::vector<std::string> trace_event_fields(std::string_view kind);
// The fields of a `packet` object (and of an ICMP error's `inner` packet).
const std::vector<std::string>& trace_packet_fields();

}  // namespace netsim::scenario
