// The single-file HTML viewer: viz/viewer/viewer.{html,css,js} (embedded at build time, see
// viz/viewer_assets.h) with the trace inlined in a <script type="application/json"> in a compact
// encoding (netsim-viewer/1, below). No network access; the same trace gives the same bytes.
// The page embeds at most ExportOptions::viewer_max_events events (and viewer_max_bytes bytes of
// them); past that ceiling it holds a window of the trace and says so at the top.
//
// netsim-viewer/1: {"format":"netsim-viewer/1","header":H,"summary":S|null,"window":W|null,
// "shapes":[[key,...],...],"strings":[text,...],"events":[E,...]}. An event object is
// [shape, value...] with the values in the order of the shape's keys; a list is [-1, item...];
// [-2, i] is strings[i] (text seen before); other text, numbers, booleans and null are themselves;
// an object written as an object is taken as it is. '<' is written \u003c throughout.
#pragma once

#include <memory>
#include <ostream>

#include "viz/trace_exporter.h"

namespace netsim {

std::unique_ptr<TraceExporter> make_html_exporter(std::ostream& out, const ExportOptions& options);

}  // namespace netsim
