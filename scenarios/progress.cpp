#include "scenarios/progress.h"

#include <unistd.h>

#include <cstdio>

namespace netsim {

Progress::Progress(std::string what, size_t total, Mode mode)
    : what_(std::move(what)), total_(total), terminal_(::isatty(STDERR_FILENO) == 1), mode_(mode) {}

Progress::~Progress() { clear(); }

void Progress::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

void Progress::step() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++done_;
  if (mode_ == Mode::kNever) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const bool first = last_print_ < 0, last = done_ == total_;
  bool due;
  if (terminal_ || mode_ == Mode::kAlways)
    due = first || last || elapsed - last_print_ >= 0.25;  // a few redraws a second
  else  // quiet until kQuietSeconds, then a line every kQuietSeconds, and the last one
    due = elapsed >= kQuietSeconds && (first || elapsed - last_print_ >= kQuietSeconds || last);
  if (!due) return;
  last_print_ = elapsed;
  print(elapsed);
}

void Progress::print(double elapsed) {
  if (terminal_) {
    std::fprintf(stderr, "\r%s: %zu/%zu done, %.0f s", what_.c_str(), done_, total_, elapsed);
    drawn_ = true;
  } else {
    std::fprintf(stderr, "%s: %zu/%zu done, %.0f s\n", what_.c_str(), done_, total_, elapsed);
  }
  std::fflush(stderr);
}

}  // namespace netsim
