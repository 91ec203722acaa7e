// Text helpers shared by the exporters: field accessors (the TraceReader has checked every field
// they read; a trace from a newer simulator may add fields, which exporters ignore), endpoints,
// packet summaries, virtual time for people and the escapes of each output language.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace netsim::exporting {

using nlohmann::json;

std::string str_field(const json& j, std::string_view key, std::string_view fallback = "");
int64_t int_field(const json& j, std::string_view key, int64_t fallback = 0);

// "10.0.0.1:80", "[fd00::1]:80", "10.0.0.1", "fd00::1" (port -1 when absent).
struct Endpoint {
  std::string address;
  int port = -1;
  bool v6 = false;
};
Endpoint parse_endpoint(std::string_view text);

// A socket's binding as a listen/connect `step` (or an `accept`) gives it: "10.0.0.1:80 > 10.0.0.2:4000"
// for a connection, "10.0.0.1,10.0.0.11:80" or "*:80" for a listener, "" when it gives none.
std::string binding_text(const json& event);

// "TCP 10.0.0.100:49152 > 10.0.1.1:80 [S] seq 1000 ack 0 len 0", "UDP ... len 5",
// "ICMP port_unreachable 10.0.0.1 > 10.0.0.100".
std::string packet_summary(const json& packet);
// Virtual time for people: "0", "1ms", "1.000264ms", "2.5s".
std::string format_time(int64_t ns);
// Text for XML/HTML content and attributes: & < > " as entities; control characters other
// than tab and newline (not allowed in XML 1.0) as spaces.
std::string xml_escape(std::string_view s);
// Text kept on one line (a comment line, a quoted name): every control character, newline
// included, becomes a space.
std::string one_line(std::string_view s);
// Text for a one-line human report that shows what it holds: each control character as JSON
// writes it (`\n`, `\t`, `\u0000`, `\u007f`); everything else, backslashes included, as it is.
std::string escape_controls(std::string_view s);

// Writes a page template to `out`, replacing each `@@NAME@@` by what `substitute(NAME, out)`
// writes; `substitute` returns false for a name it does not know, which is then copied as it
// stands. One pass: substituted text is never searched for markers again.
void fill_template(std::string_view tpl, std::ostream& out,
                   const std::function<bool(std::string_view name, std::ostream& out)>& substitute);

}  // namespace netsim::exporting
