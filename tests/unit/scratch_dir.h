// A fresh, private directory for one test, removed with everything in it when the test ends.
// Created with mkdtemp, so two runs of the same test at once (two builds' suites on one
// machine, or ctest -j with repeated tests) never share or delete each other's files.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace test_support {

class ScratchDir {
 public:
  // `label` becomes part of the name, to tell leftovers apart when a test is killed.
  explicit ScratchDir(const std::string& label) {
    std::string pattern = (std::filesystem::temp_directory_path() / ("netsim-" + label + "-XXXXXX")).string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace test_support
