#include "sim/event_loop.h"

#include <algorithm>
#include <cassert>
#include <utility>

// Why FIFO among equal times holds without storing a sequence number in the
// radix heap: every bucket is kept in scheduling order. A push appends the
// newest event, and refill() empties the lowest non-empty bucket i into
// buckets 0..i-1, which are all empty at that moment, in bucket order. So
// bucket 0, the items at floor_, is drained front to back in scheduling order.

namespace netsim {
namespace {

constexpr size_t kPrefetchBucket = 16;

bool early_later(uint64_t at, uint64_t aseq, uint64_t bt, uint64_t bseq) {
  return at > bt || (at == bt && aseq > bseq);
}

}  // namespace

EventLoop::EventLoop() = default;
EventLoop::~EventLoop() = default;

uint32_t EventLoop::allocate_slot() {
  if (!free_slots_.empty()) {
    uint32_t s = free_slots_.back();
    free_slots_.pop_back();
    return s;
  }
  if ((next_fresh_slot_ & (kChunkSize - 1)) == 0) {
    chunks_.push_back(std::unique_ptr<Slot[]>(new Slot[kChunkSize]));
  }
  return next_fresh_slot_++;
}

__attribute__((always_inline)) inline void EventLoop::push_item(uint64_t time, uint32_t slot) {
  uint64_t x = time ^ floor_;
  if (x == 0) {
    buckets_[0].push_back(Item{time, slot});
    return;
  }
  int b = 64 - __builtin_clzll(x);
  buckets_[b].push_back(Item{time, slot});
  nonempty_mask_ |= uint64_t{1} << (b - 1);
}

// Moves the earliest items into bucket 0 (and floor_ up to their time) unless
// nothing is queued or the earliest time is past `limit`. Requires: bucket 0 empty.
bool EventLoop::refill(uint64_t limit) {
  if (nonempty_mask_ == 0) return false;
  int b = __builtin_ctzll(nonempty_mask_) + 1;
  std::vector<Item>& bucket = buckets_[b];
  uint64_t min_time = bucket[0].time;
  for (const Item& it : bucket) min_time = std::min(min_time, it.time);
  if (min_time > limit) return false;
  floor_ = min_time;
  // Every item of the lowest bucket runs before any item of a higher one: when
  // few are left, fetch their callbacks ahead of dispatch (pays off when the
  // queue is much larger than the cache).
  if (bucket.size() <= kPrefetchBucket) {
    for (const Item& it : bucket) __builtin_prefetch(&slot_at(it.slot));
  }
  for (const Item& it : bucket) push_item(it.time, it.slot);
  bucket.clear();
  nonempty_mask_ &= ~(uint64_t{1} << (b - 1));
  return true;
}

void EventLoop::push_early(EarlyItem e) {
  size_t i = early_.size();
  early_.push_back(e);
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!early_later(early_[p].time, early_[p].seq, e.time, e.seq)) break;
    early_[i] = early_[p];
    i = p;
  }
  early_[i] = e;
}

EventLoop::EarlyItem EventLoop::pop_early() {
  EarlyItem top = early_.front();
  EarlyItem last = early_.back();
  early_.pop_back();
  size_t n = early_.size();
  if (n == 0) return top;
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && early_later(early_[c].time, early_[c].seq, early_[c + 1].time, early_[c + 1].seq)) ++c;
    if (!early_later(last.time, last.seq, early_[c].time, early_[c].seq)) break;
    early_[i] = early_[c];
    i = c;
  }
  early_[i] = last;
  return top;
}

EventId EventLoop::schedule(SimTime at, Callback cb, EventTag tag) {
  assert(at >= now_);
  uint32_t s = allocate_slot();
  Slot& slot = slot_at(s);
  slot.cb = std::move(cb);
  slot.tag = tag;
  uint32_t generation = ++slot.generation;  // odd: live
  uint64_t t = static_cast<uint64_t>(at.ns);
  if (t >= floor_) [[likely]] {
    push_item(t, s);
  } else {
    push_early(EarlyItem{t, next_seq_, s});
  }
  ++next_seq_;
  ++pending_;
  return EventId{s, generation};
}

bool EventLoop::cancel(EventId id) {
  if (!id.valid() || id.slot >= next_fresh_slot_ || (id.generation & 1) == 0) return false;
  Slot& slot = slot_at(id.slot);
  if (slot.generation != id.generation) return false;
  ++slot.generation;  // even: the queue item is dropped when popped
  --pending_;
  slot.cb.reset();
  return true;
}

uint64_t EventLoop::settle_front() {
  for (;;) {
    if (!early_.empty()) {
      EarlyItem e = early_.front();
      if (slot_at(e.slot).generation & 1) return e.time;
      pop_early();
      free_slots_.push_back(e.slot);
      continue;
    }
    std::vector<Item>& b0 = buckets_[0];
    if (bucket0_head_ < b0.size()) {
      uint32_t s = b0[bucket0_head_].slot;
      if (slot_at(s).generation & 1) return floor_;
      if (++bucket0_head_ == b0.size()) {
        b0.clear();
        bucket0_head_ = 0;
      }
      free_slots_.push_back(s);
      continue;
    }
    if (!refill(UINT64_MAX)) return UINT64_MAX;
  }
}

SimTime EventLoop::next_time() {
  if (!ready_.empty()) return SimTime{static_cast<int64_t>(ready_time_)};
  uint64_t t = settle_front();
  if (!timeline_.empty()) t = std::min(t, timeline_.front().time);
  return t == UINT64_MAX ? SimTime::max() : SimTime{static_cast<int64_t>(t)};
}

bool EventLoop::timeline_later(const TimelineItem& a, const TimelineItem& b) {
  if (a.time != b.time) return a.time > b.time;
  if (a.order != b.order) return a.order > b.order;
  return a.seq > b.seq;
}

void EventLoop::schedule_timeline(SimTime at, uint64_t order, Callback cb, EventTag tag) {
  assert(at >= now_);
  timeline_.push_back(TimelineItem{static_cast<uint64_t>(at.ns), order, next_seq_++, std::move(cb), tag});
  std::push_heap(timeline_.begin(), timeline_.end(), timeline_later);
  ++pending_;
}

bool EventLoop::run_timeline_front(uint64_t limit) {
  const uint64_t t = timeline_.front().time;
  if (t > limit || settle_front() < t) return false;
  std::pop_heap(timeline_.begin(), timeline_.end(), timeline_later);
  Callback cb = std::move(timeline_.back().cb);
  timeline_.pop_back();
  --pending_;
  now_ = SimTime{static_cast<int64_t>(t)};
  ++executed_;
  cb();
  return true;
}

namespace {

// Destroys a dispatched callback and recycles its slot, also if it throws.
template <class Slot>
struct SlotRelease {
  Slot& slot;
  std::vector<uint32_t>& free_slots;
  uint32_t index;
  ~SlotRelease() {
    slot.cb.reset();
    free_slots.push_back(index);
  }
};

}  // namespace

uint64_t EventLoop::run_until(SimTime limit_time, uint64_t max_events) {
  stop_requested_ = false;
  if (limit_time.ns < 0) return 0;
  const uint64_t limit = static_cast<uint64_t>(limit_time.ns);
  if (tie_breaker_) return run_until_with_ties(limit, max_events);
  uint64_t ran = 0;
  while (ran < max_events && !stop_requested_) {
    if (!timeline_.empty() && run_timeline_front(limit)) {
      ++ran;
      continue;
    }
    uint64_t t;
    uint32_t s;
    if (!early_.empty()) [[unlikely]] {
      if (early_.front().time > limit) break;
      EarlyItem e = pop_early();
      t = e.time;
      s = e.slot;
    } else {
      std::vector<Item>& b0 = buckets_[0];
      if (bucket0_head_ == b0.size()) {
        if (!refill(limit)) break;
      } else if (floor_ > limit) {
        break;
      }
      t = floor_;
      s = b0[bucket0_head_].slot;
      if (++bucket0_head_ == b0.size()) {
        b0.clear();
        bucket0_head_ = 0;
      }
    }
    Slot& slot = slot_at(s);
    if ((slot.generation & 1) == 0) {  // cancelled
      free_slots_.push_back(s);
      continue;
    }
    ++slot.generation;
    --pending_;
    now_ = SimTime{static_cast<int64_t>(t)};
    ++executed_;
    ++ran;
    SlotRelease<Slot> release{slot, free_slots_, s};
    slot.cb();
  }
  return ran;
}

// --- with a tie breaker --------------------------------------------------------
// The same order as run_until when the tie breaker always picks 0: timeline events
// first, by (order, seq), then ordinary events FIFO; events scheduled for the current
// instant while it runs join the ready set in their place.

bool EventLoop::gather_ready(uint64_t limit) {
  if (ready_.empty()) {
    uint64_t t = settle_front();
    if (!timeline_.empty()) t = std::min(t, timeline_.front().time);
    if (t == UINT64_MAX || t > limit) return false;
    ready_time_ = t;
  } else if (ready_time_ > limit) {
    return false;
  }
  while (!timeline_.empty() && timeline_.front().time == ready_time_) {
    std::pop_heap(timeline_.begin(), timeline_.end(), timeline_later);
    TimelineItem& item = timeline_.back();
    auto at = ready_.begin();
    while (at != ready_.end() && at->timeline &&
           (at->order < item.order || (at->order == item.order && at->seq < item.seq)))
      ++at;
    ready_.insert(at, ReadyEvent{item.tag, true, item.order, item.seq, 0, std::move(item.cb)});
    timeline_.pop_back();
  }
  while (settle_front() == ready_time_) {
    uint32_t s;
    if (!early_.empty()) {
      s = pop_early().slot;
    } else {
      std::vector<Item>& b0 = buckets_[0];
      s = b0[bucket0_head_].slot;
      if (++bucket0_head_ == b0.size()) {
        b0.clear();
        bucket0_head_ = 0;
      }
    }
    ready_.push_back(ReadyEvent{slot_at(s).tag, false, 0, 0, s, {}});
  }
  return true;
}

void EventLoop::drop_cancelled_ready() {
  for (size_t i = 0; i < ready_.size() && i < TieBreaker::kMaxTie;) {
    if (!ready_[i].timeline && (slot_at(ready_[i].slot).generation & 1) == 0) {
      free_slots_.push_back(ready_[i].slot);
      ready_.erase(ready_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

void EventLoop::run_ready(size_t index) {
  ReadyEvent e = std::move(ready_[index]);
  ready_.erase(ready_.begin() + static_cast<std::ptrdiff_t>(index));
  --pending_;
  now_ = SimTime{static_cast<int64_t>(ready_time_)};
  ++executed_;
  if (e.timeline) {
    e.cb();
    return;
  }
  Slot& slot = slot_at(e.slot);
  ++slot.generation;
  SlotRelease<Slot> release{slot, free_slots_, e.slot};
  slot.cb();
}

uint64_t EventLoop::run_until_with_ties(uint64_t limit, uint64_t max_events) {
  uint64_t ran = 0;
  while (ran < max_events && !stop_requested_ && gather_ready(limit)) {
    drop_cancelled_ready();
    if (ready_.empty()) continue;
    size_t pick = 0;
    if (ready_.size() >= 2) {
      const size_t n = std::min(ready_.size(), TieBreaker::kMaxTie);
      ready_tags_.clear();
      for (size_t i = 0; i < n; ++i) ready_tags_.push_back(ready_[i].tag);
      pick = tie_breaker_->choose(SimTime{static_cast<int64_t>(ready_time_)}, ready_tags_);
      assert(pick < n);
    }
    run_ready(pick);
    ++ran;
  }
  return ran;
}

}  // namespace netsim
