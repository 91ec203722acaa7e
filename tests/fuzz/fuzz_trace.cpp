// libFuzzer target: bytes -> TraceReader -> every export (pcapng, Chrome JSON, DOT, Mermaid,
// HTML) in one pass, as `run --out` and `netsim export` do. A bad trace must be a
// TraceReadError naming its line ("fuzz.jsonl:N: ..."); anything else thrown, a crash, a leak,
// undefined behaviour or an output far larger than the input fails. Built with -DNETSIM_FUZZ=ON
// by clang (tests/fuzz/CMakeLists.txt); run by .ci/run for 45 s under ASan/UBSan.
//
//   build-fuzz/tests/fuzz/fuzz_trace -dict=tests/fuzz/trace.dict CORPUS_DIR build-fuzz/tests/fuzz/seed-trace
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "viz/export.h"

namespace {

// Output that is counted and dropped.
class CountingOutput : public std::streambuf {
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::vector<CountingOutput> sinks(std::size(netsim::kAllExportFormats));
  std::vector<std::unique_ptr<std::ostream>> outs;
  std::vector<std::unique_ptr<netsim::TraceExporter>> exporters;
  std::vector<netsim::TraceExporter*> raw;
  netsim::ExportOptions options;
  options.viewer_max_events = 1000;
  for (size_t k = 0; k < sinks.size(); ++k) {
    outs.push_back(std::make_unique<std::ostream>(&sinks[k]));
    exporters.push_back(netsim::make_exporter(netsim::kAllExportFormats[k], *outs.back(), options));
    raw.push_back(exporters.back().get());
  }
  try {
    netsim::TraceReader reader(in, "fuzz.jsonl");
    netsim::run_exporters(reader, raw, options);
  } catch (const netsim::TraceReadError& e) {
    if (std::string(e.what()).rfind("fuzz.jsonl:", 0) != 0) {
      std::fprintf(stderr, "a trace error that names no line: %s\n", e.what());
      std::abort();
    }
    return 0;
  }
  // A packet line of ~100 bytes may become a 64 KiB pcapng block; nothing grows faster, so an
  // output past 1024 bytes per input byte (plus the viewer's own ~100 KiB) is out of proportion.
  for (const CountingOutput& s : sinks) {
    if (s.bytes > 1024 * static_cast<uint64_t>(size) + 256 * 1024) {
      std::fprintf(stderr, "an export of %zu bytes of trace wrote %llu bytes\n", size,
                   static_cast<unsigned long long>(s.bytes));
      std::abort();
    }
  }
  return 0;
}
