// Mermaid sequenceDiagram of a trace, for pull requests: a participant per host, an arrow per
// delivery (from the host that first sent the packet), per ping reply (with its round trip), per
// ICMP packet that arrives and ends there (an echo request, an error), and per drop (a cross);
// notes for the steps other than send and ping (listen, connect, close, ...: what makes a socket
// shadowed or uncovered), the demux verdict, address changes made by steps, severing, errors and
// failed expectations. Long traces are cut at kMermaidMaxMessages with a final note saying how
// much was left out.
#pragma once

#include <cstddef>
#include <memory>
#include <ostream>

#include "viz/trace_exporter.h"

namespace netsim {

inline constexpr size_t kMermaidMaxMessages = 400;

std::unique_ptr<TraceExporter> make_mermaid_exporter(std::ostream& out);

}  // namespace netsim
