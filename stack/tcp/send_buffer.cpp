#include "stack/tcp/send_buffer.h"

#include <algorithm>
#include <cassert>

#include "sim/random.h"

namespace netsim::tcp {
namespace {

uint64_t mix(uint64_t x) { return splitmix64_mix(x + kSplitMix64Gamma); }

}  // namespace

uint8_t generated_byte(uint64_t offset) {
  return static_cast<uint8_t>(mix(offset >> 3) >> (8 * (offset & 7)));
}

void fill_generated(uint64_t offset, char* out, size_t n) {
  while (n > 0) {
    uint64_t word = mix(offset >> 3);
    unsigned k = static_cast<unsigned>(offset & 7);
    size_t take = std::min<size_t>(n, 8 - k);
    for (size_t j = 0; j < take; ++j) out[j] = static_cast<char>(word >> (8 * (k + j)));
    out += take;
    offset += take;
    n -= take;
  }
}

std::deque<SendBuffer::Chunk>& SendBuffer::chunks() {
  if (!chunks_) chunks_ = std::make_unique<std::deque<Chunk>>();
  return *chunks_;
}

void SendBuffer::append(std::string_view data) {
  if (data.empty()) return;
  std::deque<Chunk>& chunks = this->chunks();
  if (!chunks.empty() && !chunks.back().generated && chunks.back().length < kCoalesce) {
    Chunk& last = chunks.back();
    last.bytes.append(data);
    last.length += data.size();
  } else {
    chunks.push_back(Chunk{end_, data.size(), false, std::string(data)});
  }
  end_ += data.size();
}

void SendBuffer::append_generated(uint64_t size) {
  if (size == 0) return;
  std::deque<Chunk>& chunks = this->chunks();
  if (!chunks.empty() && chunks.back().generated) {
    chunks.back().length += size;
  } else {
    chunks.push_back(Chunk{end_, size, true, {}});
  }
  end_ += size;
}

void SendBuffer::consume(uint64_t n) {
  assert(n <= size());
  front_ += n;
  if (!chunks_) return;
  while (!chunks_->empty() && chunks_->front().start + chunks_->front().length <= front_) {
    chunks_->pop_front();
  }
  if (chunks_->empty()) chunks_.reset();
}

void SendBuffer::copy(uint64_t from, size_t n, std::string& out) const {
  assert(from + n <= size());
  if (n == 0) return;
  uint64_t pos = front_ + from;
  // The last chunk starting at or before pos.
  auto it = std::upper_bound(chunks_->begin(), chunks_->end(), pos,
                             [](uint64_t p, const Chunk& c) { return p < c.start; });
  assert(it != chunks_->begin());
  --it;
  size_t at = out.size();
  out.resize(at + n);
  while (n > 0) {
    const Chunk& c = *it;
    uint64_t in = pos - c.start;
    size_t take = static_cast<size_t>(std::min<uint64_t>(n, c.length - in));
    if (c.generated) {
      fill_generated(pos, out.data() + at, take);
    } else {
      std::copy_n(c.bytes.data() + in, take, out.data() + at);
    }
    at += take;
    pos += take;
    n -= take;
    ++it;
  }
}

void SendBuffer::clear() {
  chunks_.reset();
  front_ = end_;
}

}  // namespace netsim::tcp
