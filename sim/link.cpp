#include "sim/link.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace netsim {

std::string_view to_string(LinkLoss loss) {
  switch (loss) {
    case LinkLoss::kQueueFull:
      return "queue_full";
    case LinkLoss::kLoss:
      return "loss";
    case LinkLoss::kLinkDown:
      return "link_down";
  }
  return "unknown";
}

Link::Link(std::string name, LinkParams params, size_t end_count, EventLoop& loop, Rng rng)
    : name_(std::move(name)), params_(params), loop_(loop), rng_(rng), ends_(end_count) {
  assert(end_count >= 2);
  assert(!params_.bandwidth_bps || *params_.bandwidth_bps > 0);
}

Link::~Link() {
  for (uint32_t s = 0; s < frames_.capacity(); ++s)
    if (frames_[s].live) loop_.cancel(frames_[s].event);
}

Duration Link::serialisation(uint32_t bytes) const {
  if (!params_.bandwidth_bps) return Duration{};
  const unsigned __int128 bits =
      (static_cast<unsigned __int128>(bytes) + params_.framing_bytes) * 8;
  const unsigned __int128 bps = *params_.bandwidth_bps;
  const unsigned __int128 ns = (bits * 1000000000u + bps - 1) / bps;
  return Duration{ns > static_cast<unsigned __int128>(INT64_MAX) ? INT64_MAX
                                                                 : static_cast<int64_t>(ns)};
}

void Link::prune(End& end, int64_t now) {
  const size_t mask = end.starts.size() - 1;
  while (end.size > 0 && end.starts[end.head] <= now) {
    end.head = (end.head + 1) & mask;
    --end.size;
  }
}

void Link::push_start(End& end, int64_t start) {
  if (end.size == end.starts.size()) {
    std::vector<int64_t> bigger(std::max<size_t>(8, end.starts.size() * 2));
    for (size_t k = 0; k < end.size; ++k) {
      bigger[k] = end.starts[(end.head + k) & (end.starts.size() - 1)];
    }
    end.starts = std::move(bigger);
    end.head = 0;
  }
  end.starts[(end.head + end.size) & (end.starts.size() - 1)] = start;
  ++end.size;
}

size_t Link::queued(size_t from) const {
  const End& end = ends_[from];
  const int64_t now = loop_.now().ns;
  // Starts are ascending: binary search for the first one still in the future.
  size_t lo = 0;
  size_t hi = end.size;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (end.starts[(end.head + mid) & (end.starts.size() - 1)] <= now) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return end.size - lo;
}

void Link::transmit(size_t from, size_t to, uint32_t bytes, Callback arrive, LostFn lost,
                    EventTag tag) {
  assert(from < ends_.size() && to < ends_.size() && from != to);
  assert(arrive);
  (void)to;
  const bool doomed = rng_.chance(params_.loss);
  if (!up_) {
    ++stats_.link_down;
    if (lost) lost(LinkLoss::kLinkDown);
    return;
  }
  End& end = ends_[from];
  const int64_t now = loop_.now().ns;
  if (end.size > 0) prune(end, now);
  if (end.busy_until > now && end.size >= params_.queue) {
    ++stats_.queue_full;
    if (lost) lost(LinkLoss::kQueueFull);
    return;
  }
  // Saturating: a backlog (or latency) reaching past the end of virtual time arrives
  // "never" (at SimTime::max(), beyond any stop time) instead of overflowing.
  const auto add = [](int64_t a, int64_t b) { return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b; };
  const int64_t start = std::max(now, end.busy_until);
  const int64_t finish = add(start, serialisation(bytes).ns);
  end.busy_until = finish;
  if (start > now) push_start(end, start);

  const uint32_t slot = frames_.insert(Frame{std::move(arrive), std::move(lost), next_seq_++, EventId{}, doomed, true});
  frames_[slot].event =
      loop_.schedule(SimTime{add(finish, params_.latency.ns)}, [this, slot] { this->arrive(slot); }, tag);
  ++stats_.accepted;
}

Link::Frame Link::take(uint32_t slot) {
  frames_[slot].live = false;
  return frames_.release(slot);
}

void Link::arrive(uint32_t slot) {
  Frame f = take(slot);
  if (f.doomed) {
    ++stats_.lost;
    if (f.lost) f.lost(LinkLoss::kLoss);
  } else {
    ++stats_.delivered;
    f.arrive();
  }
}

void Link::set_up(bool up) {
  if (up == up_) return;
  up_ = up;
  if (up) return;

  std::vector<uint32_t> doomed;
  doomed.reserve(frames_.live());
  for (uint32_t s = 0; s < frames_.capacity(); ++s) {
    if (frames_[s].live) doomed.push_back(s);
  }
  std::sort(doomed.begin(), doomed.end(),
            [this](uint32_t a, uint32_t b) { return frames_[a].seq < frames_[b].seq; });
  std::vector<LostFn> callbacks;
  callbacks.reserve(doomed.size());
  for (uint32_t s : doomed) {
    Frame f = take(s);
    loop_.cancel(f.event);
    callbacks.push_back(std::move(f.lost));
  }
  for (End& end : ends_) {
    end.head = 0;
    end.size = 0;
    end.busy_until = 0;
  }
  stats_.link_down += callbacks.size();
  for (LostFn& lost : callbacks) {
    if (lost) lost(LinkLoss::kLinkDown);
  }
}

}  // namespace netsim
