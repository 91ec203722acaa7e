// Runs a shell command line from a test (the real `netsim` binary, usually) and returns its
// exit code and what it wrote to stdout; the command line redirects stderr as it needs.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace test_support {

struct CommandOutput {
  int code = -1;     // the exit code; -1 when it did not exit normally
  std::string text;  // stdout
};

inline CommandOutput run_command(const std::string& command_line) {
  CommandOutput out;
  FILE* p = popen(command_line.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.text.append(buf, n);
  const int status = pclose(p);
  out.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

}  // namespace test_support
