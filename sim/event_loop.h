// The discrete-event loop: runs callbacks in order of (virtual time, scheduling
// sequence), FIFO among events at the same time. Cancel is O(1) by marking.
// Owned by a Simulation and passed by reference; there is no global instance.
#pragma once

#include <cstdint>
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
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  SimTime now() const { return now_; }

  // Requires: at >= now(). Events at equal times run in the order scheduled.
  EventId schedule(SimTime at, Callback cb);
  EventId schedule_in(Duration delay, Callback cb) { return schedule(now_ + delay, std::move(cb)); }

  // Cancels a pending event; returns false if it already ran or was cancelled.
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

 private:
  struct Slot {
    Callback cb;
    uint32_t generation = 0;
    bool live = false;
  };
  struct Entry {
    int64_t time;
    uint64_t seq;
    uint32_t slot;
  };

  void push(Entry e);
  Entry pop();
  uint32_t allocate_slot();

  SimTime now_{};
  uint64_t next_seq_ = 0;
  uint64_t pending_ = 0;
  uint64_t executed_ = 0;
  bool stop_requested_ = false;
  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
};

}  // namespace netsim
