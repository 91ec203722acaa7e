// How an export sees a trace: one event at a time, in order, with a lookahead window of
// kLookahead events read ahead of the one being written (where a packet's delivery or drop is
// found before its capture is written). An exporter keeps what it knows about packets in Recent
// maps that forget after kLookahead more events, so its memory is bounded by the window and the
// topology, never by the length of the trace. viz/export.cpp drives the exporters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "viz/trace_reader.h"

namespace netsim {

// Facts about a packet (its payload, where it ends) are seen within this many events.
inline constexpr uint64_t kLookahead = 16384;
// The HTML viewer embeds at most this many events (or bytes of events); above it, a window.
inline constexpr size_t kViewerMaxEvents = 200000;
inline constexpr size_t kViewerMaxBytes = 48u << 20;

// Which captures pcapng writes (docs/exports.md, "pcapng"): kTx one packet block per link
// traversal, at the sending interface (the default: each packet once per hop, as a capture on
// the wire sees it); kRx one at the receiving interface (packets lost on the link are missing);
// kBoth every tx and rx (each hop twice, which Wireshark's TCP analysis reads as duplicates).
enum class PcapngCapture { kTx, kRx, kBoth };

struct ExportOptions {
  PcapngCapture capture = PcapngCapture::kTx;
  // Only the events with from_ns <= t <= to_ns (virtual time) are exported.
  std::optional<int64_t> from_ns, to_ns;
  // The HTML viewer's ceiling (tests lower it).
  size_t viewer_max_events = kViewerMaxEvents;
  size_t viewer_max_bytes = kViewerMaxBytes;
};

class TraceExporter {
 public:
  virtual ~TraceExporter() = default;
  // Every event as soon as it is read, kLookahead events before emit() gets it.
  virtual void look(const nlohmann::json& event, uint64_t index) {
    (void)event;
    (void)index;
  }
  // Once, before the first emit(): the trace's topology holds the header's hosts and links and
  // every name the events read so far used.
  virtual void start(const TraceReader& trace) = 0;
  // Every event in order; index counts the exported events from 0.
  virtual void emit(const nlohmann::json& event, uint64_t index) = 0;
  // After the last event (trace.summary() is null for a trace cut short).
  virtual void finish(const TraceReader& trace) = 0;
  // How many entries the exporter holds about events (the bounded-memory test reads it).
  virtual size_t held() const = 0;
};

// A map that forgets: an entry set at event index i is gone after forget_before(j) for j > i,
// unless it was set again since. Requires: set() is called with non-decreasing indexes.
template <typename Key, typename Value>
class Recent {
 public:
  Value* find(const Key& key) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second.second;
  }
  bool contains(const Key& key) const { return map_.count(key) != 0; }
  Value& set(const Key& key, uint64_t index, Value value) {
    order_.emplace_back(index, key);
    auto& slot = map_[key];
    slot = {index, std::move(value)};
    return slot.second;
  }
  void forget_before(uint64_t index) {
    while (!order_.empty() && order_.front().first < index) {
      auto it = map_.find(order_.front().second);
      if (it != map_.end() && it->second.first == order_.front().first) map_.erase(it);
      order_.pop_front();
    }
  }
  // Entries by key, each with the index it was set at.
  const std::map<Key, std::pair<uint64_t, Value>>& entries() const { return map_; }
  size_t held() const { return map_.size() + order_.size(); }

 private:
  std::map<Key, std::pair<uint64_t, Value>> map_;
  std::deque<std::pair<uint64_t, Key>> order_;
};

// What emit(index) forgets: entries set more than kLookahead events before it.
inline uint64_t forget_horizon(uint64_t index) { return index > kLookahead ? index - kLookahead : 0; }

}  // namespace netsim
