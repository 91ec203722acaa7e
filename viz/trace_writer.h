// TraceWriter: the TraceSink that turns typed TraceRecords into the JSONL trace
// of ../shared/spec/trace-format.md (sorted keys, one line per event, `\n`).
// It owns the trace text: header, event lines (seq 0, 1, ... header excluded),
// `expect` lines, then the summary whose fingerprint is SHA-256 of all lines before it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/time.h"
#include "stack/packet.h"
#include "stack/trace.h"
#include "viz/sha256.h"

namespace netsim {

struct TraceHeader {
  std::string netsim_version;
  std::string policy;
  std::string scenario;
  std::string scenario_sha256;
  uint64_t seed = 1;
  nlohmann::json topology;  // extension; null: the key is left out
};

// Packet object format (sorted keys, as written):
//   TCP  {"ack","dst","flags","id","len","mss"?,"proto":"tcp","seq","src","ttl","window"}
//   UDP  {"dst","id","len","proto":"udp","src","ttl"}
//   ICMP {"dst","id","inner"?,"len","proto":"icmp","seq"? (echo),"src","ttl","type"}
// `len` is payload bytes; TCP `flags` are letters in the order F S R P A ("SA", "FA", "PA",
// "" for none); TCP/UDP addresses "10.0.0.1:80" / "[fd00::1]:80", ICMP ones without port.
class TraceWriter : public TraceSink {
 public:
  // The `data` field holds a payload of at most this many bytes (valid UTF-8); else `size`.
  static constexpr size_t kMaxInlineData = 64;

  explicit TraceWriter(const TraceHeader& header);
  ~TraceWriter() override;

  // Time source for `t`; unset, every event is at t = 0.
  void set_clock(std::function<SimTime()> now);
  // Defaults for records that name no cause (cause -1) and for `step`; cause < 0 or an
  // empty pointer leave the key out. Set by the runner around a step or a packet event.
  void set_context(int64_t cause, std::string step_pointer);
  void clear_context();

  // Appends one event line; returns its seq. Requires: finish() not called (else -1).
  // A record of a kind the writer does not keep (set_kinds) is ignored and returns -1.
  int64_t emit(const TraceRecord& r) override;
  // Keeps only events of these kinds (a bit per TraceKind value); default: every kind.
  // With a subset the trace is a filtered, non-default trace (its seqs and fingerprint
  // differ from the full trace's); `expect` lines and the summary are always written.
  static constexpr uint64_t kAllKinds = ~uint64_t{0};
  void set_kinds(uint64_t mask) { kinds_mask_ = mask; }
  bool wants(TraceKind k) const override { return (kinds_mask_ >> static_cast<unsigned>(k)) & 1; }
  // Appends an `expect` event (after all simulation events). Empty detail: no key.
  void append_expect(const std::string& pointer, bool pass, const std::string& detail);
  // Appends the summary line. Later calls do nothing.
  void finish(uint64_t steps_passed, uint64_t steps_failed, uint64_t exp_passed,
              uint64_t exp_failed);

  // Number of event lines so far (header and summary excluded).
  size_t event_count() const { return line_start_.size(); }
  // Kind name of event i ("tx", "expect", ...), without parsing the line.
  std::string_view event_kind(size_t i) const { return kinds_[i]; }
  // The event lines parsed into objects (header and summary excluded). Parsed lazily on
  // the first call after new events and cached: a cost only runs that check pay.
  const std::vector<nlohmann::json>& events() const;
  // Only the events whose kind is in `kinds`, parsed now and not cached: for long runs
  // whose expectations name their kinds (scenario::referenced_event_kinds).
  std::vector<nlohmann::json> parse_events(const std::vector<std::string>& kinds) const;
  // Event i as written, without the `\n`.
  std::string_view event_line(size_t i) const;

  const std::string& text() const { return text_; }
  // SHA-256 hex of every line before the summary (header included); after finish() it
  // equals the summary's `fingerprint`.
  std::string fingerprint() const;
  bool finished() const { return finished_; }

  // The packet object alone (for exports and tests), as written inside events.
  static std::string packet_json(const Packet& p);

 private:
  SimTime now() const;
  void append_line(std::string_view kind, std::string_view line);

  std::function<SimTime()> clock_;
  uint64_t kinds_mask_ = kAllKinds;
  int64_t context_cause_ = -1;
  std::string context_step_;
  std::string text_;
  std::vector<size_t> line_start_;       // offset in text_ of each event line
  std::vector<std::string_view> kinds_;  // static strings
  size_t events_end_ = 0;                // end of the last event line in text_
  Sha256 hash_;
  std::string fingerprint_;  // set by finish()
  bool finished_ = false;
  SimTime last_t_{};
  mutable std::vector<nlohmann::json> parsed_;
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

// Writes `content` to `path` atomically: a temporary file in the same directory, fsync,
// rename over `path`. On failure `path` is untouched, no temporary is left, and *error
// (if given) says why.
bool write_file_atomically(const std::string& path, std::string_view content, std::string* error);

// JSON text helpers shared by the viz exporters; output is byte-identical to
// nlohmann::json::dump() for the same value.
void append_json_string(std::string& out, std::string_view s);
bool is_valid_utf8(std::string_view s);

}  // namespace netsim
