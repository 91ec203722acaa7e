// Exports of a JSONL trace (shared/spec/trace-format.md): pcapng, Chrome/Perfetto JSON, Graphviz
// DOT, Mermaid and a single-file HTML viewer. Every export is a pure function of the trace lines
// (header .. summary), so the same trace always gives the same bytes. `netsim export` is
// export_main(); `netsim run --out DIR` can call export_all().
#pragma once

#include <filesystem>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace netsim {

enum class ExportFormat { kPcapng, kChrome, kDot, kMermaid, kHtml };

inline constexpr ExportFormat kAllExportFormats[] = {
    ExportFormat::kPcapng, ExportFormat::kChrome, ExportFormat::kDot, ExportFormat::kMermaid,
    ExportFormat::kHtml};

// "pcapng", "chrome" (also "perfetto"), "dot", "mermaid", "html".
std::optional<ExportFormat> parse_export_format(std::string_view name);
std::string_view to_string(ExportFormat f);
// File name used by export_all(): "trace.pcapng", "trace.chrome.json", "topology.dot",
// "sequence.mmd", "viewer.html".
std::string_view export_file_name(ExportFormat f);

// A trace that cannot be read: not JSON Lines, or no netsim-trace header first.
class TraceReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads every line of a JSONL trace. Throws TraceReadError with the line number.
std::vector<nlohmann::json> read_trace(std::istream& in);

// Requires: lines[0] is the header (read_trace() checks it). A missing summary is tolerated.
std::string export_trace(const std::vector<nlohmann::json>& lines, ExportFormat f);

// Writes every format into `dir` (created if missing) under export_file_name(). Throws
// std::runtime_error when a file cannot be written.
void export_all(const std::vector<nlohmann::json>& lines, const std::filesystem::path& dir);

// `netsim export TRACE [--format F] -o OUT` (arguments after "export"). The format defaults to
// the one OUT's extension names; OUT "-" is standard output. Returns the process exit code:
// 0 done, 2 usage error or unreadable file, 3 not a valid trace.
int export_main(const std::vector<std::string>& args);

}  // namespace netsim
