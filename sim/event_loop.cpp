#include "sim/event_loop.h"

#include <cassert>
#include <utility>

namespace netsim {
namespace {

bool before(int64_t at, uint64_t as, int64_t bt, uint64_t bs) {
  return at < bt || (at == bt && as < bs);
}

}  // namespace

EventLoop::EventLoop() = default;

uint32_t EventLoop::allocate_slot() {
  if (!free_slots_.empty()) {
    uint32_t s = free_slots_.back();
    free_slots_.pop_back();
    return s;
  }
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

EventId EventLoop::schedule(SimTime at, Callback cb) {
  assert(at >= now_);
  uint32_t s = allocate_slot();
  Slot& slot = slots_[s];
  slot.cb = std::move(cb);
  slot.live = true;
  push(Entry{at.ns, next_seq_++, s});
  ++pending_;
  return EventId{s, slot.generation};
}

bool EventLoop::cancel(EventId id) {
  if (!id.valid() || id.slot >= slots_.size()) return false;
  Slot& slot = slots_[id.slot];
  if (!slot.live || slot.generation != id.generation) return false;
  slot.live = false;
  slot.cb = nullptr;
  --pending_;
  return true;
}

void EventLoop::push(Entry e) {
  size_t i = heap_.size();
  heap_.push_back(e);
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!before(e.time, e.seq, heap_[p].time, heap_[p].seq)) break;
    heap_[i] = heap_[p];
    i = p;
  }
  heap_[i] = e;
}

EventLoop::Entry EventLoop::pop() {
  Entry top = heap_[0];
  Entry last = heap_.back();
  heap_.pop_back();
  size_t n = heap_.size();
  if (n == 0) return top;
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && before(heap_[c + 1].time, heap_[c + 1].seq, heap_[c].time, heap_[c].seq)) ++c;
    if (!before(heap_[c].time, heap_[c].seq, last.time, last.seq)) break;
    heap_[i] = heap_[c];
    i = c;
  }
  heap_[i] = last;
  return top;
}

SimTime EventLoop::next_time() {
  while (!heap_.empty() && !slots_[heap_[0].slot].live) {
    Entry e = pop();
    Slot& slot = slots_[e.slot];
    ++slot.generation;
    free_slots_.push_back(e.slot);
  }
  return heap_.empty() ? SimTime::max() : SimTime{heap_[0].time};
}

uint64_t EventLoop::run_until(SimTime limit, uint64_t max_events) {
  stop_requested_ = false;
  uint64_t ran = 0;
  while (ran < max_events && !stop_requested_) {
    if (next_time() > limit) break;
    Entry e = pop();
    Slot& slot = slots_[e.slot];
    Callback cb = std::move(slot.cb);
    slot.live = false;
    ++slot.generation;
    free_slots_.push_back(e.slot);
    --pending_;
    now_ = SimTime{e.time};
    ++executed_;
    ++ran;
    cb();
  }
  return ran;
}

}  // namespace netsim
