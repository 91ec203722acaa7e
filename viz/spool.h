// Spool: the part of an export written before what must come ahead of it in the file (Chrome's
// metadata holds the trace's summary; the viewer's window note sits at the top of the page).
// An anonymous temporary file (std::tmpfile), gone when the spool is destroyed, so memory stays
// bounded however long the trace.
#pragma once

#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string_view>

namespace netsim {

class Spool {
 public:
  Spool();  // throws std::runtime_error when no temporary file can be made
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  void write(std::string_view bytes);  // throws std::runtime_error on a write error
  uint64_t size() const { return size_; }
  // Everything written so far, from the start. Throws std::runtime_error on a read error.
  void copy_to(std::ostream& out);

 private:
  std::FILE* file_;
  uint64_t size_ = 0;
};

}  // namespace netsim
