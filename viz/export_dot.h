// Graphviz DOT of the topology: a node per host (an HTML-like table with a row per interface and
// its addresses; routers shaded), an edge per point-to-point link and a hub node per shared
// segment, labelled with latency, bandwidth, loss and queue. Addresses added later in the trace are
// shown with their time, removed ones struck through.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace netsim {

std::string export_dot(const std::vector<nlohmann::json>& lines);

}  // namespace netsim
