#include "viz/trace_writer.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <utility>

namespace netsim {
namespace {

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  return n;
}

// The fields of one JSON object, rendered into one buffer and written out in
// sorted key order. Reused from event to event: no allocation in steady state.
class ObjectBuilder {
 public:
  void reset() {
    fields_.clear();
    buf_.clear();
  }
  // `key` must outlive the builder's use (string literals).
  void add_string(std::string_view key, std::string_view v) {
    size_t b = buf_.size();
    append_json_string(buf_, v);
    fields_.push_back({key, b, buf_.size()});
  }
  void add_int(std::string_view key, int64_t v) {
    size_t b = buf_.size();
    append_int(buf_, v);
    fields_.push_back({key, b, buf_.size()});
  }
  void add_uint(std::string_view key, uint64_t v) {
    size_t b = buf_.size();
    append_uint(buf_, v);
    fields_.push_back({key, b, buf_.size()});
  }
  // `json` is already valid JSON text.
  void add_raw(std::string_view key, std::string_view json) {
    size_t b = buf_.size();
    buf_.append(json);
    fields_.push_back({key, b, buf_.size()});
  }
  // A value that `render` appends to the string it is given as valid JSON text.
  template <typename Render>
  void add_rendered(std::string_view key, Render&& render) {
    size_t b = buf_.size();
    render(buf_);
    fields_.push_back({key, b, buf_.size()});
  }
  // Appends `{"k":v,...}` with keys in byte order (what nlohmann's std::map gives).
  void write_to(std::string& out) {
    std::sort(fields_.begin(), fields_.end(),
              [](const Field& a, const Field& b) { return a.key < b.key; });
    out.push_back('{');
    bool first = true;
    for (const Field& f : fields_) {
      if (!first) out.push_back(',');
      first = false;
      out.push_back('"');
      out.append(f.key);  // keys are plain ASCII identifiers
      out.append("\":");
      out.append(buf_, f.begin, f.end - f.begin);
    }
    out.push_back('}');
  }

 private:
  struct Field {
    std::string_view key;
    size_t begin, end;
  };
  std::vector<Field> fields_;
  std::string buf_;
};

// Appends an object whose fields arrive in key order (FieldSource::keys_sorted): no
// field list, no sort, no second copy. Nested sources must be sorted too.
class SortedObjectWriter : public FieldSink {
 public:
  explicit SortedObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void finish() { out_.push_back('}'); }

  void string(std::string_view key, std::string_view v) override { append_json_string(begin(key), v); }
  void integer(std::string_view key, int64_t v) override { append_int(begin(key), v); }
  void unsigned_integer(std::string_view key, uint64_t v) override { append_uint(begin(key), v); }
  void string_list(std::string_view key, const std::vector<std::string>& values) override {
    std::string& out = begin(key);
    out.push_back('[');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) out.push_back(',');
      append_json_string(out, values[i]);
    }
    out.push_back(']');
  }
  void object(std::string_view key, const FieldSource& value) override {
    assert(value.keys_sorted());
    SortedObjectWriter nested(begin(key));
    value.fields(nested);
    nested.finish();
  }
  void json(std::string_view key, const nlohmann::json& v) override {
    begin(key).append(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

 private:
  std::string& begin(std::string_view key) {
    assert(last_key_ < key && "fields out of key order");
    last_key_ = key;
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_.append(key);
    out_.append("\":");
    return out_;
  }
  std::string& out_;
  bool first_ = true;
  std::string_view last_key_;
};

// Renders one event's fields as a JSON object line (the FieldSink of trace_fields.h).
// Nested objects render through the next builder of the chain, one per depth.
class LineBuilder : public FieldSink {
 public:
  void reset() { fields_.reset(); }
  void write_to(std::string& out) { fields_.write_to(out); }

  void string(std::string_view key, std::string_view v) override { fields_.add_string(key, v); }
  void integer(std::string_view key, int64_t v) override { fields_.add_int(key, v); }
  void unsigned_integer(std::string_view key, uint64_t v) override { fields_.add_uint(key, v); }
  void string_list(std::string_view key, const std::vector<std::string>& values) override {
    scratch_.assign("[");
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) scratch_.push_back(',');
      append_json_string(scratch_, values[i]);
    }
    scratch_.push_back(']');
    fields_.add_raw(key, scratch_);
  }
  void object(std::string_view key, const FieldSource& value) override {
    if (value.keys_sorted()) {
      fields_.add_rendered(key, [&](std::string& out) {
        SortedObjectWriter writer(out);
        value.fields(writer);
        writer.finish();
      });
      return;
    }
    if (!nested_) nested_ = std::make_unique<LineBuilder>();
    nested_->reset();
    value.fields(*nested_);
    scratch_.clear();
    nested_->write_to(scratch_);
    fields_.add_raw(key, scratch_);
  }
  void json(std::string_view key, const nlohmann::json& v) override {
    fields_.add_raw(key, v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

 private:
  ObjectBuilder fields_;
  std::string scratch_;
  std::unique_ptr<LineBuilder> nested_;
};

}  // namespace

struct TraceWriter::Scratch {
  LineBuilder event;
  std::string line;
};

TraceWriter::TraceWriter(const TraceHeader& header, TraceOutput* output, bool fingerprint,
                         TraceObserver* observer)
    : output_(output), hashing_(fingerprint || output != nullptr), observer_(observer), scratch_(std::make_unique<Scratch>()) {
  if (!renders()) return;
  nlohmann::json h = nlohmann::json::object();
  h["event"] = "header";
  h["format"] = "netsim-trace/1";
  h["netsim"] = header.netsim_version;
  h["policy"] = header.policy;
  h["scenario"] = header.scenario;
  h["scenario_sha256"] = header.scenario_sha256;
  h["seed"] = header.seed;
  if (!header.topology.is_null()) h["topology"] = header.topology;
  write_line(h.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

TraceWriter::~TraceWriter() = default;

void TraceWriter::set_clock(std::function<SimTime()> now) { clock_ = std::move(now); }

void TraceWriter::set_context(int64_t cause, std::string step_pointer) {
  context_cause_ = cause;
  context_step_ = std::move(step_pointer);
}

void TraceWriter::clear_context() {
  context_cause_ = -1;
  context_step_.clear();
}

SimTime TraceWriter::now() const { return clock_ ? clock_() : SimTime{}; }

void TraceWriter::write_line(std::string_view line) {
  std::string& buf = scratch_->line;
  if (buf.data() != line.data()) buf.assign(line);
  buf.push_back('\n');
  if (hashing_) hash_.update(buf);
  if (output_) output_->write(buf);
}

int64_t TraceWriter::emit(const StackEvent& event) {
  return emit_event(event.kind(), event.cause, [&](const EventContext& context) {
    return RecordEventView(event, context, namer_);
  });
}

int64_t TraceWriter::emit(const RecordBody& body, int64_t cause) {
  return emit_event(body.kind(), cause,
                    [&](const EventContext& context) { return RecordEventView(body, context); });
}

template <typename MakeView>
int64_t TraceWriter::emit_event(TraceKind kind, int64_t cause, MakeView&& make_view) {
  assert(!finished_ && "emit after finish");
  if (finished_) return -1;  // the summary is the last line
  if (!wants(kind)) return -1;
  const int64_t seq = next_seq_++;
  const SimTime t = now();
  last_t_ = t;
  EventContext context;
  context.seq = seq;
  context.t = t.ns;
  context.cause = cause >= 0 ? cause : context_cause_;
  context.step = context_step_;
  const RecordEventView view = make_view(context);
  if (observer_) observer_->on_event(view);
  if (renders()) {
    LineBuilder& b = scratch_->event;
    b.reset();
    view.fields(b);
    std::string& line = scratch_->line;
    line.clear();
    b.write_to(line);
    write_line(line);
  }
  return seq;
}

void TraceWriter::append_expect(const std::string& pointer, bool pass, const std::string& detail) {
  assert(!finished_ && "append_expect after finish");
  if (finished_) return;
  const int64_t seq = next_seq_++;
  const SimTime t = now();
  last_t_ = t;
  if (!renders()) return;
  LineBuilder& b = scratch_->event;
  b.reset();
  b.string("event", "expect");
  b.integer("seq", seq);
  b.integer("t", t.ns);
  b.string("pointer", pointer);
  b.string("result", pass ? "pass" : "fail");
  if (!detail.empty()) b.string("detail", detail);
  std::string& line = scratch_->line;
  line.clear();
  b.write_to(line);
  write_line(line);
}

void TraceWriter::finish(uint64_t steps_passed, uint64_t steps_failed, uint64_t exp_passed,
                         uint64_t exp_failed) {
  if (finished_) return;
  finished_ = true;
  if (!renders()) return;
  if (hashing_) fingerprint_ = hash_.hex_digest();
  const SimTime t = clock_ ? clock_() : last_t_;
  auto pair = [](uint64_t failed, uint64_t passed) {
    std::string s = "{\"failed\":";
    append_uint(s, failed);
    s.append(",\"passed\":");
    append_uint(s, passed);
    s.push_back('}');
    return s;
  };
  ObjectBuilder summary;
  summary.add_string("event", "summary");
  summary.add_uint("events", static_cast<uint64_t>(next_seq_));
  std::string expectations = pair(exp_failed, exp_passed);
  std::string steps = pair(steps_failed, steps_passed);
  summary.add_raw("expectations", expectations);
  if (hashing_) summary.add_string("fingerprint", fingerprint_);
  summary.add_raw("steps", steps);
  summary.add_int("t", t.ns);
  std::string line;
  summary.write_to(line);
  line.push_back('\n');
  if (output_) output_->write(line);
}

std::string TraceWriter::fingerprint() const {
  if (!hashing_) return {};
  return finished_ ? fingerprint_ : hash_.hex_digest();
}

std::string TraceWriter::packet_json(const Packet& p) {
  std::string out;
  SortedObjectWriter writer(out);
  PacketFields(p).fields(writer);
  writer.finish();
  return out;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run that needs no escaping in one go.
    size_t run = i;
    while (run < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(s, i);
      if (n == 0) {
        out.append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not UTF-8
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
    ++i;
  }
  out.push_back('"');
}

}  // namespace netsim
