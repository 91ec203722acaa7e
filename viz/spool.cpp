#include "viz/spool.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace netsim {

namespace {

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

Spool::Spool() : file_(std::tmpfile()) {
  if (!file_) fail("cannot create a temporary file");
}

Spool::~Spool() { std::fclose(file_); }

void Spool::write(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) fail("cannot write a temporary file");
  size_ += bytes.size();
}

void Spool::copy_to(std::ostream& out) {
  if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0) fail("cannot read a temporary file");
  char buf[64 * 1024];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) out.write(buf, static_cast<std::streamsize>(n));
  if (std::ferror(file_)) fail("cannot read a temporary file");
  std::fseek(file_, 0, SEEK_END);
}

}  // namespace netsim
