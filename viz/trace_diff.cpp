#include "viz/trace_diff.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "viz/export_trace_view.h"
#include "viz/trace_reader.h"
#include "viz/viewer_assets.h"

namespace netsim {

namespace {

using nlohmann::json;
using exporting::int_field;
using exporting::str_field;

// Which step run an event belongs to is found through `cause`, over this many events.
constexpr uint64_t kCauseWindow = 1 << 16;
// The page embeds at most this many rows (the differing ones first).
constexpr size_t kPageRows = 20000;

std::string join_list(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const json& x : list) {
    if (!x.is_string()) continue;
    if (!out.empty()) out += ", ";
    out += x.get<std::string>();
  }
  return out;
}

// A step's binding as the stack chose it: "local 10.0.0.2:49152", "port 80 on 10.0.0.1".
std::string binding(const json& e) {
  std::string out;
  auto add = [&out](const std::string& text) {
    if (text.empty()) return;
    if (!out.empty()) out += ", ";
    out += text;
  };
  if (e.contains("local")) add("local " + str_field(e, "local"));
  if (e.contains("remote")) add("remote " + str_field(e, "remote"));
  if (e.contains("port") && !e.contains("local")) {
    std::string on = join_list(e.value("addresses", json::array()));
    add("port " + std::to_string(int_field(e, "port")) + (on.empty() ? " (wildcard)" : " on " + on));
  }
  if (e.contains("device")) add("device " + str_field(e, "device"));
  return out;
}

std::string step_label(const json& e) {
  std::string label = str_field(e, "op", "step");
  for (const char* key : {"host", "socket", "interface", "address", "link"})
    if (e.contains(key) && e[key].is_string()) label += " " + e[key].get<std::string>();
  return label;
}

int64_t step_number(const std::string& pointer) {
  // "/steps/12" -> 12; "" (no step) sorts first.
  size_t slash = pointer.rfind('/');
  if (pointer.empty() || slash == std::string::npos) return -1;
  int64_t n = 0;
  for (char c : pointer.substr(slash + 1)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

// ------------------------------------------------------------------ reducing a trace

void DecisionLog::add(const json& line) {
  const std::string kind = str_field(line, "event");
  if (kind == "header") {
    header_ = line;
  } else if (kind == "summary") {
    summary_ = line;
  } else {
    add_event(line);
  }
}

size_t DecisionLog::group_for(const json& e, int64_t t) {
  auto start = [&](const std::string& step, const std::string& label) {
    if (t != now_) {
      now_ = t;
      runs_now_.clear();
    }
    int occurrence = 0;
    for (const auto& [s, g] : runs_now_) occurrence += s == step;
    groups_.push_back({step, t, occurrence, label, {}});
    stepped_.push_back(false);
    runs_now_.emplace_back(step, groups_.size() - 1);
    return groups_.size() - 1;
  };
  // A run's own events come first and its step line last (a send's packet is written before
  // the step's result): an event of a step whose latest run at this t has its step line
  // already is the next run (a `repeat` every 0ns).
  const std::string step = str_field(e, "step");
  const bool is_step = str_field(e, "event") == "step";
  if (!step.empty()) {
    if (t == now_) {
      for (auto it = runs_now_.rbegin(); it != runs_now_.rend(); ++it) {
        if (it->first != step) continue;
        if (stepped_[it->second]) break;
        if (is_step) {
          stepped_[it->second] = true;
          groups_[it->second].label = step_label(e);
        }
        return it->second;
      }
    }
    const size_t g = start(step, is_step ? step_label(e) : "");
    stepped_[g] = is_step;
    return g;
  }
  if (e.contains("cause")) {
    if (const size_t* g = group_of_.find(int_field(e, "cause"))) return *g;
  }
  // Nothing leads back to a step: the run of "no step" at this t.
  if (t == now_) {
    for (auto it = runs_now_.rbegin(); it != runs_now_.rend(); ++it)
      if (it->first.empty()) return it->second;
  }
  return start("", t == 0 && groups_.empty() ? "setup" : "no step (timers, packets in flight)");
}

void DecisionLog::decide(size_t group, const json& e, std::string what, std::string detail) {
  if (decisions_ >= kMaxDecisions) {
    truncated_ = true;
    return;
  }
  ++decisions_;
  if (mode_ == DiffMode::kExact && !detail.empty()) what += " [" + detail + "]";
  groups_[group].decisions.push_back(
      {int_field(e, "seq"), int_field(e, "t"), std::move(what), std::move(detail)});
}

void DecisionLog::add_event(const json& e) {
  const std::string kind = str_field(e, "event");
  const int64_t t = int_field(e, "t"), seq = int_field(e, "seq");
  if (kind == "expect") {
    expectations_.emplace_back(str_field(e, "pointer"), str_field(e, "result"));
    return;
  }
  if (truncated_) return;
  const size_t group = group_for(e, t);
  group_of_.set(seq, index_, group);
  group_of_.forget_before(index_ > kCauseWindow ? index_ - kCauseWindow : 0);
  ++index_;
  const std::string host = str_field(e, "host");
  const std::string socket = str_field(e, "socket");
  std::string packet = e.contains("packet") ? exporting::packet_summary(e["packet"]) : "";
  if (kind == "socket") {  // the binding the stack chose, and a child's listener
    const std::string how = str_field(e, "how");
    decide(group, e,
           "socket " + host + ": " + socket + " (" +
               (how == "child" ? "child of " + str_field(e, "listener") : how) + ")",
           binding(e));
  } else if (kind == "step") {
    std::string what = str_field(e, "op") + " " + host + (socket.empty() ? "" : " " + socket) +
                       " -> " + str_field(e, "result");
    // A trace with socket records has the binding in the step's socket decision already.
    const std::string recorded = "socket " + host + ": " + socket + " (";
    bool has_record = false;
    for (const Decision& d : groups_[group].decisions) has_record |= d.what.rfind(recorded, 0) == 0;
    decide(group, e, std::move(what), has_record ? "" : binding(e));
  } else if (kind == "deliver") {
    std::string detail = "by " + str_field(e, "match");
    std::string shadowed = join_list(e.value("shadowed", json::array()));
    if (!shadowed.empty()) detail += ", shadowed " + shadowed;
    detail += "; " + packet;
    decide(group, e, "deliver " + host + ": " + socket, std::move(detail));
  } else if (kind == "drop") {
    std::string where = e.contains("interface") ? " on " + str_field(e, "interface")
                        : e.contains("link")    ? " on link " + str_field(e, "link")
                                                : "";
    decide(group, e, "drop " + host + ": " + str_field(e, "reason"), packet + where);
  } else if (kind == "accept") {
    decide(group, e, "accept " + host + ": " + str_field(e, "listener") + " -> " + socket,
           str_field(e, "local") + " <-> " + str_field(e, "remote"));
  } else if (kind == "established") {
    decide(group, e, "established " + host + ": " + socket,
           str_field(e, "local") + " <-> " + str_field(e, "remote"));
  } else if (kind == "sever" || kind == "error") {
    decide(group, e, kind + " " + host + ": " + socket + " (" + str_field(e, "error") + ")", "");
  } else if (kind == "close") {
    decide(group, e, "close " + host + ": " + socket, str_field(e, "state"));
  } else if (kind == "guard") {
    guard_ = str_field(e, "guard");
    decide(group, e, "guard " + *guard_, "limit " + std::to_string(int_field(e, "limit")));
  }
}

DecisionLog read_decisions(std::istream& in, const std::string& file, const std::string& name,
                           DiffMode mode) {
  TraceReader reader(in, file);
  DecisionLog log(name, mode);
  log.add(reader.header());
  json e;
  while (reader.next(e)) log.add(e);
  if (reader.summary()) log.add(*reader.summary());
  return log;
}

void DecisionRecorder::write(std::string_view bytes) {
  for (char c : bytes) {
    if (c != '\n') {
      line_.push_back(c);
      continue;
    }
    log_.add(json::parse(line_));
    line_.clear();
  }
}

// ------------------------------------------------------------------ comparing

DecisionDiff diff_decisions(const std::vector<const DecisionLog*>& logs) {
  DecisionDiff diff;
  diff.logs = logs;
  // Step runs line up by (t, step number, step, occurrence): steps at one instant run in file order.
  using Key = std::tuple<int64_t, int64_t, std::string, int>;
  std::map<Key, size_t> rows;
  for (size_t side = 0; side < logs.size(); ++side) {
    for (const DecisionGroup& g : logs[side]->groups()) {
      Key key{g.t, step_number(g.step), g.step, g.occurrence};
      auto [it, fresh] = rows.emplace(key, diff.rows.size());
      if (fresh) {
        DiffRow row;
        row.step = g.step;
        row.t = g.t;
        row.occurrence = g.occurrence;
        row.sides.assign(logs.size(), nullptr);
        diff.rows.push_back(std::move(row));
      }
      DiffRow& row = diff.rows[it->second];
      row.sides[side] = &g;
      if (row.label.empty()) row.label = g.label;
    }
  }
  std::vector<DiffRow> ordered;
  ordered.reserve(diff.rows.size());
  for (const auto& [key, index] : rows) ordered.push_back(std::move(diff.rows[index]));
  diff.rows = std::move(ordered);
  static const std::vector<Decision> kNone;
  for (size_t r = 0; r < diff.rows.size(); ++r) {
    DiffRow& row = diff.rows[r];
    const std::vector<Decision>& base = row.sides[0] ? row.sides[0]->decisions : kNone;
    size_t first = SIZE_MAX;
    for (size_t side = 1; side < logs.size(); ++side) {
      const std::vector<Decision>& other = row.sides[side] ? row.sides[side]->decisions : kNone;
      size_t k = 0;
      while (k < base.size() && k < other.size() && base[k].what == other[k].what) ++k;
      if (k < base.size() || k < other.size()) first = std::min(first, k);
    }
    if (first == SIZE_MAX) continue;
    row.differs = true;
    row.first_difference = first;
    ++diff.differing;
    if (!diff.first) diff.first = r;
  }
  // Expectations by pointer, in the first trace's order then any others.
  std::vector<std::string> pointers;
  std::set<std::string> seen;
  for (const DecisionLog* log : logs)
    for (const auto& [pointer, result] : log->expectations())
      if (seen.insert(pointer).second) pointers.push_back(pointer);
  for (const std::string& pointer : pointers) {
    std::vector<std::string> results;
    for (const DecisionLog* log : logs) {
      std::string result = "-";
      for (const auto& [p, r] : log->expectations())
        if (p == pointer) result = r;
      results.push_back(result);
    }
    if (std::adjacent_find(results.begin(), results.end(), std::not_equal_to<>()) != results.end())
      diff.expectations.emplace_back(pointer, std::move(results));
  }
  return diff;
}

namespace {

std::string row_title(const DiffRow& row) {
  std::string title = "t=" + exporting::format_time(row.t) + " " +
                      (row.step.empty() ? std::string("(no step)") : row.step);
  if (row.occurrence) title += " (run " + std::to_string(row.occurrence + 1) + " at this t)";
  if (!row.label.empty()) title += " " + row.label;
  return title;
}

size_t name_width(const DecisionDiff& diff) {
  size_t w = 0;
  for (const DecisionLog* log : diff.logs) w = std::max(w, log->name().size());
  return w + 1;
}

}  // namespace

std::string first_difference_line(const DecisionDiff& diff) {
  if (!diff.first) return "";
  const DiffRow& row = diff.rows[*diff.first];
  std::string line = row_title(row) + ":";
  for (size_t side = 0; side < diff.logs.size(); ++side) {
    const DecisionGroup* g = row.sides[side];
    line += (side ? "; " : " ") + diff.logs[side]->name() + " ";
    if (g && row.first_difference < g->decisions.size()) line += g->decisions[row.first_difference].what;
    else line += "-";
  }
  return line;
}

void print_diff(std::ostream& out, const DecisionDiff& diff, size_t max_rows) {
  constexpr size_t kMaxLines = 12;  // decisions printed per trace and step run
  const size_t width = name_width(diff);
  size_t printed = 0;
  for (const DiffRow& row : diff.rows) {
    if (!row.differs) continue;
    if (printed++ == max_rows) {
      out << "... " << diff.differing - max_rows << " more step runs differ (the diff page has them all)\n";
      break;
    }
    out << row_title(row) << "\n";
    for (size_t side = 0; side < diff.logs.size(); ++side) {
      std::string name = diff.logs[side]->name() + ":";
      name.resize(width + 1, ' ');
      const DecisionGroup* g = row.sides[side];
      if (!g || g->decisions.empty()) {
        out << "  " << name << " -\n";
        continue;
      }
      for (size_t k = 0; k < g->decisions.size() && k < kMaxLines; ++k) {
        out << "  " << (k ? std::string(width + 1, ' ') : name) << (k == row.first_difference ? "*" : " ")
            << g->decisions[k].what << "\n";
      }
      if (g->decisions.size() > kMaxLines)
        out << "  " << std::string(width + 2, ' ') << "... " << g->decisions.size() - kMaxLines
            << " more\n";
    }
  }
  for (const auto& [pointer, results] : diff.expectations) {
    out << "expectation " << pointer << ":";
    for (size_t side = 0; side < diff.logs.size(); ++side)
      out << (side ? ", " : " ") << diff.logs[side]->name() << " " << results[side];
    out << "\n";
  }
  for (const DecisionLog* log : diff.logs)
    if (log->truncated())
      out << "note: " << log->name() << " has more than " << DecisionLog::kMaxDecisions
          << " decisions; only the first ones were compared\n";
  out << diff.differing << " of " << diff.rows.size() << " step runs differ";
  if (diff.first) out << " (first: " << row_title(diff.rows[*diff.first]) << ")";
  out << "; " << diff.expectations.size() << " expectations differ\n";
}

// ------------------------------------------------------------------ the page

namespace {

json side_json(const DecisionLog& log, const std::string& viewer) {
  json s = {{"name", log.name()},
            {"policy", log.header().value("policy", "")},
            {"viewer", viewer},
            {"truncated", log.truncated()}};
  int passed = 0, failed = 0;
  for (const auto& [pointer, result] : log.expectations()) (result == "pass" ? passed : failed)++;
  s["expectations"] = {{"passed", passed}, {"failed", failed}};
  const json* summary = log.summary();
  if (summary && summary->contains("steps")) s["steps"] = (*summary)["steps"];
  std::string verdict = log.guard() ? "stopped by the " + *log.guard() + " guard"
                        : !summary  ? "cut short"
                        : failed || (summary->contains("steps") &&
                                     (*summary)["steps"].value("failed", 0) > 0)
                            ? "FAIL"
                            : "PASS";
  s["verdict"] = verdict;
  return s;
}

json group_json(const DecisionGroup* g) {
  if (!g) return nullptr;
  json list = json::array();
  for (const Decision& d : g->decisions) list.push_back({d.seq, d.what, d.detail});
  return list;
}

// '<' only occurs inside JSON strings, where \u003c is the same character.
void write_embedded(std::ostream& out, const json& v) {
  for (char c : v.dump(-1, ' ', false, json::error_handler_t::replace)) {
    if (c == '<') out << "\\u003c";
    else out << c;
  }
}

}  // namespace

void write_diff_page(std::ostream& out, const DecisionDiff& diff, const DiffPage& page) {
  json data = {{"format", "netsim-diff/1"}, {"title", page.title}, {"kind", page.kind},
               {"note", page.note}, {"differing", diff.differing}, {"total", diff.rows.size()}};
  json sides = json::array();
  for (size_t k = 0; k < diff.logs.size(); ++k)
    sides.push_back(side_json(*diff.logs[k], k < page.viewers.size() ? page.viewers[k] : ""));
  data["sides"] = std::move(sides);
  // Every differing row, then the others while the page has room, kept in run order.
  std::vector<size_t> keep;
  for (size_t r = 0; r < diff.rows.size() && keep.size() < kPageRows; ++r)
    if (diff.rows[r].differs) keep.push_back(r);
  for (size_t r = 0; r < diff.rows.size() && keep.size() < kPageRows; ++r)
    if (!diff.rows[r].differs) keep.push_back(r);
  std::sort(keep.begin(), keep.end());
  json rows = json::array();
  for (size_t r : keep) {
    const DiffRow& row = diff.rows[r];
    json cells = json::array();
    for (const DecisionGroup* g : row.sides) cells.push_back(group_json(g));
    json j = {{"t", row.t}, {"time", exporting::format_time(row.t)}, {"step", row.step},
              {"label", row.label}, {"run", row.occurrence}, {"cells", std::move(cells)}};
    if (row.differs) j["first"] = row.first_difference;
    if (diff.first && r == *diff.first) j["first_row"] = true;
    rows.push_back(std::move(j));
  }
  data["rows"] = std::move(rows);
  data["left_out"] = diff.rows.size() - keep.size();
  json expectations = json::array();
  for (const auto& [pointer, results] : diff.expectations) expectations.push_back({pointer, results});
  data["expectations"] = std::move(expectations);

  exporting::fill_template(viewer_assets::kDiffHtml, out, [&](std::string_view name, std::ostream& out) {
    if (name == "TITLE") out << exporting::xml_escape(page.title);
    else if (name == "CSS") out << viewer_assets::kCss;
    else if (name == "JS") out << viewer_assets::kDiffJs;
    else if (name == "DIFF") write_embedded(out, data);
    else return false;
    return true;
  });
}

}  // namespace netsim
