#include "scenarios/expect.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>

namespace netsim::scenario {
namespace {

using nlohmann::json;

constexpr size_t kClosestShown = 3;

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
    if (key == "shadowed" || key == "outranked") {
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

bool in_window(const Expectation& e, int64_t t) {
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
  return "[" + (e.after ? format_duration(e.after->ns) : std::string("0")) + ", " +
         (e.before ? format_duration(e.before->ns) : std::string("end")) + ")";
}

std::string window_text(const Expectation& e) {
  if (!e.after && !e.before) return {};
  return " in " + window_range(e);
}

// "seq 12 t=3ms deliver on server".
std::string event_label(const json& ev, uint64_t position) {
  const JsonEventView view(ev, position);
  std::string s = "seq " + std::to_string(view.seq()) + " t=" + format_duration(view.t());
  if (!view.kind().empty()) s += " " + std::string(view.kind());
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

// A matcher object prepared once: its keys, and the nested matchers of object values.
struct CompiledMatcher {
  struct Entry {
    std::string key;
    const json* value;
    const std::string* text;                  // the value, when a string
    size_t leaves;                            // leaf_count(*value)
    std::unique_ptr<CompiledMatcher> nested;  // non-empty object values
  };
  // `decided`: a key left out of the entries because the caller decides it (the kind).
  explicit CompiledMatcher(const json& m, std::string_view decided = {}) {
    for (auto it = m.begin(); it != m.end(); ++it) {
      const size_t n = leaf_count(it.value());
      leaves += n;
      ++keys;
      if (!decided.empty() && it.key() == decided) {
        decided_leaves = n;
        continue;
      }
      const json& v = it.value();
      Entry e{it.key(), &v, v.is_string() ? &v.get_ref<const std::string&>() : nullptr, n, nullptr};
      if (v.is_object() && !v.empty()) e.nested = std::make_unique<CompiledMatcher>(v);
      entries.push_back(std::move(e));
    }
  }
  const Entry* find(std::string_view key) const {
    for (const Entry& e : entries)
      if (e.key == key) return &e;
    return nullptr;
  }
  std::vector<Entry> entries;
  size_t keys = 0;            // every key, the decided one included
  size_t leaves = 0;          // leaf_count of the whole object
  size_t decided_leaves = 0;  // leaf_count of the decided key's value
};

// Compares one event's fields with a compiled matcher: whether every key matches
// (event_matches) and how many leaves it satisfies (compare(), the closeness score).
class FieldMatcher : public FieldSink {
 public:
  // `decided_matched`: the matcher's decided key (if any) matches the event.
  explicit FieldMatcher(const CompiledMatcher& m, bool decided_matched = false)
      : m_(m), matched_keys_(decided_matched ? 1 : 0), satisfied_(decided_matched ? m.decided_leaves : 0) {}
  bool all_matched() const { return matched_keys_ == m_.keys; }
  size_t satisfied() const { return satisfied_; }

  void string(std::string_view key, std::string_view v) override {
    if (const auto* e = m_.find(key))
      leaf(*e, e->text && (*e->text == v || address_wildcard_matches(*e->text, v)));
  }
  void integer(std::string_view key, int64_t v) override {
    if (const auto* e = m_.find(key)) leaf(*e, *e->value == nlohmann::json(v));
  }
  void unsigned_integer(std::string_view key, uint64_t v) override {
    if (const auto* e = m_.find(key)) leaf(*e, *e->value == nlohmann::json(v));
  }
  void string_list(std::string_view key, const std::vector<std::string>& values) override {
    if (const auto* e = m_.find(key)) leaf(*e, value_matches(*e->value, nlohmann::json(values), key));
  }
  void object(std::string_view key, const FieldSource& value) override {
    const auto* e = m_.find(key);
    if (!e) return;
    if (e->nested) {
      FieldMatcher nested(*e->nested);
      value.fields(nested);
      satisfied_ += nested.satisfied();
      matched_keys_ += nested.all_matched();
    } else {
      leaf(*e, e->value->is_object());  // {} matches any object; a scalar none
    }
  }
  void json(std::string_view key, const nlohmann::json& v) override {
    if (const auto* e = m_.find(key)) leaf(*e, value_matches(*e->value, v, key));
  }

 private:
  void leaf(const CompiledMatcher::Entry& e, bool ok) {
    if (!ok) return;
    ++matched_keys_;
    satisfied_ += e.leaves;
  }
  const CompiledMatcher& m_;
  size_t matched_keys_;
  size_t satisfied_;
};

// The events shown as "closest" when too few matched: same `event` kind first, then
// most matcher leaves satisfied (the window counting as one), then earliest. Keeps the
// best kClosestShown seen so far, as JSON.
class ClosestEvents {
 public:
  void clear() { best_.clear(); }
  // Offers an event that did not match; `score` (at most `max_score`) is computed only when
  // the event could enter: a later event needs a higher score than the worst one kept.
  template <typename Score>
  void offer(const TraceEventView& ev, bool same_kind, uint64_t position, size_t max_score, Score score) {
    if (!could_enter(same_kind, max_score)) return;
    Candidate c{same_kind, score(), position, {}};
    if (best_.size() == kClosestShown && !better(c, best_.back())) return;
    c.event = ev.to_json();
    auto at = std::upper_bound(best_.begin(), best_.end(), c, better);
    best_.insert(at, std::move(c));
    if (best_.size() > kClosestShown) best_.pop_back();
  }
  // Whether a later event could enter with this `same_kind` and a score of at most `max_score`.
  bool could_enter(bool same_kind, size_t max_score) const {
    if (best_.size() < kClosestShown) return true;
    const Candidate& worst = best_.back();
    if (worst.same_kind && !same_kind) return false;
    return !(worst.same_kind == same_kind && worst.score >= max_score);
  }
  // The report lines, as offline checking wrote them.
  std::string describe(const Expectation& e, const json& matcher) const {
    if (best_.empty()) return "\n  no other events to compare";
    std::string out = "\n  closest events:";
    for (const Candidate& c : best_) {
      std::vector<std::string> diffs;
      size_t ignored = 0;
      compare(matcher, c.event, {}, {}, &ignored, &diffs);
      const JsonEventView view(c.event, c.position);
      if (!in_window(e, view.t()))
        diffs.push_back("t: " + format_duration(view.t()) + " is outside the window " + window_range(e));
      out += "\n    " + event_label(c.event, c.position) + ": ";
      for (size_t d = 0; d < diffs.size(); ++d) out += (d ? "; " : "") + diffs[d];
      if (diffs.empty()) out += "matches, but was already counted";
    }
    return out;
  }

 private:
  struct Candidate {
    bool same_kind;
    size_t score;
    uint64_t position;
    json event;
  };
  static bool better(const Candidate& a, const Candidate& b) {
    if (a.same_kind != b.same_kind) return a.same_kind;
    if (a.score != b.score) return a.score > b.score;
    return a.position < b.position;
  }
  std::vector<Candidate> best_;
};

// The first kMatchesListed matches (seq and time) and how many there were in all.
struct MatchList {
  void add(uint64_t seq, int64_t t) {
    if (listed.size() < kMatchesListed) listed.push_back({seq, t});
    ++total;
  }
  std::string describe() const {
    std::string out;
    for (size_t k = 0; k < listed.size(); ++k) {
      if (k) out += ", ";
      out += "seq " + std::to_string(listed[k].first) + " (t=" + format_duration(listed[k].second) + ")";
    }
    if (total > listed.size()) out += ", ... " + std::to_string(total - listed.size()) + " more";
    return out;
  }
  std::vector<std::pair<uint64_t, int64_t>> listed;
  uint64_t total = 0;
};

// Whether a matcher object names an event kind (a string `event`).
bool names_a_kind(const json& fields) {
  auto it = fields.find("event");
  return it != fields.end() && it->is_string();
}

// One matcher of an expectation, with what the online check needs of it. The `event` key of
// a matcher that names a kind is decided by same_kind(), not compared as a field.
struct PreparedMatcher {
  explicit PreparedMatcher(const EventMatcher& m)
      : source(m), names_kind(names_a_kind(m.fields)), compiled(m.fields, names_kind ? "event" : "") {
    if (!names_kind) return;
    kind_text = m.fields["event"].get<std::string>();
    kind = trace_kind_named(kind_text);
  }
  // Whether `ev` is of the kind the matcher names (false when it names none). Kinds netsim
  // emits compare as TraceKinds; other text (a parsed line's) compares as text.
  bool same_kind(const TraceEventView& ev) const {
    if (!names_kind) return false;
    if (const auto k = ev.trace_kind()) return k == kind;
    const std::string_view text = ev.kind();
    return !text.empty() && text == kind_text;
  }
  // The highest closeness score an event can reach: the window and every leaf, but for an event
  // of another kind than the one the matcher names, not the `event` leaf.
  size_t max_score(bool same_kind) const { return 1 + compiled.leaves - (names_kind && !same_kind ? 1 : 0); }

  const EventMatcher& source;
  bool names_kind;                // the matcher has a string `event`
  CompiledMatcher compiled;       // without that `event`
  std::string kind_text;          // its value
  std::optional<TraceKind> kind;  // the same as a TraceKind, if it names one
};

}  // namespace

struct ExpectationMatcher::State {
  explicit State(const Expectation& exp) : e(exp), floor(count_floor(exp)) {
    if (e.match) {
      matchers.emplace_back(*e.match);
    } else {
      for (const EventMatcher& m : e.sequence) matchers.emplace_back(m);
    }
  }

  void on_event(const TraceEventView& ev) {
    const uint64_t position = next_position++;
    if (matchers.empty()) return;  // an empty sequence never holds
    const PreparedMatcher& m = matchers[element];
    const bool same_kind = m.same_kind(ev);
    const bool excluded = m.names_kind && !same_kind;  // ev's kind is another one
    const bool shows_closest = count < floor;  // else the closest events will not be shown
    // Most events: of another kind, and no closer than the closest events kept.
    if (excluded && !(shows_closest && closest.could_enter(false, m.max_score(false)))) return;
    const bool in_win = in_window(e, ev.t());
    std::optional<FieldMatcher> fm;
    auto run = [&]() -> FieldMatcher& {
      if (!fm) {
        fm.emplace(m.compiled, same_kind);
        if (!m.compiled.entries.empty()) ev.fields(*fm);
      }
      return *fm;
    };
    if (in_win && !excluded && run().all_matched()) {
      matched(ev, position);
      return;
    }
    if (!shows_closest) return;
    closest.offer(ev, same_kind, position, m.max_score(same_kind),
                  [&] { return (in_win ? 1 : 0) + run().satisfied(); });
  }

  void matched(const TraceEventView& ev, uint64_t position) {
    const size_t n = matchers.size();
    if (n == 1 && e.match) {
      ++count;
      matches.add(static_cast<uint64_t>(ev.seq()), ev.t());
      return;
    }
    closest.clear();  // a sequence's candidates are the events after its last match
    partial.push_back({static_cast<uint64_t>(ev.seq()), ev.t()});
    last_partial_label = event_label(ev.to_json(), position);
    if (++element < n) return;
    ++count;
    for (auto [seq, t] : partial) matches.add(seq, t);
    partial.clear();
    element = 0;
    last_complete_label = last_partial_label;
  }

  ExpectationResult result() const {
    ExpectationResult r;
    r.pointer = e.pointer;
    r.count = count;
    for (auto [seq, t] : matches.listed) r.matching_seqs.push_back(seq);
    if (e.match) {
      r.pass = count_ok(e, count);
      r.detail = e.pointer + ": expected " + count_rule(e, "event") + " matching " +
                 e.match->fields.dump() + window_text(e) + "; saw " + std::to_string(count);
      if (r.pass) return r;
      if (matches.total) r.detail += "\n  matching events: " + matches.describe();
      if (count < count_floor(e)) r.detail += closest.describe(e, e.match->fields);
      return r;
    }
    const size_t n = e.sequence.size();
    r.pass = n > 0 && count_ok(e, count);
    json shown = json::array();
    for (const auto& m : e.sequence) shown.push_back(m.fields);
    r.detail = e.pointer + ": expected " + count_rule(e, "occurrence") + " of the sequence " +
               shown.dump() + window_text(e) + "; saw " + std::to_string(count);
    if (r.pass) return r;
    if (n == 0) {
      r.detail += "\n  the sequence is empty";
      return r;
    }
    if (matches.total) r.detail += "\n  matching occurrences: " + matches.describe();
    if (count < count_floor(e)) {
      const EventMatcher& m = e.sequence[element];
      std::string which = "element " + std::to_string(element + 1) + " of " + std::to_string(n) +
                          (m.pointer.empty() ? "" : " (" + m.pointer + ")") + " " + m.fields.dump();
      if (!partial.empty())
        r.detail += "\n  " + which + " not met after " + last_partial_label;
      else
        r.detail += "\n  " + which + " never met" +
                    (count > 0 ? " after " + last_complete_label : std::string());
      r.detail += closest.describe(e, m.fields);
    }
    return r;
  }

  const Expectation& e;
  const uint64_t floor;                   // count_floor(e)
  std::vector<PreparedMatcher> matchers;  // one, or the sequence's elements
  size_t element = 0;                     // the sequence element looked for next
  uint64_t count = 0;
  uint64_t next_position = 0;
  MatchList matches;
  std::vector<std::pair<uint64_t, int64_t>> partial;  // the incomplete occurrence so far
  std::string last_partial_label, last_complete_label;
  ClosestEvents closest;  // for matchers[element], since its last match
};

ExpectationMatcher::ExpectationMatcher(const Expectation& e) : state_(std::make_unique<State>(e)) {}
ExpectationMatcher::~ExpectationMatcher() = default;
ExpectationMatcher::ExpectationMatcher(ExpectationMatcher&&) noexcept = default;
void ExpectationMatcher::on_event(const TraceEventView& event) { state_->on_event(event); }
ExpectationResult ExpectationMatcher::result() const { return state_->result(); }

bool event_matches(const nlohmann::json& matcher_fields, const nlohmann::json& event) {
  return value_matches(matcher_fields, event, {});
}

ExpectationResult check_expectation(const Expectation& e,
                                    const std::vector<nlohmann::json>& events) {
  ExpectationMatcher matcher(e);
  for (size_t i = 0; i < events.size(); ++i) matcher.on_event(JsonEventView(events[i], i));
  return matcher.result();
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
