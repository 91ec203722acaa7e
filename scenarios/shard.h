// Which part of a long `check` or `sweep` one process runs (docs/cluster.md). Shard K of N
// runs the items whose index i, in the command's fixed order, has i % N == K; the N shards
// together run every item exactly once. The shard comes from `--shard K/N`, or with
// `--shard env` from the scheduler's environment: Bazel, googletest, a Slurm job array or
// a Kubernetes Indexed Job (with `--shards N`). A bad value is a usage error.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace netsim::scenario {

struct Shard {
  uint64_t index = 0;  // K, below count
  uint64_t count = 1;  // N, at least 1
  std::string status_file;  // Bazel's TEST_SHARD_STATUS_FILE, to touch; "" for none
  std::string source;       // where K and N came from, for messages: "--shard", "Slurm array", ...

  bool owns(uint64_t item) const { return item % count == index; }
  // How many of items 0..total-1 this shard owns.
  uint64_t size(uint64_t total) const { return total / count + (index < total % count ? 1 : 0); }
  // The global index of this shard's j-th item.
  uint64_t item(uint64_t j) const { return index + j * count; }
};

// Reads one environment variable (nullopt: unset); tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// `--shard TEXT` (`K/N` or `env`) and `--shards N` (0: not given; only for a Kubernetes
// index). nullopt with *error saying what is wrong and which variable it came from.
// With `env` the conventions are tried in this order, and two that are set must agree:
//   Bazel        TEST_SHARD_INDEX, TEST_TOTAL_SHARDS (and TEST_SHARD_STATUS_FILE)
//   googletest   GTEST_SHARD_INDEX, GTEST_TOTAL_SHARDS
//   Slurm array  SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN (divided by SLURM_ARRAY_TASK_STEP),
//                SLURM_ARRAY_TASK_COUNT; the array must be one range A-B[:S]
//   Kubernetes   JOB_COMPLETION_INDEX, with N from --shards
std::optional<Shard> parse_shard(std::string_view text, uint64_t shards, const EnvLookup& env,
                                 std::string* error);

// Bazel's protocol: a test that shards touches TEST_SHARD_STATUS_FILE. True when there is
// none or it was touched; false with *error otherwise.
bool touch_status_file(const Shard& shard, std::string* error);

}  // namespace netsim::scenario
