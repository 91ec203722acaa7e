// Chrome trace event format (JSON object form) as ui.perfetto.dev loads it: a process per host
// (pids from 2; pid 1 is the network: links, link steps, expectations), a track per interface
// and per socket (tids unique in the file, since Perfetto names a thread by its tid alone),
// zero-length slices for events, a slice per socket lifetime on its track, async slices per link
// for packets in flight (send to arrival), and a flow arrow (flow v2, `bind_id`) from each
// packet's first send to where it ends. Times are microseconds with nanosecond decimals; the
// file does not rely on `displayTimeUnit`. docs/exports.md states the layout.
#pragma once

#include <memory>
#include <ostream>

#include "viz/trace_exporter.h"

namespace netsim {

std::unique_ptr<TraceExporter> make_chrome_exporter(std::ostream& out);

}  // namespace netsim
