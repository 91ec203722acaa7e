#include "stack/tcp/reassembly.h"

namespace netsim::tcp {

void ReassemblyQueue::insert(uint64_t offset, std::string_view data) {
  uint64_t start = offset;
  uint64_t end = offset + data.size();
  if (start == end) return;
  // Trim against the piece starting at or before `start`.
  auto it = pieces_.upper_bound(start);
  if (it != pieces_.begin()) {
    auto prev = std::prev(it);
    uint64_t prev_end = prev->first + prev->second.size();
    if (prev_end >= end) return;  // fully held already
    if (prev_end > start) start = prev_end;
  }
  // Pieces starting inside [start, end): drop those covered, stop at the first that sticks out.
  while (it != pieces_.end() && it->first < end) {
    uint64_t piece_end = it->first + it->second.size();
    if (piece_end <= end) {
      held_ -= it->second.size();
      it = pieces_.erase(it);
    } else {
      end = it->first;
      break;
    }
  }
  if (start >= end) return;
  std::string_view keep = data.substr(static_cast<size_t>(start - offset),
                                      static_cast<size_t>(end - start));
  pieces_.emplace(start, std::string(keep));
  held_ += keep.size();
}

}  // namespace netsim::tcp
