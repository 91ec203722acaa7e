// The HTML viewer's sources, viz/viewer/viewer.{html,css,js}, and the diff page's,
// viz/viewer/diff.{html,js}, as string constants. The definitions are generated at build time
// by viz/viewer/embed.cmake (see CMakeLists.txt); a unit test checks they equal the sources
// byte for byte.
#pragma once

#include <string_view>

namespace netsim::viewer_assets {

extern const std::string_view kHtml;  // template with @@TITLE@@, @@CSS@@, @@TRACE@@, @@JS@@
extern const std::string_view kCss;
extern const std::string_view kJs;
extern const std::string_view kDiffHtml;  // the diff page (viz/trace_diff.h): @@TITLE@@, @@CSS@@, @@DIFF@@, @@JS@@
extern const std::string_view kDiffJs;

}  // namespace netsim::viewer_assets
