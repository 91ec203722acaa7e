#include "scenarios/shard.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace netsim::scenario {
namespace {

// A whole non-negative decimal number ("-1", "1e3", " 2" are not).
std::optional<uint64_t> whole(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// Reads variable `name` as a whole number into *out; false with *error when it is set
// but not one. Unset leaves *out alone and returns true.
bool read_number(const EnvLookup& env, const std::string& name, std::optional<uint64_t>* out,
                 std::string* error) {
  std::optional<std::string> text = env(name);
  if (!text) return true;
  *out = whole(*text);
  if (!*out) *error = name + "=" + *text + " is not a whole number";
  return out->has_value();
}

bool check_range(Shard& shard, std::string* error) {
  if (shard.count == 0) {
    *error = shard.source + ": the number of shards must be at least 1";
    return false;
  }
  if (shard.index >= shard.count) {
    *error = shard.source + ": shard index " + std::to_string(shard.index) + " is not below the " +
             std::to_string(shard.count) + " shards (indices run from 0)";
    return false;
  }
  return true;
}

// One convention: K from `index_var`, N from `count_var`; nullopt in *found when unset.
bool index_and_count(const EnvLookup& env, const std::string& source, const std::string& index_var,
                     const std::string& count_var, std::optional<Shard>* found, std::string* error) {
  std::optional<uint64_t> index, count;
  if (!read_number(env, index_var, &index, error) || !read_number(env, count_var, &count, error))
    return false;
  if (!index && !count) return true;
  if (!index || !count) {
    *error = source + ": " + (index ? count_var : index_var) + " is not set but " +
             (index ? index_var : count_var) + " is";
    return false;
  }
  *found = Shard{*index, *count, "", source};
  return check_range(**found, error);
}

bool slurm(const EnvLookup& env, std::optional<Shard>* found, std::string* error) {
  std::optional<uint64_t> id, count, min, max, step;
  for (auto [name, value] : {std::pair{"SLURM_ARRAY_TASK_ID", &id}, {"SLURM_ARRAY_TASK_COUNT", &count},
                             {"SLURM_ARRAY_TASK_MIN", &min}, {"SLURM_ARRAY_TASK_MAX", &max},
                             {"SLURM_ARRAY_TASK_STEP", &step}})
    if (!read_number(env, name, value, error)) return false;
  if (!id) return true;
  const std::string source = "Slurm array";
  if (!count || !min) {
    *error = source + ": SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_MIN";
    return false;
  }
  const uint64_t stride = step.value_or(1);
  // Task ids need not start at 0 (--array=1-8) and may step (--array=0-14:2); a list
  // (--array=1,3,7) has gaps no shard number can follow.
  if (stride == 0 || *id < *min || (*id - *min) % stride != 0 || *count == 0 ||
      (max && *max != *min + (*count - 1) * stride)) {
    *error = source + ": task " + std::to_string(*id) + " of " + std::to_string(*count) + " from " +
             std::to_string(*min) + (max ? " to " + std::to_string(*max) : "") + " step " +
             std::to_string(stride) + " is not one range A-B[:S]; submit --array=0-" +
             std::to_string(*count - 1) + " (shards need consecutive task ids)";
    return false;
  }
  *found = Shard{(*id - *min) / stride, *count, "", source};
  return check_range(**found, error);
}

bool kubernetes(const EnvLookup& env, uint64_t shards, std::optional<Shard>* found, std::string* error) {
  std::optional<uint64_t> index;
  if (!read_number(env, "JOB_COMPLETION_INDEX", &index, error)) return false;
  if (!index) return true;
  const std::string source = "Kubernetes Indexed Job";
  if (shards == 0) {
    *error = source + ": JOB_COMPLETION_INDEX is set; give the Job's completions as --shards N";
    return false;
  }
  *found = Shard{*index, shards, "", source};
  return check_range(**found, error);
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
}

std::optional<Shard> parse_shard(std::string_view text, uint64_t shards, const EnvLookup& env,
                                 std::string* error) {
  if (text != "env") {
    const size_t slash = text.find('/');
    std::optional<uint64_t> k, n;
    if (slash != std::string_view::npos) k = whole(text.substr(0, slash)), n = whole(text.substr(slash + 1));
    if (!k || !n) {
      *error = "--shard " + std::string(text) + ": expected K/N (e.g. 0/4) or env";
      return std::nullopt;
    }
    Shard shard{*k, *n, "", "--shard " + std::string(text)};
    if (!check_range(shard, error)) return std::nullopt;
    if (shards != 0 && shards != shard.count) {
      *error = "--shard " + std::string(text) + " and --shards " + std::to_string(shards) + " disagree";
      return std::nullopt;
    }
    return shard;
  }
  std::vector<Shard> found;
  std::optional<Shard> one;
  auto take = [&](bool ok) {
    if (ok && one) found.push_back(*one);
    one.reset();
    return ok;
  };
  if (!take(index_and_count(env, "Bazel", "TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", &one, error)) ||
      !take(index_and_count(env, "googletest", "GTEST_SHARD_INDEX", "GTEST_TOTAL_SHARDS", &one, error)) ||
      !take(slurm(env, &one, error)) || !take(kubernetes(env, shards, &one, error))) {
    *error = "--shard env: " + *error;
    return std::nullopt;
  }
  if (found.empty()) {
    *error = "--shard env: no shard in the environment (TEST_SHARD_INDEX/TEST_TOTAL_SHARDS, "
             "GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS, SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX "
             "with --shards N)";
    return std::nullopt;
  }
  for (const Shard& other : found) {
    if (other.index != found[0].index || other.count != found[0].count) {
      *error = "--shard env: " + found[0].source + " says shard " + std::to_string(found[0].index) + "/" +
               std::to_string(found[0].count) + " but " + other.source + " says " +
               std::to_string(other.index) + "/" + std::to_string(other.count);
      return std::nullopt;
    }
  }
  if (shards != 0 && shards != found[0].count) {
    *error = "--shard env: " + found[0].source + " says " + std::to_string(found[0].count) +
             " shards but --shards says " + std::to_string(shards);
    return std::nullopt;
  }
  Shard shard = found[0];
  if (shard.source == "Bazel") shard.status_file = env("TEST_SHARD_STATUS_FILE").value_or("");
  return shard;
}

bool touch_status_file(const Shard& shard, std::string* error) {
  if (shard.status_file.empty()) return true;
  const int fd = ::open(shard.status_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || ::futimens(fd, nullptr) != 0) {
    *error = "TEST_SHARD_STATUS_FILE " + shard.status_file + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  ::close(fd);
  return true;
}

}  // namespace netsim::scenario
