#include "stack/tcp/sack_scoreboard.h"

#include <algorithm>

#include "stack/tcp/seq.h"

namespace netsim::tcp {

uint32_t SackScoreboard::add(uint32_t left, uint32_t right, uint32_t high_ack, uint32_t high_data) {
  if (!seq_lt(left, right)) return 0;
  if (seq_lt(left, high_ack)) left = high_ack;
  if (seq_gt(right, high_data)) right = high_data;
  if (!seq_lt(left, right)) return 0;
  // Merge with every range it overlaps or touches.
  const uint32_t before = sacked_bytes();
  auto first = std::find_if(ranges_.begin(), ranges_.end(),
                            [&](const Range& r) { return seq_geq(r.end, left); });
  auto last = first;
  while (last != ranges_.end() && seq_leq(last->begin, right)) {
    if (seq_lt(last->begin, left)) left = last->begin;
    if (seq_gt(last->end, right)) right = last->end;
    ++last;
  }
  first = ranges_.erase(first, last);
  ranges_.insert(first, Range{left, right});
  return sacked_bytes() - before;
}

void SackScoreboard::advance(uint32_t high_ack) {
  auto keep = std::find_if(ranges_.begin(), ranges_.end(),
                           [&](const Range& r) { return seq_gt(r.end, high_ack); });
  ranges_.erase(ranges_.begin(), keep);
  if (!ranges_.empty() && seq_lt(ranges_.front().begin, high_ack)) ranges_.front().begin = high_ack;
}

uint32_t SackScoreboard::sacked_bytes() const {
  uint32_t n = 0;
  for (const Range& r : ranges_) n += r.end - r.begin;
  return n;
}

bool SackScoreboard::is_sacked(uint32_t seq) const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const Range& r) { return seq_in(seq, r.begin, r.end); });
}

uint32_t SackScoreboard::skip_sacked(uint32_t seq) const {
  for (const Range& r : ranges_)
    if (seq_in(seq, r.begin, r.end)) return r.end;
  return seq;
}

uint32_t SackScoreboard::unsacked_run(uint32_t seq) const {
  for (const Range& r : ranges_)
    if (seq_gt(r.begin, seq)) return r.begin - seq;
  return UINT32_MAX;
}

uint32_t SackScoreboard::sacked_below(uint32_t seq) const {
  uint32_t n = 0;
  for (const Range& r : ranges_) {
    if (!seq_lt(r.begin, seq)) break;
    n += (seq_lt(r.end, seq) ? r.end : seq) - r.begin;
  }
  return n;
}

bool SackScoreboard::hole_lost(size_t i, uint32_t mss) const {
  if (ranges_.size() - i >= kDupThresh) return true;
  uint32_t above = 0;
  for (size_t j = i; j < ranges_.size(); ++j) above += ranges_[j].end - ranges_[j].begin;
  return above > (kDupThresh - 1) * mss;
}

bool SackScoreboard::is_lost(uint32_t seq, uint32_t mss) const {
  size_t i = 0;
  while (i < ranges_.size() && seq_leq(ranges_[i].begin, seq)) ++i;
  return hole_lost(i, mss);
}

std::optional<SackScoreboard::Range> SackScoreboard::next_seg(uint32_t high_ack, uint32_t rxt_end,
                                                              uint32_t mss, bool lost_only) const {
  const uint32_t from = seq_gt(rxt_end, high_ack) ? rxt_end : high_ack;
  uint32_t hole_begin = high_ack;
  for (size_t i = 0; i < ranges_.size(); ++i) {
    const uint32_t hole_end = ranges_[i].begin;
    const uint32_t start = seq_gt(from, hole_begin) ? from : hole_begin;
    if (seq_lt(start, hole_end) && (!lost_only || hole_lost(i, mss)))
      return Range{start, start + std::min(mss, hole_end - start)};
    hole_begin = ranges_[i].end;
  }
  return std::nullopt;
}

uint32_t SackScoreboard::pipe(uint32_t high_ack, uint32_t high_data, uint32_t rxt_end,
                              uint32_t mss) const {
  // Unsacked bytes of [begin, end) below rxt_end.
  auto below_rxt = [&](uint32_t begin, uint32_t end) -> uint32_t {
    if (!seq_gt(rxt_end, begin)) return 0;
    return (seq_lt(rxt_end, end) ? rxt_end : end) - begin;
  };
  uint32_t pipe = 0;
  uint32_t hole_begin = high_ack;
  for (size_t i = 0; i <= ranges_.size(); ++i) {
    const uint32_t hole_end = i < ranges_.size() ? ranges_[i].begin : high_data;
    if (seq_lt(hole_begin, hole_end)) {
      if (!hole_lost(i, mss)) pipe += hole_end - hole_begin;
      pipe += below_rxt(hole_begin, hole_end);
    }
    if (i < ranges_.size()) hole_begin = ranges_[i].end;
  }
  return pipe;
}

}  // namespace netsim::tcp
