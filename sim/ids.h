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
#include <ranges>

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

// The ids 0 .. count-1 in order: `for (HostId h : first_ids<HostId>(n))`.
template <typename IdType>
auto first_ids(size_t count) {
  return std::views::iota(uint32_t{0}, static_cast<uint32_t>(count)) |
         std::views::transform([](uint32_t v) { return IdType(v); });
}

}  // namespace netsim

template <typename Tag>
struct std::hash<netsim::Id<Tag>> {
  size_t operator()(netsim::Id<Tag> id) const { return std::hash<uint32_t>{}(id.value()); }
};
