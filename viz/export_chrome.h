// Chrome trace event format (JSON object form), as read by Perfetto and chrome://tracing: a
// process per host, a thread (track) per interface and per socket, 1 ns slices for events, async
// slices for packets in flight on links, flow arrows from a packet's send to its delivery or drop,
// and instants for address, interface and link changes and severing. Times are in microseconds.
#pragma once

#include <memory>
#include <ostream>

#include "viz/trace_exporter.h"

namespace netsim {

std::unique_ptr<TraceExporter> make_chrome_exporter(std::ostream& out);

}  // namespace netsim
