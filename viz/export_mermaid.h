// Mermaid sequenceDiagram of a trace, for pull requests: a participant per host, an arrow per
// delivery (from the host that first sent the packet) and per drop (a cross), notes for the demux
// verdict, severing, errors and failed expectations. Long traces are cut at kMermaidMaxMessages
// with a final note saying how much was left out.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace netsim {

inline constexpr size_t kMermaidMaxMessages = 400;

std::string export_mermaid(const std::vector<nlohmann::json>& lines);

}  // namespace netsim
