#include "viz/export_html.h"

#include <map>
#include <string>
#include <vector>

#include "viz/export_trace_view.h"
#include "viz/spool.h"
#include "viz/viewer_assets.h"

namespace netsim {

namespace {

using nlohmann::json;

constexpr size_t kMaxShapes = 4096;      // past it, objects are written as objects
constexpr size_t kMaxStrings = 65536;    // past it, text is written as text
constexpr size_t kMaxInterned = 64;      // longer text is written as text

// '<' only occurs inside JSON strings, where \u003c is the same character: no "</script>" or
// "<!--" can end or confuse the script element.
void append_embeddable(std::string& out, const json& v) {
  for (char c : v.dump(-1, ' ', false, json::error_handler_t::replace)) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
}

class HtmlExporter : public TraceExporter {
 public:
  HtmlExporter(std::ostream& out, const ExportOptions& options) : out_(out), options_(options) {}

  void start(const TraceReader&) override {}

  void emit(const json& e, uint64_t) override {
    int64_t seq = exporting::int_field(e, "seq"), t = exporting::int_field(e, "t");
    if (embedded_ >= options_.viewer_max_events || spool_.size() >= options_.viewer_max_bytes) {
      ++left_out_;
      return;
    }
    if (embedded_ == 0) {
      first_seq_ = seq;
      first_t_ = t;
    }
    last_seq_ = seq;
    last_t_ = t;
    std::string encoded = embedded_ == 0 ? "" : ",\n";
    encode(e, encoded);
    spool_.write(encoded);
    ++embedded_;
  }

  void finish(const TraceReader& trace) override {
    const std::string title = exporting::xml_escape(trace.scenario());
    exporting::fill_template(viewer_assets::kHtml, out_, [&](std::string_view name, std::ostream& out) {
      if (name == "TITLE") out << title;
      else if (name == "CSS") out << viewer_assets::kCss;
      else if (name == "JS") out << viewer_assets::kJs;
      else if (name == "WINDOW") out << window_note(trace);
      else if (name == "TRACE") write_trace(trace);
      else return false;
      return true;
    });
  }

  size_t held() const override { return shapes_.size() + strings_.size(); }

 private:
  bool windowed() const { return left_out_ > 0 || options_.from_ns || options_.to_ns; }

  uint64_t total_events(const TraceReader& trace) const {
    const json* s = trace.summary();
    if (s && s->contains("events") && !options_.from_ns && !options_.to_ns) {
      return (*s)["events"].get<uint64_t>();
    }
    return embedded_ + left_out_;
  }

  // The note at the top of a page that holds a window of the trace; empty otherwise.
  std::string window_note(const TraceReader& trace) const {
    if (!windowed()) return "";
    std::string what = embedded_ == 0
                           ? "no events"
                           : "events seq " + std::to_string(first_seq_) + " to " +
                                 std::to_string(last_seq_) + " (t " +
                                 exporting::format_time(first_t_) + " to " +
                                 exporting::format_time(last_t_) + ")";
    std::string note = "Window: this page holds " + what + ", " + std::to_string(embedded_) +
                       " of " + std::to_string(total_events(trace)) + " events";
    if (options_.from_ns || options_.to_ns) {
      note += " (asked for t " + exporting::format_time(options_.from_ns.value_or(0)) + " to " +
              (options_.to_ns ? exporting::format_time(*options_.to_ns) : std::string("the end")) + ")";
    }
    note += ".";
    if (left_out_ > 0) {
      note += " The viewer embeds at most " + std::to_string(options_.viewer_max_events) +
              " events; " + std::to_string(left_out_) + " later ones are left out.";
    }
    note += " Choose another window with netsim export TRACE --from TIME --to TIME -o PAGE.html.";
    return "<p id=\"window-note\" role=\"note\">" + exporting::xml_escape(note) + "</p>";
  }

  void write_trace(const TraceReader& trace) {
    std::string head = "{\"format\":\"netsim-viewer/1\",\"header\":";
    append_embeddable(head, trace.header());
    head += ",\"summary\":";
    append_embeddable(head, trace.summary() ? *trace.summary() : json());
    head += ",\"window\":";
    json window;
    if (windowed()) {
      window = {{"embedded", embedded_}, {"total", total_events(trace)},
                {"ceiling", options_.viewer_max_events}};
      if (embedded_ > 0) {
        window["from_seq"] = first_seq_;
        window["to_seq"] = last_seq_;
        window["from_t"] = first_t_;
        window["to_t"] = last_t_;
      }
    }
    append_embeddable(head, window);
    head += ",\"shapes\":[";
    for (size_t k = 0; k < shape_keys_.size(); ++k) {
      if (k) head += ",";
      append_embeddable(head, shape_keys_[k]);
    }
    head += "],\"strings\":";
    append_embeddable(head, json(string_list_));
    head += ",\n\"events\":[";
    out_ << head;
    spool_.copy_to(out_);
    out_ << "]}";
  }

  void encode(const json& v, std::string& out) {
    if (v.is_array()) {
      out += "[-1";
      for (const json& x : v) {
        out += ",";
        encode(x, out);
      }
      out += "]";
      return;
    }
    if (v.is_string()) {
      encode_string(v.get_ref<const std::string&>(), out);
      return;
    }
    if (!v.is_object()) {
      append_embeddable(out, v);
      return;
    }
    std::string key;
    for (const auto& [k, x] : v.items()) key += k + '\0';
    auto it = shapes_.find(key);
    if (it == shapes_.end()) {
      if (shapes_.size() >= kMaxShapes) {
        append_embeddable(out, v);
        return;
      }
      it = shapes_.emplace(key, shapes_.size()).first;
      json keys = json::array();
      for (const auto& [k, x] : v.items()) keys.push_back(k);
      shape_keys_.push_back(std::move(keys));
    }
    out += "[" + std::to_string(it->second);
    for (const auto& [k, x] : v.items()) {
      out += ",";
      encode(x, out);
    }
    out += "]";
  }

  // Text seen before is [-2, index] into "strings" where that is shorter.
  void encode_string(const std::string& s, std::string& out) {
    if (s.size() <= kMaxInterned) {
      auto it = strings_.find(s);
      if (it != strings_.end()) {
        std::string ref = "[-2," + std::to_string(it->second) + "]";
        if (ref.size() < s.size() + 2) {
          out += ref;
          return;
        }
      } else if (strings_.size() < kMaxStrings) {
        strings_.emplace(s, string_list_.size());
        string_list_.push_back(s);
      }
    }
    append_embeddable(out, json(s));
  }

  std::ostream& out_;
  ExportOptions options_;
  Spool spool_;
  std::map<std::string, size_t> shapes_;  // keys joined by NUL -> shape index
  std::vector<json> shape_keys_;
  std::map<std::string, size_t> strings_;  // text -> index in string_list_
  std::vector<std::string> string_list_;
  uint64_t embedded_ = 0, left_out_ = 0;
  int64_t first_seq_ = 0, last_seq_ = 0, first_t_ = 0, last_t_ = 0;
};

}  // namespace

std::unique_ptr<TraceExporter> make_html_exporter(std::ostream& out, const ExportOptions& options) {
  return std::make_unique<HtmlExporter>(out, options);
}

}  // namespace netsim
