// TraceWriter: the TraceSink that turns typed trace records into the JSONL trace
// of docs/trace-format.md (sorted keys, one line per event, `\n`) and streams it:
// each line goes to the TraceOutput (if any) as it is made, the fingerprint is hashed
// incrementally, and the TraceObserver (the online expectation matchers) sees every
// kept event. Nothing proportional to the length of a run is kept in memory; lines
// nobody reads (no output, no fingerprint) are never rendered.
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
#include "viz/trace_fields.h"
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

// Where trace bytes go, in order. Implementations buffer as they like; a failure is
// reported by the owner of the output (OutputFile), not through write().
class TraceOutput {
 public:
  virtual ~TraceOutput() = default;
  virtual void write(std::string_view bytes) = 0;
};

// Keeps the trace in memory: for tests, the fuzzer and small comparisons.
class StringTraceOutput : public TraceOutput {
 public:
  void write(std::string_view bytes) override { text_.append(bytes); }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// Sees every event the writer keeps, as it is emitted (before `expect` lines).
class TraceObserver {
 public:
  virtual ~TraceObserver() = default;
  virtual void on_event(const TraceEventView& event) = 0;
};

// Packet object format (sorted keys, as written):
//   TCP  {"ack","dst","flags","id","len","mss"?,"proto":"tcp","sack"?,"sack_ok"?,"seq","src",
//         "ts_ecr"?,"ts_val"?,"ttl","window","wscale"?}  (options: docs/trace-format.md)
//   UDP  {"dst","id","len","proto":"udp","src","ttl"}
//   ICMP {"dst","id","inner"?,"len","proto":"icmp","seq"? (echo),"src","ttl","type"}
// `len` is payload bytes; TCP `flags` are letters in the order F S R P A ("SA", "FA", "PA",
// "" for none); TCP/UDP addresses "10.0.0.1:80" / "[fd00::1]:80", ICMP ones without port.
class TraceWriter : public TraceSink {
 public:
  // The `data` field holds a payload of at most this many bytes (valid UTF-8); else `size`.
  static constexpr size_t kMaxInlineData = 64;

  // Lines go to `output` (may be null); a written trace always carries its fingerprint.
  // With no output and `fingerprint` false, lines are not rendered at all and
  // fingerprint() is empty.
  // `observer` (may be null) sees every kept event, from the first.
  TraceWriter(const TraceHeader& header, TraceOutput* output, bool fingerprint = true,
              TraceObserver* observer = nullptr);
  ~TraceWriter() override;

  // Time source for `t`; unset, every event is at t = 0.
  void set_clock(std::function<SimTime()> now);
  // Defaults for records that name no cause (cause -1) and for `step`; cause < 0 or an
  // empty pointer leave the key out. Set by the runner around a step or a packet event.
  void set_context(int64_t cause, std::string step_pointer);
  void clear_context();

  // Names the sockets of stack records (may be null: sockets are written without names).
  void set_namer(const SocketNamer* namer) { namer_ = namer; }
  // Emits one event; returns its seq. Requires: finish() not called (else -1).
  // A record of a kind the writer does not keep (set_kinds) is ignored and returns -1.
  int64_t emit(const StackEvent& event) override;
  // A record of the application's (`step`, `guard`); `cause` as a StackEvent's.
  int64_t emit(const RecordBody& body, int64_t cause = -1);
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
  size_t event_count() const { return static_cast<size_t>(next_seq_); }
  // SHA-256 hex of every line before the summary (header included); after finish() it
  // equals the summary's `fingerprint`. Empty when the writer does not hash.
  std::string fingerprint() const;
  bool finished() const { return finished_; }

  // The packet object alone (for exports and tests), as written inside events.
  static std::string packet_json(const Packet& p);

 private:
  SimTime now() const;
  // Numbers, shows and writes one event; `make_view` builds its view from the context.
  template <typename MakeView>
  int64_t emit_event(TraceKind kind, int64_t cause, MakeView&& make_view);
  void write_line(std::string_view line);
  bool renders() const { return output_ != nullptr || hashing_; }

  TraceOutput* output_;
  bool hashing_;
  TraceObserver* observer_ = nullptr;
  const SocketNamer* namer_ = nullptr;
  std::function<SimTime()> clock_;
  uint64_t kinds_mask_ = kAllKinds;
  int64_t context_cause_ = -1;
  std::string context_step_;
  int64_t next_seq_ = 0;
  Sha256 hash_;
  std::string fingerprint_;  // set by finish()
  bool finished_ = false;
  SimTime last_t_{};
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

// JSON text helpers shared by the viz exporters; output is byte-identical to
// nlohmann::json::dump() for the same value.
void append_json_string(std::string& out, std::string_view s);
bool is_valid_utf8(std::string_view s);

}  // namespace netsim
