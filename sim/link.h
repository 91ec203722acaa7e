// One link's transmission model (point to point or shared segment): per sending end a
// drop-tail FIFO feeding one transmitter, exact-to-the-ns serialisation, then propagation
// latency, seeded random loss, and up/down state. Frames are opaque byte counts with two
// callbacks. Schedules its events on the loop it is given; not copyable or movable (events
// point at it), and its destructor cancels its pending events without calling back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/callback.h"
#include "sim/event_loop.h"
#include "sim/random.h"
#include "sim/slot_pool.h"
#include "sim/time.h"

namespace netsim {

struct LinkParams {
  Duration latency{};
  std::optional<uint64_t> bandwidth_bps;  // none: no serialisation delay. Requires: > 0.
  double loss = 0;                        // probability per frame, 0..1
  uint32_t queue = 1000;                  // frames that may wait per sending end
  uint32_t framing_bytes = 2;             // 2 = PPP; the runner passes 14 for segments
};

enum class LinkLoss : uint8_t { kQueueFull, kLoss, kLinkDown };
std::string_view to_string(LinkLoss loss);

struct LinkStats {
  uint64_t accepted = 0;     // frames that entered a queue or the transmitter
  uint64_t delivered = 0;    // `arrive` called
  uint64_t queue_full = 0;   // lost(kQueueFull)
  uint64_t lost = 0;         // lost(kLoss)
  uint64_t link_down = 0;    // lost(kLinkDown)
};

class Link {
 public:
  using LostFn = std::function<void(LinkLoss)>;

  // Requires: end_count >= 2; bandwidth, if any, > 0.
  Link(std::string name, LinkParams params, size_t end_count, EventLoop& loop, Rng rng);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // A frame of `bytes` (the IP datagram; params().framing_bytes is added for serialisation)
  // leaves end `from` for end `to`. Exactly one of the callbacks runs, exactly once:
  // - lost(kLinkDown) at once, inside this call, if the link is down;
  // - lost(kQueueFull) at once, inside this call, if `queue` frames already wait at `from`
  //   (the frame being serialised does not count; a frame whose serialisation starts now
  //   is being serialised, not waiting);
  // - otherwise the frame starts serialising when the previous frame from `from` is done
  //   (ceil(bits * 1e9 / bps) ns; zero without bandwidth), propagates for `latency`, and at
  //   arrival time runs `arrive`, or lost(kLoss) if the loss draw said so;
  // - lost(kLinkDown) when the link goes down before arrival.
  // Loss draw: every transmit() call, accepted or not, takes exactly one draw from the
  // link's stream, in call order, so frame N's fate does not depend on queues or downtime.
  // `tag` labels the arrival event for a tie breaker (EventLoop::set_tie_breaker).
  // Requires: from, to < end_count(), from != to; `arrive` not empty (`lost` may be).
  void transmit(size_t from, size_t to, uint32_t bytes, Callback arrive, LostFn lost,
                EventTag tag = {});

  // Going down loses every queued, serialising and in-flight frame: their lost(kLinkDown)
  // run inside this call, in transmit order, after the link's state is already down and
  // empty (so they may call transmit again). Coming up starts with idle transmitters.
  void set_up(bool up);
  bool up() const { return up_; }

  const std::string& name() const { return name_; }
  const LinkParams& params() const { return params_; }
  size_t end_count() const { return ends_.size(); }
  const LinkStats& stats() const { return stats_; }
  // Frames waiting at `from` now, excluding the one being serialised.
  size_t queued(size_t from) const;
  // Frames accepted and not yet arrived or lost.
  size_t in_transit() const { return frames_.live(); }
  // Serialisation delay of a `bytes`-byte datagram (framing included).
  Duration serialisation(uint32_t bytes) const;

 private:
  // A frame between acceptance and its arrival event.
  struct Frame {
    Callback arrive;
    LostFn lost;
    uint64_t seq = 0;
    EventId event;
    bool doomed = false;  // the loss draw said kLoss
    bool live = false;    // false in a free slot
  };
  // Serialisation start times of the frames still waiting or serialising at one end,
  // ascending: a power-of-two ring that stops growing at queue + 1 entries.
  struct End {
    std::vector<int64_t> starts;
    size_t head = 0;
    size_t size = 0;
    int64_t busy_until = 0;  // when the transmitter finishes its last frame
  };

  void arrive(uint32_t slot);
  // Releases a live frame's slot, marking it free first.
  Frame take(uint32_t slot);
  static void prune(End& end, int64_t now);
  static void push_start(End& end, int64_t start);

  std::string name_;
  LinkParams params_;
  EventLoop& loop_;
  Rng rng_;
  bool up_ = true;
  uint64_t next_seq_ = 0;
  LinkStats stats_;
  std::vector<End> ends_;
  SlotPool<Frame> frames_;  // a live frame's slot is its handle in the loop's callbacks
};

}  // namespace netsim
