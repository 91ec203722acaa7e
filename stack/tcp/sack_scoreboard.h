// The data sender's SACK scoreboard (RFC 6675 section 2 and 4): which sequence ranges above
// HighACK the peer reported holding (RFC 2018 blocks), and the RFC 6675 queries over them:
// IsLost, NextSeg (rules 1 and 3; new data and the rescue are the caller's) and SetPipe.
// Ranges are disjoint, never adjacent (merged), kept in sequence order above HighACK and below
// HighData; sequence numbers are absolute, compared modulo 2^32 from HighACK. Owned by a
// tcp::Connection that negotiated SACK, while it has SACKed data or recovers a loss.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace netsim::tcp {

class SackScoreboard {
 public:
  static constexpr uint32_t kDupThresh = 3;  // RFC 6675 DupThresh

  // A sequence range [begin, end).
  struct Range {
    uint32_t begin = 0;
    uint32_t end = 0;
    bool operator==(const Range&) const = default;
  };

  // Update(): records the block [left, right) of an ACK whose cumulative point is high_ack,
  // clipped to (high_ack, high_data]; a block at or below high_ack (a D-SACK) or beyond what
  // was sent is ignored. Returns the bytes newly marked SACKed.
  uint32_t add(uint32_t left, uint32_t right, uint32_t high_ack, uint32_t high_data);
  // HighACK moved to high_ack: forgets what lies below it.
  void advance(uint32_t high_ack);
  void clear() { ranges_.clear(); }

  bool empty() const { return ranges_.empty(); }
  const std::vector<Range>& ranges() const { return ranges_; }
  uint32_t sacked_bytes() const;
  // One past the highest SACKed byte. Requires: !empty().
  uint32_t highest_sacked() const { return ranges_.back().end; }
  bool is_sacked(uint32_t seq) const;
  // The end of the SACKed range holding seq, or seq if it is not SACKed.
  uint32_t skip_sacked(uint32_t seq) const;
  // Bytes from seq up to the next SACKed range above it; UINT32_MAX when none is.
  uint32_t unsacked_run(uint32_t seq) const;
  // SACKed bytes below seq.
  uint32_t sacked_below(uint32_t seq) const;

  // IsLost(seq): DupThresh discontiguous SACKed ranges above seq, or more than
  // (DupThresh - 1) * SMSS SACKed bytes above it. Requires: seq is not SACKed.
  bool is_lost(uint32_t seq, uint32_t mss) const;
  // NextSeg() rule 1 (lost_only) or rule 3: the first segment of at most mss unSACKed bytes
  // starting at or above both high_ack and rxt_end (one past HighRxt) and below the highest
  // SACKed byte; under rule 1 its first byte must also be lost.
  std::optional<Range> next_seg(uint32_t high_ack, uint32_t rxt_end, uint32_t mss,
                                bool lost_only) const;
  // SetPipe(): over the unSACKed bytes of [high_ack, high_data), one for each byte not lost
  // and one more for each byte below rxt_end (retransmitted in this recovery).
  uint32_t pipe(uint32_t high_ack, uint32_t high_data, uint32_t rxt_end, uint32_t mss) const;

 private:
  // IsLost for the unSACKed bytes just below ranges_[i] (i == size: above them all).
  bool hole_lost(size_t i, uint32_t mss) const;

  std::vector<Range> ranges_;
};

}  // namespace netsim::tcp
