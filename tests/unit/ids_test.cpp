// The topology's handles (sim/ids.h) and the stack's SocketId (stack/handles.h): each is its
// own type, none converts to another or to or from an integer without saying so, and they
// order, hash and count as their index does.
#include "sim/ids.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "stack/handles.h"

namespace netsim {
namespace {

// A handle of one kind is never accepted where another kind is expected.
static_assert(!std::is_convertible_v<HostId, LinkId>);
static_assert(!std::is_convertible_v<HostId, InterfaceId>);
static_assert(!std::is_convertible_v<LinkId, HostId>);
static_assert(!std::is_convertible_v<LinkId, InterfaceId>);
static_assert(!std::is_convertible_v<InterfaceId, HostId>);
static_assert(!std::is_convertible_v<InterfaceId, LinkId>);
static_assert(!std::is_constructible_v<HostId, LinkId>);
static_assert(!std::is_constructible_v<InterfaceId, HostId>);
static_assert(!std::is_convertible_v<SocketId, HostId>);
static_assert(!std::is_convertible_v<HostId, SocketId>);

// No implicit way in from an integer, and no way out to one but value().
static_assert(!std::is_convertible_v<uint32_t, HostId>);
static_assert(!std::is_convertible_v<int, LinkId>);
static_assert(!std::is_convertible_v<size_t, InterfaceId>);
static_assert(!std::is_convertible_v<HostId, uint32_t>);
static_assert(!std::is_convertible_v<LinkId, size_t>);
static_assert(!std::is_convertible_v<InterfaceId, int>);
static_assert(!std::is_convertible_v<InterfaceId, bool>);
static_assert(!std::is_convertible_v<uint32_t, SocketId>);
static_assert(!std::is_convertible_v<SocketId, uint64_t>);
static_assert(std::is_constructible_v<HostId, uint32_t>);  // explicit construction only

// A handle costs what its index costs.
static_assert(sizeof(HostId) == sizeof(uint32_t));
static_assert(sizeof(LinkId) == sizeof(uint32_t));
static_assert(sizeof(InterfaceId) == sizeof(uint32_t));
static_assert(std::is_trivially_copyable_v<HostId>);

TEST(Ids, DefaultIsZeroAndValueIsTheIndex) {
  EXPECT_EQ(HostId().value(), 0u);
  EXPECT_EQ(LinkId(7).value(), 7u);
  EXPECT_EQ(InterfaceId(3).next(), InterfaceId(4));
}

TEST(Ids, OrderAndHashFollowTheIndex) {
  EXPECT_LT(HostId(1), HostId(2));
  EXPECT_NE(LinkId(1), LinkId(2));
  std::unordered_set<HostId> seen{HostId(1), HostId(1), HostId(2)};
  EXPECT_EQ(seen.size(), 2u);
}

TEST(Ids, FirstIdsCountFromZero) {
  std::vector<LinkId> links;
  for (LinkId l : first_ids<LinkId>(3)) links.push_back(l);
  EXPECT_EQ(links, (std::vector<LinkId>{LinkId(0), LinkId(1), LinkId(2)}));
  EXPECT_TRUE(first_ids<HostId>(0).empty());
}

}  // namespace
}  // namespace netsim
