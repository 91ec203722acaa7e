// Exports of a JSONL trace (docs/trace-format.md): pcapng, Chrome/Perfetto JSON, Graphviz
// DOT, Mermaid and a single-file HTML viewer. Every export reads the trace once, line by line,
// through a TraceReader (every field checked), with memory bounded by the topology, the sockets
// and a fixed lookahead (viz/trace_exporter.h), never by the number of events; the same trace
// always gives the same bytes. `netsim export` is export_main(); `netsim run --out DIR` calls
// export_all() on the trace file it wrote. docs/exports.md states the limits.
#pragma once

#include <filesystem>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "viz/trace_exporter.h"
#include "viz/trace_reader.h"

namespace netsim {

enum class ExportFormat { kPcapng, kChrome, kDot, kMermaid, kHtml };

inline constexpr ExportFormat kAllExportFormats[] = {
    ExportFormat::kPcapng, ExportFormat::kChrome, ExportFormat::kDot, ExportFormat::kMermaid,
    ExportFormat::kHtml};

// "pcapng", "chrome" (also "perfetto"), "dot", "mermaid", "html".
std::optional<ExportFormat> parse_export_format(std::string_view name);
std::string_view to_string(ExportFormat f);
// "tx", "rx", "both" (`--capture`).
std::optional<PcapngCapture> parse_capture(std::string_view name);
// File name used by export_all(): "trace.pcapng", "trace.chrome.json", "topology.dot",
// "sequence.mmd", "viewer.html".
std::string_view export_file_name(ExportFormat f);

std::unique_ptr<TraceExporter> make_exporter(ExportFormat f, std::ostream& out,
                                             const ExportOptions& options = {});

// Reads the trace once and feeds every exporter (look, start, emit, finish). Throws
// TraceReadError ("NAME:LINE: what") for a bad trace, std::runtime_error for an I/O error.
void run_exporters(TraceReader& trace, const std::vector<TraceExporter*>& exporters,
                   const ExportOptions& options = {});

// One export of the trace read from `trace` (named `name` in errors) onto `out`.
void export_trace(std::istream& trace, const std::string& name, ExportFormat f, std::ostream& out,
                  const ExportOptions& options = {});

// One export into the file `path`, written atomically (a temporary in the same directory, renamed
// over it; a symlink is written through; anything else that is not a regular file is refused).
void export_file(std::istream& trace, const std::string& name, ExportFormat f,
                 const std::filesystem::path& path, const ExportOptions& options = {});

// Every format into `dir` (created if missing) under export_file_name(), in one pass over the
// trace, each file written atomically.
void export_all(std::istream& trace, const std::string& name, const std::filesystem::path& dir,
                const ExportOptions& options = {});

// The options `netsim export` accepts, for its help, the man page and shell completion
// (scenarios/cli_doc.h): `names` as CLI11 spells them ("-o,--output"), the value's name, the
// accepted words (empty: any), the help text. export_main() parses exactly these (tested).
struct ExportFlag {
  std::string_view names;
  std::string_view value;
  std::vector<std::string> choices;
  std::string_view help;
};
const std::vector<ExportFlag>& export_flags();

// `netsim export TRACE [--format F] [--from T] [--to T] [--max-events N] -o OUT` (arguments after
// "export"). The format defaults to the one OUT's extension names; TRACE or OUT "-" is standard
// input or output. Returns the process exit code: 0 done, 2 usage error or a file that cannot be
// read or written, 3 not a valid trace (the message names its line).
int export_main(const std::vector<std::string>& args);

}  // namespace netsim
