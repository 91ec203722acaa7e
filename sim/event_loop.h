// The discrete-event loop: runs callbacks in order of (virtual time, scheduling
// sequence), FIFO among events at the same time. Cancel is O(1) by marking.
// A second queue, the timeline, holds a scenario's pre-ordered events (its steps):
// at any time, timeline events run before every ordinary event of that time, and
// among themselves by (time, order, scheduling sequence).
// Owned by a Simulation and passed by reference; there is no global instance.
// Internally a monotone radix heap on the event time plus a slab of callback
// slots reused through a free list (generation counters keep EventIds honest).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "sim/callback.h"
#include "sim/time.h"

namespace netsim {

// Handle of a scheduled event; stays valid (and harmless) after the event ran.
struct EventId {
  uint32_t slot = UINT32_MAX;
  uint32_t generation = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  SimTime now() const { return now_; }

  // Requires: at >= now(). Events at equal times run in the order scheduled.
  EventId schedule(SimTime at, Callback cb);
  EventId schedule_in(Duration delay, Callback cb) { return schedule(now_ + delay, std::move(cb)); }

  // Schedules a timeline event (not cancellable). Requires: at >= now(). It runs
  // before every ordinary event at `at`, and after timeline events at `at` with a
  // lower `order` (equal orders: in scheduling order). A scenario step scheduling its
  // own next repetition at the same time therefore keeps its place among the steps.
  void schedule_timeline(SimTime at, uint64_t order, Callback cb);

  // Cancels a pending event; returns false if it already ran (or is running)
  // or was cancelled. The callback is destroyed at once.
  bool cancel(EventId id);

  // Runs every event with time <= limit (in order), then sets now() to the time
  // of the last event run. Returns the number of events run. Stops early when
  // stop() is called from inside a callback or `max_events` have run.
  uint64_t run_until(SimTime limit, uint64_t max_events = UINT64_MAX);

  // Makes the running run_until() return after the current event.
  void stop() { stop_requested_ = true; }

  bool empty() const { return pending_ == 0; }
  uint64_t pending() const { return pending_; }
  uint64_t executed() const { return executed_; }
  // Time of the earliest pending event; SimTime::max() when empty.
  SimTime next_time();

  // Callback slots allocated so far (high-water mark of pending + running events).
  uint32_t slot_capacity() const { return next_fresh_slot_; }

 private:
  // A slot is live while its generation is odd; cancel or dispatch makes it even.
  // The slot returns to the free list only when its queue item is popped.
  struct alignas(64) Slot {
    Callback cb;
    uint32_t generation = 0;
  };
  static constexpr uint32_t kChunkBits = 10;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;

  // Radix heap item: keys are event times; FIFO order among equal times falls out
  // of every bucket being kept in scheduling order (see event_loop.cpp).
  struct Item {
    uint64_t time;
    uint32_t slot;
  };
  struct TimelineItem {
    uint64_t time;
    uint64_t order;
    uint64_t seq;
    Callback cb;
  };
  static bool timeline_later(const TimelineItem& a, const TimelineItem& b);
  // Runs the front timeline event if it is due no later than `limit` and no ordinary
  // event comes before it; returns whether it ran.
  bool run_timeline_front(uint64_t limit);

  // Items earlier than the radix heap's floor (only possible between two
  // run_until calls after cancelled events moved the floor past now()).
  struct EarlyItem {
    uint64_t time;
    uint64_t seq;
    uint32_t slot;
  };
  static constexpr int kBuckets = 65;

  Slot& slot_at(uint32_t s) { return chunks_[s >> kChunkBits][s & (kChunkSize - 1)]; }
  uint32_t allocate_slot();
  void push_item(uint64_t time, uint32_t slot);
  bool refill(uint64_t limit);
  void push_early(EarlyItem e);
  EarlyItem pop_early();
  // Removes cancelled items at the front; returns the front item's time or
  // UINT64_MAX when nothing is pending. May move the radix floor past now().
  uint64_t settle_front();

  SimTime now_{};
  uint64_t next_seq_ = 0;
  uint64_t pending_ = 0;
  uint64_t executed_ = 0;
  bool stop_requested_ = false;

  // Radix heap: bucket 0 (a FIFO read from bucket0_head_) holds items at
  // floor_; bucket i >= 1 items whose time differs from floor_ first at bit i-1.
  uint64_t floor_ = 0;
  uint64_t nonempty_mask_ = 0;  // bit i-1 set when bucket i (i >= 1) is non-empty
  size_t bucket0_head_ = 0;
  std::vector<Item> buckets_[kBuckets];
  std::vector<EarlyItem> early_;  // binary min-heap on (time, seq)
  std::vector<TimelineItem> timeline_;  // binary heap, front: the earliest (timeline_later)

  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::vector<uint32_t> free_slots_;
  uint32_t next_fresh_slot_ = 0;
};

}  // namespace netsim
