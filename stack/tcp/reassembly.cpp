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

std::optional<std::pair<uint64_t, uint64_t>> ReassemblyQueue::run_containing(uint64_t offset) const {
  auto it = pieces_.upper_bound(offset);
  if (it == pieces_.begin()) return std::nullopt;
  auto first = std::prev(it);
  if (first->first + first->second.size() <= offset) return std::nullopt;
  while (first != pieces_.begin()) {  // pieces touching from below
    auto prev = std::prev(first);
    if (prev->first + prev->second.size() != first->first) break;
    first = prev;
  }
  uint64_t end = std::prev(it)->first + std::prev(it)->second.size();
  for (; it != pieces_.end() && it->first == end; ++it) end += it->second.size();
  return std::make_pair(first->first, end);
}

}  // namespace netsim::tcp
