#include "scenarios/progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

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
  if (mode_ == Mode::kNever || (mode_ == Mode::kAuto && !terminal_)) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const bool first = last_print_ < 0, last = done_ == total_;
  if (!first && !last && elapsed - last_print_ < 0.25) return;  // a few redraws a second
  last_print_ = elapsed;
  print(elapsed);
}

void Progress::print(double elapsed) {
  const double rate = elapsed > 0 ? done_ / elapsed : 0;
  std::string eta;
  if (done_ < total_ && rate > 0) {
    const double left = (total_ - done_) / rate;
    char buf[32];
    if (left < 120) std::snprintf(buf, sizeof buf, ", ETA %.0f s", left);
    else if (left < 7200) std::snprintf(buf, sizeof buf, ", ETA %.0f min", left / 60);
    else std::snprintf(buf, sizeof buf, ", ETA %.1f h", left / 3600);
    eta = buf;
  }
  std::fprintf(stderr, "%s%s: %zu/%zu done, %.0f s, %.1f/s%s%s", terminal_ ? "\r\033[K" : "",
               what_.c_str(), done_, total_, elapsed, rate, eta.c_str(), terminal_ ? "" : "\n");
  drawn_ = terminal_;
  std::fflush(stderr);
}

}  // namespace netsim
