#include "viz/export.h"

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>

#include "viz/export_chrome.h"
#include "viz/export_dot.h"
#include "viz/export_html.h"
#include "viz/export_mermaid.h"
#include "viz/export_pcapng.h"
#include "viz/output_file.h"

namespace netsim {

namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitInvalid = 3;

constexpr std::string_view kUsage =
    "usage: netsim export TRACE.jsonl [--format pcapng|chrome|dot|mermaid|html] [--from TIME]\n"
    "                     [--to TIME] [--max-events N] [--capture tx|rx|both] -o OUT\n"
    "  The format defaults to OUT's extension (.pcapng .json .dot .mmd .html); TRACE or OUT - is\n"
    "  stdin or stdout. --from/--to keep the events in that span of virtual time (1500, 20us,\n"
    "  3ms, 2s); --max-events is the viewer's ceiling (default 200000): past it the page holds a\n"
    "  window of the trace and says so at the top. --capture chooses the pcapng's packets: tx\n"
    "  (default) each packet once per link, at the sender; rx at the receiver; both.\n";

std::optional<ExportFormat> format_from_extension(const std::string& out) {
  auto ends = [&](std::string_view s) {
    return out.size() >= s.size() && out.compare(out.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".pcapng")) return ExportFormat::kPcapng;
  if (ends(".json")) return ExportFormat::kChrome;
  if (ends(".dot") || ends(".gv")) return ExportFormat::kDot;
  if (ends(".mmd") || ends(".mermaid")) return ExportFormat::kMermaid;
  if (ends(".html") || ends(".htm")) return ExportFormat::kHtml;
  return std::nullopt;
}

// "1500" (ns), "20us", "3ms", "2s": integral virtual time in nanoseconds.
std::optional<int64_t> parse_time(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 18) return std::nullopt;
  int64_t value = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  int64_t scale = unit.empty() || unit == "ns" ? 1 : unit == "us" ? 1000 : unit == "ms" ? 1000000
                : unit == "s" ? 1000000000 : 0;
  if (scale == 0 || value > kMaxTraceTime / scale) return std::nullopt;
  return value * scale;
}

// An OutputFile (viz/output_file.h) whose failures throw, as the export functions report them.
class AtomicOutput {
 public:
  explicit AtomicOutput(const fs::path& path) {
    std::string error;
    file_ = OutputFile::open(path.string(), &error);
    if (!file_) throw std::runtime_error("cannot write " + error);
  }
  std::ostream& stream() { return file_->stream(); }
  void commit() {
    std::string error;
    if (!file_->commit(&error)) throw std::runtime_error("cannot write " + error);
  }

 private:
  std::unique_ptr<OutputFile> file_;
};

bool in_window(const nlohmann::json& e, const ExportOptions& o) {
  int64_t t = e["t"].get<int64_t>();
  return (!o.from_ns || t >= *o.from_ns) && (!o.to_ns || t <= *o.to_ns);
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "pcapng") return ExportFormat::kPcapng;
  if (name == "chrome" || name == "perfetto") return ExportFormat::kChrome;
  if (name == "dot") return ExportFormat::kDot;
  if (name == "mermaid") return ExportFormat::kMermaid;
  if (name == "html") return ExportFormat::kHtml;
  return std::nullopt;
}

std::optional<PcapngCapture> parse_capture(std::string_view name) {
  if (name == "tx") return PcapngCapture::kTx;
  if (name == "rx") return PcapngCapture::kRx;
  if (name == "both") return PcapngCapture::kBoth;
  return std::nullopt;
}

std::string_view to_string(ExportFormat f) {
  switch (f) {
    case ExportFormat::kPcapng: return "pcapng";
    case ExportFormat::kChrome: return "chrome";
    case ExportFormat::kDot: return "dot";
    case ExportFormat::kMermaid: return "mermaid";
    case ExportFormat::kHtml: return "html";
  }
  return "?";
}

std::string_view export_file_name(ExportFormat f) {
  switch (f) {
    case ExportFormat::kPcapng: return "trace.pcapng";
    case ExportFormat::kChrome: return "trace.chrome.json";
    case ExportFormat::kDot: return "topology.dot";
    case ExportFormat::kMermaid: return "sequence.mmd";
    case ExportFormat::kHtml: return "viewer.html";
  }
  return "export";
}

std::unique_ptr<TraceExporter> make_exporter(ExportFormat f, std::ostream& out,
                                             const ExportOptions& options) {
  switch (f) {
    case ExportFormat::kPcapng: return make_pcapng_exporter(out, options.capture);
    case ExportFormat::kChrome: return make_chrome_exporter(out);
    case ExportFormat::kDot: return make_dot_exporter(out);
    case ExportFormat::kMermaid: return make_mermaid_exporter(out);
    case ExportFormat::kHtml: return make_html_exporter(out, options);
  }
  return nullptr;
}

void run_exporters(TraceReader& trace, const std::vector<TraceExporter*>& exporters,
                   const ExportOptions& options) {
  // Events read but not yet emitted: at most kLookahead.
  std::deque<std::pair<uint64_t, nlohmann::json>> window;
  bool started = false;
  auto emit_oldest = [&] {
    if (!started) {
      for (TraceExporter* x : exporters) x->start(trace);
      started = true;
    }
    for (TraceExporter* x : exporters) x->emit(window.front().second, window.front().first);
    window.pop_front();
  };
  uint64_t index = 0;
  nlohmann::json event;
  while (trace.next(event)) {
    if (!in_window(event, options)) continue;
    for (TraceExporter* x : exporters) x->look(event, index);
    window.emplace_back(index++, std::move(event));
    if (window.size() > kLookahead) emit_oldest();
  }
  while (!window.empty()) emit_oldest();
  if (!started) {
    for (TraceExporter* x : exporters) x->start(trace);
  }
  for (TraceExporter* x : exporters) x->finish(trace);
}

void export_trace(std::istream& in, const std::string& name, ExportFormat f, std::ostream& out,
                  const ExportOptions& options) {
  TraceReader trace(in, name);
  auto exporter = make_exporter(f, out, options);
  run_exporters(trace, {exporter.get()}, options);
}

void export_file(std::istream& in, const std::string& name, ExportFormat f, const fs::path& path,
                 const ExportOptions& options) {
  AtomicOutput out(path);
  export_trace(in, name, f, out.stream(), options);
  out.commit();
}

void export_all(std::istream& in, const std::string& name, const fs::path& dir,
                const ExportOptions& options) {
  fs::create_directories(dir);
  TraceReader trace(in, name);
  std::vector<std::unique_ptr<AtomicOutput>> files;
  std::vector<std::unique_ptr<TraceExporter>> owned;
  std::vector<TraceExporter*> exporters;
  for (ExportFormat f : kAllExportFormats) {
    files.push_back(std::make_unique<AtomicOutput>(dir / export_file_name(f)));
    owned.push_back(make_exporter(f, files.back()->stream(), options));
    exporters.push_back(owned.back().get());
  }
  run_exporters(trace, exporters, options);
  owned.clear();
  for (auto& file : files) file->commit();
}

const std::vector<ExportFlag>& export_flags() {
  static const std::vector<ExportFlag> flags = [] {
    std::vector<std::string> formats;
    for (ExportFormat f : kAllExportFormats) formats.emplace_back(to_string(f));
    return std::vector<ExportFlag>{
        {"--format", "FORMAT", formats, "the export (default: the one OUT's extension names: .pcapng .json .dot .mmd .html)"},
        {"-o,--output", "OUT", {}, "the file to write (- for standard output)"},
        {"--from", "TIME", {}, "keep the events from this virtual time (1500, 20us, 3ms, 2s)"},
        {"--to", "TIME", {}, "keep the events up to this virtual time"},
        {"--max-events", "N", {}, "the viewer's ceiling (default 200000): past it the page holds a window of the trace"},
        {"--capture", "WHICH", {"tx", "rx", "both"},
         "the pcapng's packets: tx (default: each packet once per link, at the sender), rx (at the receiver) or both"},
    };
  }();
  return flags;
}

int export_main(const std::vector<std::string>& args) {
  std::string trace, out;
  std::optional<ExportFormat> format;
  ExportOptions options;
  auto usage = [](const std::string& what) {
    std::cerr << "netsim export: " << what << "\n" << kUsage;
    return kExitUsage;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // "--flag VALUE" or "--flag=VALUE"; nullopt when `a` is not that flag.
    auto value = [&](std::string_view flag) -> std::optional<std::string> {
      if (a == flag) return i + 1 < args.size() ? std::optional<std::string>(args[++i]) : std::string();
      std::string prefix = std::string(flag) + "=";
      if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
      return std::nullopt;
    };
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (auto v = value("--format")) {
      if (!(format = parse_export_format(*v))) return usage("unknown format '" + *v + "'");
    } else if (auto o = value("-o"); o || (o = value("--output"))) {
      if (o->empty()) return usage("-o needs a file");
      out = *o;
    } else if (auto f = value("--from")) {
      if (!(options.from_ns = parse_time(*f))) return usage("--from wants a time such as 1500, 20us, 3ms or 2s, not '" + *f + "'");
    } else if (auto t = value("--to")) {
      if (!(options.to_ns = parse_time(*t))) return usage("--to wants a time such as 1500, 20us, 3ms or 2s, not '" + *t + "'");
    } else if (auto c = value("--capture")) {
      auto mode = parse_capture(*c);
      if (!mode) return usage("--capture wants tx, rx or both, not '" + *c + "'");
      options.capture = *mode;
    } else if (auto m = value("--max-events")) {
      auto n = parse_time(*m);  // a plain count: digits only
      if (!n || *n < 1 || m->find_first_not_of("0123456789") != std::string::npos) {
        return usage("--max-events wants a count >= 1, not '" + *m + "'");
      }
      options.viewer_max_events = static_cast<size_t>(*n);
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      return usage("unknown option '" + a + "'");
    } else if (trace.empty()) {
      trace = a;
    } else {
      return usage("one trace at a time");
    }
  }
  if (trace.empty() || out.empty()) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  if (options.from_ns && options.to_ns && *options.from_ns > *options.to_ns) {
    return usage("--from is after --to");
  }
  if (!format) format = format_from_extension(out);
  if (!format) return usage("say --format; '" + out + "' has no known extension");

  if (trace != "-" && out != "-" && same_file(out, trace))
    return usage("cannot write " + out + ": it is the trace (refusing to replace it)");
  std::ifstream file;
  if (trace != "-") {
    std::error_code ec;
    if (fs::is_directory(trace, ec)) return usage(trace + " is a directory, not a trace");
    file.open(trace, std::ios::binary);
    if (!file) {
      std::cerr << "netsim export: cannot read " << trace << ": " << std::strerror(errno) << "\n";
      return kExitUsage;
    }
  }
  std::istream& in = trace == "-" ? std::cin : file;
  const std::string name = trace == "-" ? "<stdin>" : trace;
  try {
    if (out == "-") {
      export_trace(in, name, *format, std::cout, options);
      std::cout.flush();
    } else {
      export_file(in, name, *format, out, options);
    }
  } catch (const TraceReadError& e) {
    std::cerr << e.what() << "\n";
    return kExitInvalid;
  } catch (const std::runtime_error& e) {
    std::cerr << "netsim export: " << e.what() << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace netsim
