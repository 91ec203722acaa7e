// Graphviz DOT of the topology: a node per host (an HTML-like table with a row per interface and
// its addresses, each listed once; routers shaded; a last row with the routes packets took out of
// the host: destination prefix -> interface (next hop), from its tx events, since the trace holds
// no routing tables), an edge per point-to-point link and a hub node per shared segment, labelled
// with latency, bandwidth, loss and queue. Addresses a step added or removed are shown with their
// time (the first 32 changes per interface, then a count), removed ones struck through. Names may
// hold any character: each is escaped for the place it appears in.
#pragma once

#include <memory>
#include <ostream>

#include "viz/trace_exporter.h"

namespace netsim {

std::unique_ptr<TraceExporter> make_dot_exporter(std::ostream& out);

}  // namespace netsim
