// The HTML viewer's sources, viz/viewer/viewer.{html,css,js}, as string constants. The
// definitions are generated at build time by viz/viewer/embed.cmake (see CMakeLists.txt); a
// unit test checks they equal the sources byte for byte.
#pragma once

#include <string_view>

namespace netsim::viewer_assets {

extern const std::string_view kHtml;  // template with @@TITLE@@, @@CSS@@, @@TRACE@@, @@JS@@
extern const std::string_view kCss;
extern const std::string_view kJs;

}  // namespace netsim::viewer_assets
