#include "viz/export.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "viz/export_chrome.h"
#include "viz/export_dot.h"
#include "viz/export_html.h"
#include "viz/export_mermaid.h"
#include "viz/export_pcapng.h"

namespace netsim {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitInvalid = 3;

constexpr std::string_view kUsage =
    "usage: netsim export TRACE.jsonl [--format pcapng|chrome|dot|mermaid|html] -o OUT\n"
    "  The format defaults to OUT's extension (.pcapng .json .dot .mmd .html); OUT - is stdout.\n";

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

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "pcapng") return ExportFormat::kPcapng;
  if (name == "chrome" || name == "perfetto") return ExportFormat::kChrome;
  if (name == "dot") return ExportFormat::kDot;
  if (name == "mermaid") return ExportFormat::kMermaid;
  if (name == "html") return ExportFormat::kHtml;
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

std::vector<nlohmann::json> read_trace(std::istream& in) {
  std::vector<nlohmann::json> lines;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line == "\r") continue;
    try {
      lines.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::parse_error& e) {
      throw TraceReadError("line " + std::to_string(number) + ": not JSON: " + e.what());
    }
    if (!lines.back().is_object()) {
      throw TraceReadError("line " + std::to_string(number) + ": not a JSON object");
    }
  }
  if (lines.empty()) throw TraceReadError("empty trace");
  const auto& h = lines.front();
  if (h.value("event", "") != "header" || h.value("format", "").rfind("netsim-trace/", 0) != 0) {
    throw TraceReadError("line 1: not a netsim trace header (want \"format\":\"netsim-trace/1\")");
  }
  return lines;
}

std::string export_trace(const std::vector<nlohmann::json>& lines, ExportFormat f) {
  switch (f) {
    case ExportFormat::kPcapng: return export_pcapng(lines);
    case ExportFormat::kChrome: return export_chrome(lines);
    case ExportFormat::kDot: return export_dot(lines);
    case ExportFormat::kMermaid: return export_mermaid(lines);
    case ExportFormat::kHtml: return export_html(lines);
  }
  return {};
}

void export_all(const std::vector<nlohmann::json>& lines, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  for (ExportFormat f : kAllExportFormats) {
    auto path = dir / export_file_name(f);
    std::ofstream out(path, std::ios::binary);
    out << export_trace(lines, f);
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }
}

int export_main(const std::vector<std::string>& args) {
  std::string trace, out;
  std::optional<ExportFormat> format;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string_view flag) -> std::optional<std::string> {
      if (a == flag) {
        if (i + 1 < args.size()) return args[++i];
        return std::nullopt;
      }
      std::string prefix = std::string(flag) + "=";
      if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
      return std::nullopt;
    };
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (auto v = value("--format"); v || a == "--format" || a.rfind("--format=", 0) == 0) {
      if (!v || !(format = parse_export_format(*v))) {
        std::cerr << "netsim export: unknown format '" << v.value_or("") << "'\n" << kUsage;
        return kExitUsage;
      }
    } else if (auto o = value("-o"); o || a == "-o") {
      if (!o) {
        std::cerr << "netsim export: -o needs a file\n" << kUsage;
        return kExitUsage;
      }
      out = *o;
    } else if (auto o2 = value("--output"); o2) {
      out = *o2;
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      std::cerr << "netsim export: unknown option '" << a << "'\n" << kUsage;
      return kExitUsage;
    } else if (trace.empty()) {
      trace = a;
    } else {
      std::cerr << "netsim export: one trace at a time\n" << kUsage;
      return kExitUsage;
    }
  }
  if (trace.empty() || out.empty()) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  if (!format) format = format_from_extension(out);
  if (!format) {
    std::cerr << "netsim export: say --format; '" << out << "' has no known extension\n";
    return kExitUsage;
  }
  std::vector<nlohmann::json> lines;
  try {
    if (trace == "-") {
      lines = read_trace(std::cin);
    } else {
      std::ifstream in(trace, std::ios::binary);
      if (!in) {
        std::cerr << "netsim export: cannot read " << trace << "\n";
        return kExitUsage;
      }
      lines = read_trace(in);
    }
  } catch (const TraceReadError& e) {
    std::cerr << trace << ": " << e.what() << "\n";
    return kExitInvalid;
  }
  std::string bytes = export_trace(lines, *format);
  if (out == "-") {
    std::cout << bytes << std::flush;
    return kExitOk;
  }
  std::ofstream file(out, std::ios::binary);
  file << bytes;
  file.close();
  if (!file) {
    std::cerr << "netsim export: cannot write " << out << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace netsim
