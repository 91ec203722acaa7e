#include "scenarios/expect.h"

#include <algorithm>
#include <optional>
#include <string_view>

namespace netsim::scenario {
namespace {

using nlohmann::json;

constexpr size_t kClosestShown = 3;
constexpr size_t kMatchesShown = 20;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "10.0.0.1:*" / "[fd00::1]:*" against "10.0.0.1:80" / "[fd00::1]:80", or the bare address.
bool address_wildcard_matches(std::string_view pattern, std::string_view value) {
  if (pattern.size() < 3 || pattern.substr(pattern.size() - 2) != ":*") return false;
  std::string_view addr = pattern.substr(0, pattern.size() - 2);
  if (value.size() > addr.size() + 1 && value.substr(0, addr.size()) == addr &&
      value[addr.size()] == ':' && all_digits(value.substr(addr.size() + 1)))
    return true;
  if (value == addr) return true;
  return addr.size() > 2 && addr.front() == '[' && addr.back() == ']' &&
         value == addr.substr(1, addr.size() - 2);
}

bool value_matches(const json& m, const json& v, std::string_view key) {
  if (m.is_object()) {
    if (!v.is_object()) return false;
    for (auto it = m.begin(); it != m.end(); ++it) {
      auto found = v.find(it.key());
      if (found == v.end() || !value_matches(it.value(), *found, it.key())) return false;
    }
    return true;
  }
  if (m.is_array()) {
    if (!v.is_array() || v.size() != m.size()) return false;
    if (key == "shadowed") {
      std::vector<json> a(m.begin(), m.end()), b(v.begin(), v.end());
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      return a == b;
    }
    for (size_t i = 0; i < m.size(); ++i)
      if (!value_matches(m[i], v[i], {})) return false;
    return true;
  }
  if (m.is_string() && v.is_string()) {
    const auto& ms = m.get_ref<const std::string&>();
    const auto& vs = v.get_ref<const std::string&>();
    return ms == vs || address_wildcard_matches(ms, vs);
  }
  return m == v;
}

int64_t event_t(const json& ev) {
  auto it = ev.find("t");
  return it != ev.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

uint64_t event_seq(const json& ev, size_t index) {
  auto it = ev.find("seq");
  return it != ev.end() && it->is_number_unsigned() ? it->get<uint64_t>() : index;
}

std::string format_time(int64_t ns) {
  struct Unit {
    int64_t scale;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1000000000, "s"}, {1000000, "ms"}, {1000, "us"}};
  for (const Unit& u : kUnits)
    if (ns != 0 && ns % u.scale == 0) return std::to_string(ns / u.scale) + u.name;
  return std::to_string(ns) + "ns";
}

bool in_window(const Expectation& e, const json& ev) {
  int64_t t = event_t(ev);
  if (e.after && t < e.after->ns) return false;
  if (e.before && t >= e.before->ns) return false;
  return true;
}

bool count_ok(const Expectation& e, uint64_t n) {
  if (e.count) return n == *e.count;
  if (e.min || e.max) return (!e.min || n >= *e.min) && (!e.max || n <= *e.max);
  return n >= 1;
}

// The least number of matches the rule wants (to tell "too few" from "too many").
uint64_t count_floor(const Expectation& e) {
  if (e.count) return *e.count;
  if (e.min || e.max) return e.min.value_or(0);
  return 1;
}

// "at least 1 event", "exactly 3 occurrences", "no events (never)", ...
std::string count_rule(const Expectation& e, const std::string& noun) {
  auto n = [&](uint64_t k) { return std::to_string(k) + " " + noun + (k == 1 ? "" : "s"); };
  if (e.count) return *e.count == 0 ? "no " + noun + "s (never)" : "exactly " + n(*e.count);
  if (e.min && e.max) return "between " + std::to_string(*e.min) + " and " + n(*e.max);
  if (e.min) return "at least " + n(*e.min);
  if (e.max) return "at most " + n(*e.max);
  return "at least " + n(1);
}

std::string window_range(const Expectation& e) {
  return "[" + (e.after ? format_time(e.after->ns) : std::string("0")) + ", " +
         (e.before ? format_time(e.before->ns) : std::string("end")) + ")";
}

std::string window_text(const Expectation& e) {
  if (!e.after && !e.before) return {};
  return " in " + window_range(e);
}

std::string event_label(const json& ev, size_t index) {
  std::string s = "seq " + std::to_string(event_seq(ev, index)) + " t=" + format_time(event_t(ev));
  auto kind = ev.find("event");
  if (kind != ev.end() && kind->is_string()) s += " " + kind->get<std::string>();
  auto host = ev.find("host");
  if (host != ev.end() && host->is_string()) s += " on " + host->get<std::string>();
  return s;
}

size_t leaf_count(const json& m) {
  if (!m.is_object() || m.empty()) return 1;
  size_t n = 0;
  for (const auto& v : m) n += leaf_count(v);
  return n;
}

// Scores `v` against matcher value `m`: adds the leaves it satisfies to *satisfied and,
// when `diffs` is given, one line per differing field ("packet.src: expected X, got Y").
void compare(const json& m, const json& v, std::string_view key, const std::string& path,
             size_t* satisfied, std::vector<std::string>* diffs) {
  if (m.is_object() && !m.empty() && v.is_object()) {
    for (auto it = m.begin(); it != m.end(); ++it) {
      std::string sub = path.empty() ? it.key() : path + "." + it.key();
      auto found = v.find(it.key());
      if (found == v.end()) {
        if (diffs) diffs->push_back(sub + ": expected " + it.value().dump() + ", got nothing");
        continue;
      }
      compare(it.value(), *found, it.key(), sub, satisfied, diffs);
    }
    return;
  }
  if (value_matches(m, v, key)) {
    *satisfied += leaf_count(m);
  } else if (diffs) {
    diffs->push_back(path + ": expected " + m.dump() + ", got " + v.dump());
  }
}

// Up to kClosestShown events from `candidates` (indices into events) nearest to the
// matcher: same `event` kind first, then most matcher fields satisfied, then earliest.
std::string closest_events(const Expectation& e, const json& matcher,
                           const std::vector<json>& events, const std::vector<size_t>& candidates) {
  auto want_kind = matcher.find("event");
  struct Ranked {
    bool same_kind;
    size_t satisfied;
    size_t index;
  };
  std::vector<Ranked> ranked;
  ranked.reserve(candidates.size());
  for (size_t i : candidates) {
    const json& ev = events[i];
    bool same = false;
    if (want_kind != matcher.end()) {
      auto k = ev.find("event");
      same = k != ev.end() && *k == *want_kind;
    }
    size_t satisfied = in_window(e, ev) ? 1 : 0;
    compare(matcher, ev, {}, {}, &satisfied, nullptr);
    ranked.push_back({same, satisfied, i});
  }
  auto better = [](const Ranked& a, const Ranked& b) {
    if (a.same_kind != b.same_kind) return a.same_kind;
    if (a.satisfied != b.satisfied) return a.satisfied > b.satisfied;
    return a.index < b.index;
  };
  size_t shown = std::min(kClosestShown, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + shown, ranked.end(), better);
  if (shown == 0) return "\n  no other events to compare";
  std::string out = "\n  closest events:";
  for (size_t r = 0; r < shown; ++r) {
    const json& ev = events[ranked[r].index];
    std::vector<std::string> diffs;
    size_t ignored = 0;
    compare(matcher, ev, {}, {}, &ignored, &diffs);
    if (!in_window(e, ev))
      diffs.push_back("t: " + format_time(event_t(ev)) + " is outside the window " +
                      window_range(e));
    out += "\n    " + event_label(ev, ranked[r].index) + ": ";
    for (size_t d = 0; d < diffs.size(); ++d) out += (d ? "; " : "") + diffs[d];
    if (diffs.empty()) out += "matches, but was already counted";
  }
  return out;
}

std::string seq_list(const std::vector<uint64_t>& seqs, const std::vector<json>& events,
                     const std::vector<size_t>& indices) {
  std::string out;
  size_t shown = std::min(kMatchesShown, indices.size());
  for (size_t k = 0; k < shown; ++k) {
    if (k) out += ", ";
    out +=
        "seq " + std::to_string(seqs[k]) + " (t=" + format_time(event_t(events[indices[k]])) + ")";
  }
  if (indices.size() > shown) out += ", ... " + std::to_string(indices.size() - shown) + " more";
  return out;
}

ExpectationResult check_single(const Expectation& e, const EventMatcher& m,
                               const std::vector<json>& events) {
  ExpectationResult r;
  r.pointer = e.pointer;
  std::vector<size_t> matched;
  for (size_t i = 0; i < events.size(); ++i)
    if (in_window(e, events[i]) && event_matches(m.fields, events[i])) matched.push_back(i);
  r.count = matched.size();
  for (size_t i : matched) r.matching_seqs.push_back(event_seq(events[i], i));
  r.pass = count_ok(e, r.count);

  std::string head = e.pointer + ": expected " + count_rule(e, "event") + " matching " +
                     m.fields.dump() + window_text(e) + "; saw " + std::to_string(r.count);
  if (r.pass) {
    r.detail = head;
    return r;
  }
  r.detail = head;
  if (!matched.empty())
    r.detail += "\n  matching events: " + seq_list(r.matching_seqs, events, matched);
  if (r.count < count_floor(e)) {
    std::vector<size_t> others;
    others.reserve(events.size() - matched.size());
    size_t next = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      if (next < matched.size() && matched[next] == i) {
        ++next;
        continue;
      }
      others.push_back(i);
    }
    r.detail += closest_events(e, m.fields, events, others);
  }
  return r;
}

ExpectationResult check_sequence(const Expectation& e, const std::vector<json>& events) {
  ExpectationResult r;
  r.pointer = e.pointer;
  const size_t n = e.sequence.size();
  std::vector<size_t> occurrence_indices;  // all matched events of complete occurrences
  // Where the first incomplete occurrence stopped.
  size_t missing = 0;
  std::optional<size_t> missing_after;
  size_t pos = 0;
  while (true) {
    std::vector<size_t> found;
    size_t scan = pos;
    for (size_t k = 0; k < n; ++k) {
      size_t j = scan;
      while (j < events.size() &&
             !(in_window(e, events[j]) && event_matches(e.sequence[k].fields, events[j])))
        ++j;
      if (j == events.size()) break;
      found.push_back(j);
      scan = j + 1;
    }
    if (found.size() < n || n == 0) {
      missing = found.size();
      if (!found.empty()) missing_after = found.back();
      break;
    }
    ++r.count;
    occurrence_indices.insert(occurrence_indices.end(), found.begin(), found.end());
    pos = scan;
  }
  for (size_t i : occurrence_indices) r.matching_seqs.push_back(event_seq(events[i], i));
  r.pass = n > 0 && count_ok(e, r.count);

  json shown = json::array();
  for (const auto& m : e.sequence) shown.push_back(m.fields);
  std::string head = e.pointer + ": expected " + count_rule(e, "occurrence") + " of the sequence " +
                     shown.dump() + window_text(e) + "; saw " + std::to_string(r.count);
  r.detail = head;
  if (r.pass) return r;
  if (n == 0) {
    r.detail += "\n  the sequence is empty";
    return r;
  }
  if (!occurrence_indices.empty())
    r.detail +=
        "\n  matching occurrences: " + seq_list(r.matching_seqs, events, occurrence_indices);
  if (r.count < count_floor(e)) {
    const EventMatcher& m = e.sequence[missing];
    std::string which = "element " + std::to_string(missing + 1) + " of " + std::to_string(n) +
                        (m.pointer.empty() ? "" : " (" + m.pointer + ")") + " " + m.fields.dump();
    size_t from = pos;
    if (missing_after) {
      r.detail +=
          "\n  " + which + " not met after " + event_label(events[*missing_after], *missing_after);
      from = *missing_after + 1;
    } else {
      r.detail += "\n  " + which + " never met" +
                  (pos > 0 ? " after " + event_label(events[pos - 1], pos - 1) : std::string());
    }
    std::vector<size_t> candidates;
    for (size_t i = from; i < events.size(); ++i) candidates.push_back(i);
    r.detail += closest_events(e, m.fields, events, candidates);
  }
  return r;
}

}  // namespace

bool event_matches(const nlohmann::json& matcher_fields, const nlohmann::json& event) {
  return value_matches(matcher_fields, event, {});
}

ExpectationResult check_expectation(const Expectation& e,
                                    const std::vector<nlohmann::json>& events) {
  if (e.match) return check_single(e, *e.match, events);
  return check_sequence(e, events);
}

std::optional<std::vector<std::string>> referenced_event_kinds(
    const std::vector<Expectation>& expectations) {
  std::vector<std::string> kinds;
  auto add = [&](const EventMatcher& m) {
    auto it = m.fields.find("event");
    if (it == m.fields.end() || !it->is_string()) return false;
    kinds.push_back(it->get<std::string>());
    return true;
  };
  for (const Expectation& e : expectations) {
    if (e.match && !add(*e.match)) return std::nullopt;
    for (const EventMatcher& m : e.sequence)
      if (!add(m)) return std::nullopt;
  }
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  return kinds;
}

std::vector<ExpectationResult> check_expectations(const std::vector<Expectation>& expectations,
                                                  const std::vector<nlohmann::json>& events) {
  std::vector<ExpectationResult> out;
  out.reserve(expectations.size());
  for (const Expectation& e : expectations) out.push_back(check_expectation(e, events));
  return out;
}

}  // namespace netsim::scenario
