#include "sim/schedule.h"

#include <charconv>
#include <utility>

namespace netsim {
namespace {

// A whole decimal number of type T from the front of `text`, which advances past it.
template <class T>
bool take_number(std::string_view& text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end == text.data()) return false;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return true;
}

bool take(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

}  // namespace

std::string to_string(const Schedule& s) {
  std::string out;
  if (s.jitter) out = "jitter=" + std::to_string(s.jitter->bound) + "/" + std::to_string(s.jitter->draw);
  for (const ScheduleChoice& c : s.choices) {
    if (!out.empty()) out += ',';
    out += std::to_string(c.tie) + "@" + std::to_string(c.t) + ":" + std::to_string(c.pick);
  }
  return out.empty() ? "default" : out;
}

std::optional<Schedule> parse_schedule(std::string_view text, std::string* error) {
  Schedule s;
  if (text == "default") return s;
  size_t index = 0;
  while (true) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    const std::string shown(item);
    auto fail = [&](const std::string& why) {
      *error = "item " + std::to_string(index + 1) + " `" + shown + "`: " + why;
      return std::nullopt;
    };
    if (item.starts_with("jitter=")) {
      item.remove_prefix(7);
      JitterDraw j;
      if (index != 0) return fail("jitter= must come first");
      if (!take_number(item, j.bound) || j.bound < 0 || !take(item, '/') || !take_number(item, j.draw) ||
          !item.empty())
        return fail("expected jitter=BOUND_NS/DRAW (whole numbers)");
      s.jitter = j;
    } else {
      ScheduleChoice c;
      if (!take_number(item, c.tie) || !take(item, '@') || !take_number(item, c.t) || c.t < 0 ||
          !take(item, ':') || !take_number(item, c.pick) || !item.empty())
        return fail("expected TIE@T_NS:PICK (whole numbers, e.g. 3@60000000:1)");
      if (c.pick == 0) return fail("pick 0 is the default order; leave the tie out");
      if (c.pick >= TieBreaker::kMaxTie)
        return fail("pick must be below " + std::to_string(TieBreaker::kMaxTie));
      if (!s.choices.empty() && s.choices.back().tie >= c.tie) return fail("ties must increase");
      s.choices.push_back(c);
    }
    ++index;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return s;
}

ScheduleDriver::ScheduleDriver(std::vector<ScheduleChoice> choices, size_t record_limit)
    : choices_(std::move(choices)), record_limit_(record_limit) {}

size_t ScheduleDriver::choose(SimTime now, std::span<const EventTag> ready) {
  const uint64_t tie = ties_++;
  if (recorded_.size() < record_limit_)
    recorded_.push_back(Tie{now.ns, std::vector<EventTag>(ready.begin(), ready.end())});
  if (next_ == choices_.size() || choices_[next_].tie != tie) return 0;
  const ScheduleChoice& c = choices_[next_++];
  if (misfit_) return 0;
  if (c.t != now.ns) {
    misfit_ = "tie " + std::to_string(c.tie) + " came at t=" + std::to_string(now.ns) + "ns, not " +
              std::to_string(c.t) + "ns";
  } else if (c.pick >= ready.size()) {
    misfit_ = "tie " + std::to_string(c.tie) + " at t=" + std::to_string(now.ns) + "ns had " +
              std::to_string(ready.size()) + " ready events, no event " + std::to_string(c.pick);
  } else {
    return c.pick;
  }
  return 0;
}

std::optional<std::string> ScheduleDriver::misfit() const {
  if (misfit_) return misfit_;
  if (next_ < choices_.size())
    return "tie " + std::to_string(choices_[next_].tie) + " never came (the run met " +
           std::to_string(ties_) + " ties)";
  return std::nullopt;
}

}  // namespace netsim
