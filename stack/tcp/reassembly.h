// Out-of-order data a TCP receiver holds until the gap before it is filled,
// keyed by receive stream offset (0 = the first data byte after the peer's
// SYN). Pieces never overlap; duplicates are trimmed on insert. Owned by a
// tcp::Connection; its size is bounded by the receive window.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace netsim::tcp {

class ReassemblyQueue {
 public:
  // Holds bytes at [offset, offset + data.size()), minus what is already held.
  void insert(uint64_t offset, std::string_view data);

  // Removes the bytes contiguous from `next` on and passes each piece to
  // deliver(std::string_view); drops held bytes below `next`. Returns the new next.
  template <typename Deliver>
  uint64_t pop_contiguous(uint64_t next, Deliver&& deliver) {
    while (!pieces_.empty() && pieces_.begin()->first <= next) {
      auto node = pieces_.extract(pieces_.begin());
      const std::string& bytes = node.mapped();
      held_ -= bytes.size();
      uint64_t end = node.key() + bytes.size();
      if (end <= next) continue;
      std::string_view fresh(bytes);
      fresh.remove_prefix(static_cast<size_t>(next - node.key()));
      next = end;
      deliver(fresh);
    }
    return next;
  }

  // The contiguous held bytes [first, second) that include `offset` (an RFC 2018 SACK block);
  // none when `offset` is not held.
  std::optional<std::pair<uint64_t, uint64_t>> run_containing(uint64_t offset) const;

  uint64_t held_bytes() const { return held_; }
  size_t pieces() const { return pieces_.size(); }
  bool empty() const { return pieces_.empty(); }
  void clear() { pieces_.clear(); held_ = 0; }

 private:
  std::map<uint64_t, std::string> pieces_;
  uint64_t held_ = 0;
};

}  // namespace netsim::tcp
