// A pool of values in numbered slots, reused through a free list: insert() returns a slot,
// release() moves its value out and makes it reusable (the most recently released slot is
// reused first; until then it holds the moved-from value). Each slot
// counts its releases (its generation), so a handle made of (slot, generation) tells a stale
// holder from the slot's current occupant. Slot numbers stay valid while live; references into
// the pool are invalidated by insert(). Not thread-safe; the owner decides what a slot holds.
#pragma once

#include <cassert>
#include <cstdint>
#include <utility>
#include <vector>

namespace netsim {

template <typename T>
class SlotPool {
 public:
  // Stores `value` in a free slot and returns the slot.
  uint32_t insert(T value) {
    ++live_;
    if (!free_.empty()) {
      uint32_t slot = free_.back();
      free_.pop_back();
      values_[slot] = std::move(value);
      return slot;
    }
    values_.push_back(std::move(value));
    generations_.push_back(0);
    return static_cast<uint32_t>(values_.size() - 1);
  }

  // Requires: `slot` is live. Moves the value out and frees the slot. A T whose moved-from
  // state must not pass for a live value marks itself first (see Link::take).
  T release(uint32_t slot) {
    assert(slot < values_.size() && live_ > 0);
    T out = std::move(values_[slot]);
    ++generations_[slot];
    free_.push_back(slot);
    --live_;
    return out;
  }

  // Requires: slot < capacity().
  T& operator[](uint32_t slot) { return values_[slot]; }
  const T& operator[](uint32_t slot) const { return values_[slot]; }
  // How many times `slot` was released. Requires: slot < capacity().
  uint32_t generation(uint32_t slot) const { return generations_[slot]; }

  size_t live() const { return live_; }
  size_t capacity() const { return values_.size(); }  // slots ever made (the high-water mark)

 private:
  std::vector<T> values_;
  std::vector<uint32_t> generations_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

}  // namespace netsim
