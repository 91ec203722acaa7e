// OutputFile: a file written the safe way. Bytes stream through a fixed buffer into
// a temporary in the target's directory; commit() syncs it and renames it onto the
// target in one step. Until then the target is untouched, and a file never committed
// (an error, an exception, SIGINT or SIGTERM) leaves no temporary behind.
// The target must be a regular file or absent; a symlink is followed (the regular file
// it names is replaced, the link stays); a directory, FIFO, socket or device is refused.
#pragma once

#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

#include "viz/trace_writer.h"

namespace netsim {

class OutputFile : public TraceOutput {
 public:
  // Checks `path` and creates the temporary. nullptr on failure, with *error naming
  // the path and the reason.
  static std::unique_ptr<OutputFile> open(const std::string& path, std::string* error);
  ~OutputFile() override;  // removes the temporary unless committed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Appends bytes (buffered). After a write error further bytes are dropped and
  // commit() reports the error.
  void write(std::string_view bytes) override;
  // Flushes, syncs and renames onto the target. False (and the target untouched, the
  // temporary removed) on any error, with *error saying why.
  bool commit(std::string* error);

  // The same file as a std::ostream (for writers that take streams); bytes go through
  // write(), so commit() still decides whether they land.
  std::ostream& stream();

  const std::string& path() const { return path_; }

  static constexpr size_t kBufferSize = 1 << 16;

 private:
  OutputFile(std::string path, std::string target, std::string temp, int fd, int registry_slot);
  void flush();
  void abandon();

  std::string path_;    // as given
  std::string target_;  // the regular file replaced (symlinks resolved)
  std::string temp_;
  int fd_;
  int registry_slot_;  // in the signal handler's list of temporaries; -1: none
  class StreamBuf;
  std::unique_ptr<StreamBuf> streambuf_;
  std::unique_ptr<std::ostream> stream_;
  std::string buffer_;
  int write_errno_ = 0;
  bool committed_ = false;
};

// True when `output` and `input` name one existing file (symlinks followed): writing the
// output would replace the input it is made from.
bool same_file(const std::string& output, const std::string& input);

// Writes `content` to `path` through an OutputFile. On failure `path` is untouched,
// no temporary is left, and *error (if given) says why.
bool write_file_atomically(const std::string& path, std::string_view content, std::string* error);

}  // namespace netsim
