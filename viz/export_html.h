// The single-file HTML viewer: viz/viewer/viewer.{html,css,js} (embedded at build time, see
// viz/viewer_assets.h) with the trace inlined as JSON in a
// <script type="application/json">. No network access; the same trace gives the same bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace netsim {

// The trace lines as one JSON array, safe inside a <script> element: every '<' is written \u003c.
std::string embeddable_trace_json(const std::vector<nlohmann::json>& lines);

std::string export_html(const std::vector<nlohmann::json>& lines);

}  // namespace netsim
