// Progress of a long `check` or `sweep`, on stderr only (stdout holds the results):
// "netsim check: 120/1000 done, 35 s, 3.4/s, ETA 4 min". Shown only when stderr is a
// terminal (one line redrawn in place a few times a second), so logs and batch jobs stay
// clean; kAlways prints it anyway, one line per redraw. Wall-clock time decides only what
// the line says and when; nothing of it reaches a trace or stdout.
// Thread-safe: workers call step() as they finish items.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace netsim {

class Progress {
 public:
  enum class Mode { kAuto, kAlways, kNever };  // kAuto: on a terminal only

  Progress(std::string what, size_t total, Mode mode);
  ~Progress();  // erases the line it drew
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // One more item is done.
  void step();
  // Erases the line drawn on a terminal, before results go to stdout on the same screen
  // (the next step() draws it again).
  void clear();

 private:
  void print(double elapsed);

  std::mutex mutex_;
  const std::string what_;
  const size_t total_;
  const bool terminal_;
  const Mode mode_;
  size_t done_ = 0;
  bool drawn_ = false;  // a terminal line without its newline yet
  double last_print_ = -1;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace netsim
