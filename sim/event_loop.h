// The discrete-event loop: runs callbacks in order of (virtual time, scheduling
// sequence), FIFO among events at the same time. Cancel is O(1) by marking.
// A second queue, the timeline, holds a scenario's pre-ordered events (its steps):
// at any time, timeline events run before every ordinary event of that time, and
// among themselves by (time, order, scheduling sequence).
// Owned by a Simulation and passed by reference; there is no global instance.
// Internally a monotone radix heap on the event time plus a slab of callback
// slots reused through a free list (generation counters keep EventIds honest).
// A TieBreaker, when set, sees every tie (two or more events ready at one instant)
// and picks which runs next; without one the loop never looks for ties.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
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

// What an event is, for a TieBreaker: its kind and the host whose state it acts on.
// Packed in 32 bits (it rides in the callback slot's padding). An event on no
// particular host (a network-wide step, or one scheduled without a tag) has kNoHost.
enum class EventKind : uint8_t { kOther, kStep, kArrival, kTimer, kLoopback };
struct EventTag {
  static constexpr uint32_t kNoHost = (1u << 24) - 1;
  uint32_t bits = kNoHost;

  static EventTag on(EventKind kind, uint32_t host) {
    return EventTag{(static_cast<uint32_t>(kind) << 24) | (host < kNoHost ? host : kNoHost)};
  }
  EventKind kind() const { return static_cast<EventKind>(bits >> 24); }
  uint32_t host() const { return bits & kNoHost; }
  friend bool operator==(EventTag, EventTag) = default;
};

// Decides the order at ties. `ready` holds the events ready at `now` in the default
// order (the one the loop follows without a tie breaker), at most kMaxTie of them
// (later ones wait their turn); the event at the returned index runs next, and the
// loop asks again while two or more are ready. Requires: the result < ready.size().
class TieBreaker {
 public:
  static constexpr size_t kMaxTie = 16;
  virtual ~TieBreaker() = default;
  virtual size_t choose(SimTime now, std::span<const EventTag> ready) = 0;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  SimTime now() const { return now_; }

  // Requires: at >= now(). Events at equal times run in the order scheduled.
  // `tag` says what the event is, for a tie breaker only.
  EventId schedule(SimTime at, Callback cb, EventTag tag = {});
  EventId schedule_in(Duration delay, Callback cb, EventTag tag = {}) {
    return schedule(now_ + delay, std::move(cb), tag);
  }

  // Schedules a timeline event (not cancellable). Requires: at >= now(). It runs
  // before every ordinary event at `at`, and after timeline events at `at` with a
  // lower `order` (equal orders: in scheduling order). A scenario step scheduling its
  // own next repetition at the same time therefore keeps its place among the steps.
  void schedule_timeline(SimTime at, uint64_t order, Callback cb, EventTag tag = {});

  // From now on ties go to `t` (null: the default order, and no tie is looked for).
  // Requires: `t` outlives its use; set before the first run_until for a whole run.
  void set_tie_breaker(TieBreaker* t) { tie_breaker_ = t; }

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
    EventTag tag;
  };
  static_assert(sizeof(Slot) == 64, "the tag must fit the slot's padding");
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
    EventTag tag;
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

  // With a tie breaker: the events ready at ready_time_, in the default order
  // (timeline events by (order, seq), then ordinary ones in scheduling order).
  struct ReadyEvent {
    EventTag tag;
    bool timeline;
    uint64_t order;  // timeline events
    uint64_t seq;    // timeline events
    uint32_t slot;   // ordinary events
    Callback cb;     // timeline events
  };
  uint64_t run_until_with_ties(uint64_t limit, uint64_t max_events);
  // Moves every event due at the next instant (at most `limit`) into ready_; false
  // when none is due.
  bool gather_ready(uint64_t limit);
  // Drops cancelled events among the first kMaxTie ready ones.
  void drop_cancelled_ready();
  void run_ready(size_t index);

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
  TieBreaker* tie_breaker_ = nullptr;
  std::deque<ReadyEvent> ready_;
  uint64_t ready_time_ = 0;
  std::vector<EventTag> ready_tags_;  // scratch for choose()

  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::vector<uint32_t> free_slots_;
  uint32_t next_fresh_slot_ = 0;
};

}  // namespace netsim
