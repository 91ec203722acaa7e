// Handles for the things a topology numbers: hosts, links, and a host's interfaces. Each is
// its own type, so a LinkId cannot be passed where a HostId is wanted, and none converts to or
// from an integer implicitly: make one with an explicit constructor, read its index with
// value(). Hosts and links count from 0 in the order added to their Topology; an InterfaceId
// counts one host's interfaces in declaration order (0 is `lo` on a stack's host).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>

namespace netsim {

template <typename Tag>
class Id {
 public:
  constexpr Id() = default;
  constexpr explicit Id(uint32_t value) : value_(value) {}
  constexpr uint32_t value() const { return value_; }
  // The next id in counting order (for loops over every host or link).
  constexpr Id next() const { return Id(value_ + 1); }
  auto operator<=>(const Id&) const = default;

 private:
  uint32_t value_ = 0;
};

// Prints the index (for messages and test failures).
template <typename Tag>
std::ostream& operator<<(std::ostream& out, Id<Tag> id) {
  return out << id.value();
}

using HostId = Id<struct HostTag>;
using LinkId = Id<struct LinkTag>;
using InterfaceId = Id<struct InterfaceTag>;

// The ids 0 .. count-1 in order: `for (HostId h : first_ids<HostId>(n))`. A hand-written range
// rather than std::views::iota, which clang 14 cannot compile against libstdc++ 12's <ranges>.
template <typename IdType>
class IdRange {
 public:
  class iterator {
   public:
    using value_type = IdType;
    using difference_type = std::ptrdiff_t;
    constexpr iterator() = default;
    constexpr explicit iterator(uint32_t value) : value_(value) {}
    constexpr IdType operator*() const { return IdType(value_); }
    constexpr iterator& operator++() {
      ++value_;
      return *this;
    }
    constexpr iterator operator++(int) {
      iterator before = *this;
      ++value_;
      return before;
    }
    constexpr bool operator==(const iterator&) const = default;

   private:
    uint32_t value_ = 0;
  };

  constexpr explicit IdRange(uint32_t count) : count_(count) {}
  constexpr iterator begin() const { return iterator(0); }
  constexpr iterator end() const { return iterator(count_); }
  constexpr size_t size() const { return count_; }
  constexpr bool empty() const { return count_ == 0; }

 private:
  uint32_t count_;
};

template <typename IdType>
constexpr IdRange<IdType> first_ids(size_t count) {
  return IdRange<IdType>(static_cast<uint32_t>(count));
}

}  // namespace netsim

template <typename Tag>
struct std::hash<netsim::Id<Tag>> {
  size_t operator()(netsim::Id<Tag> id) const { return std::hash<uint32_t>{}(id.value()); }
};
