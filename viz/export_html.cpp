#include "viz/export_html.h"

#include "viz/export_trace_view.h"
#include "viz/viewer_assets.h"

namespace netsim {

std::string embeddable_trace_json(const std::vector<nlohmann::json>& lines) {
  std::string out = "[";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += ",\n";
    // '<' only occurs inside JSON strings, where \u003c is the same character: no "</script>"
    // or "<!--" can end or confuse the script element.
    std::string line = lines[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    for (char c : line) {
      if (c == '<') {
        out += "\\u003c";
      } else {
        out += c;
      }
    }
  }
  return out + "]";
}

std::string export_html(const std::vector<nlohmann::json>& lines) {
  exporting::TraceView view(lines);
  const std::string title = exporting::xml_escape(view.scenario());
  const std::string trace = embeddable_trace_json(lines);
  std::string_view tpl = viewer_assets::kHtml;
  std::string out;
  out.reserve(tpl.size() + viewer_assets::kCss.size() + viewer_assets::kJs.size() + trace.size());
  // One pass over the template: substituted text is never searched again.
  size_t at = 0;
  while (true) {
    size_t p = tpl.find("@@", at);
    size_t q = p == std::string_view::npos ? p : tpl.find("@@", p + 2);
    if (q == std::string_view::npos) {
      out += tpl.substr(at);
      break;
    }
    std::string_view name = tpl.substr(p + 2, q - p - 2);
    out += tpl.substr(at, p - at);
    if (name == "TITLE") {
      out += title;
    } else if (name == "CSS") {
      out += viewer_assets::kCss;
    } else if (name == "JS") {
      out += viewer_assets::kJs;
    } else if (name == "TRACE") {
      out += trace;
    } else {
      out += tpl.substr(p, q + 2 - p);
    }
    at = q + 2;
  }
  return out;
}

}  // namespace netsim
