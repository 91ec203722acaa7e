// A schedule: the order a run takes at its ties (instants where two or more events are
// ready at once), written as a compact string that `netsim run --schedule` replays.
// Ties are numbered from 0 in the order the run meets them; a schedule names only the
// ties where the run departs from the default order (each a "reordering"), and may carry
// a jitter draw (scenarios/explore.h applies it). docs/explore.md is the user's guide.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/event_loop.h"
#include "sim/time.h"

namespace netsim {

// At tie `tie`, met at virtual time `t`, the ready event at index `pick` (>= 1; 0 is
// the default) runs first.
struct ScheduleChoice {
  uint64_t tie = 0;
  int64_t t = 0;
  uint32_t pick = 0;
  friend bool operator==(const ScheduleChoice&, const ScheduleChoice&) = default;
};

// Link latencies and step times each moved within +-`bound` ns by draw number `draw`.
struct JitterDraw {
  int64_t bound = 0;
  uint64_t draw = 0;
  friend bool operator==(const JitterDraw&, const JitterDraw&) = default;
};

struct Schedule {
  std::optional<JitterDraw> jitter;
  std::vector<ScheduleChoice> choices;  // by increasing tie, at most one per tie
  size_t reorderings() const { return choices.size(); }
  friend bool operator==(const Schedule&, const Schedule&) = default;
};

// "default", or comma-separated items: an optional first "jitter=BOUND/DRAW", then
// "TIE@T:PICK" items ("3@60000000:1": at tie 3, at t = 60 ms, run ready event 1 first).
std::string to_string(const Schedule& s);
// Requires nothing of `text`; on a malformed one returns nullopt and says why in `error`.
std::optional<Schedule> parse_schedule(std::string_view text, std::string* error);

// One tie as met: when, and the ready events in the default order (at most
// TieBreaker::kMaxTie).
struct Tie {
  int64_t t = 0;
  std::vector<EventTag> ready;
};

// Plays a schedule's choices as the loop's tie breaker and records the first
// `record_limit` ties it meets (memory is bounded by that limit, not by the run).
class ScheduleDriver : public TieBreaker {
 public:
  ScheduleDriver(std::vector<ScheduleChoice> choices, size_t record_limit);

  size_t choose(SimTime now, std::span<const EventTag> ready) override;

  uint64_t ties() const { return ties_; }
  const std::vector<Tie>& recorded() const { return recorded_; }
  // Why the schedule did not fit the run (the first choice whose tie never came, came at
  // another time, or had too few events), or nullopt when every choice was played.
  std::optional<std::string> misfit() const;

 private:
  std::vector<ScheduleChoice> choices_;
  size_t next_ = 0;  // the next choice to play
  size_t record_limit_;
  uint64_t ties_ = 0;
  std::vector<Tie> recorded_;
  std::optional<std::string> misfit_;
};

}  // namespace netsim
