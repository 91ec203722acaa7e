// Sharded check, sweep and explore (issues 15 and 17, docs/cluster.md, docs/explore.md):
// which shard a process is, from
// `--shard K/N` or each scheduler's environment; and a run in shards merged with
// `netsim merge` prints what the one-machine run prints, byte for byte, with its exit code.
#include "scenarios/shard.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/command.h"
#include "tests/unit/scratch_dir.h"

namespace netsim::scenario {
namespace {

namespace fs = std::filesystem;
const std::string kData = std::string(NETSIM_SOURCE_DIR) + "/tests/data/check";

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

std::optional<Shard> shard_from(std::map<std::string, std::string> vars, uint64_t shards = 0,
                                std::string* error = nullptr) {
  std::string ignored;
  return parse_shard("env", shards, env_of(std::move(vars)), error ? error : &ignored);
}

TEST(Shard, KOfNOwnsTheIndicesWithThatRemainder) {
  std::string error;
  auto shard = parse_shard("1/4", 0, env_of({}), &error);
  ASSERT_TRUE(shard) << error;
  EXPECT_TRUE(shard->owns(1));
  EXPECT_TRUE(shard->owns(5));
  EXPECT_FALSE(shard->owns(4));
  EXPECT_EQ(shard->size(10), 3u);  // 1, 5, 9
  EXPECT_EQ(shard->item(2), 9u);
}

TEST(Shard, BadValuesAreRefusedWithTheReason) {
  std::string error;
  for (const char* bad : {"4/4", "1/0", "-1/4", "1", "a/b", "1/4/2", " 1/4"}) {
    EXPECT_FALSE(parse_shard(bad, 0, env_of({}), &error)) << bad;
    EXPECT_NE(error.find("--shard"), std::string::npos) << error;
  }
  EXPECT_FALSE(parse_shard("4/4", 0, env_of({}), &error));
  EXPECT_NE(error.find("not below the 4 shards"), std::string::npos) << error;
  EXPECT_FALSE(parse_shard("1/4", 3, env_of({}), &error));  // --shards disagrees
}

TEST(Shard, BazelSetsIndexAndTotalAndTheStatusFileIsTouched) {
  test_support::ScratchDir scratch("shard-status");
  fs::path status = scratch.path() / "status";
  auto shard = shard_from({{"TEST_SHARD_INDEX", "2"}, {"TEST_TOTAL_SHARDS", "3"},
                           {"TEST_SHARD_STATUS_FILE", status.string()}});
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 2u);
  EXPECT_EQ(shard->count, 3u);
  std::string error;
  EXPECT_TRUE(touch_status_file(*shard, &error)) << error;
  EXPECT_TRUE(fs::exists(status));
  fs::remove(status);
  shard->status_file = "/nonexistent-dir/status";
  EXPECT_FALSE(touch_status_file(*shard, &error));
  EXPECT_NE(error.find("TEST_SHARD_STATUS_FILE"), std::string::npos) << error;
}

TEST(Shard, GoogletestSetsIndexAndTotal) {
  auto shard = shard_from({{"GTEST_SHARD_INDEX", "0"}, {"GTEST_TOTAL_SHARDS", "5"}});
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 0u);
  EXPECT_EQ(shard->count, 5u);
  EXPECT_TRUE(shard->status_file.empty());
}

TEST(Shard, SlurmTaskIdsCountFromTheArraysMinimum) {
  // --array=1-4: ids 1..4 are shards 0..3.
  auto shard = shard_from({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                           {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_MAX", "4"}});
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 2u);
  EXPECT_EQ(shard->count, 4u);
  // --array=10-16:2: ids 10, 12, 14, 16.
  shard = shard_from({{"SLURM_ARRAY_TASK_ID", "14"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                      {"SLURM_ARRAY_TASK_MIN", "10"}, {"SLURM_ARRAY_TASK_MAX", "16"},
                      {"SLURM_ARRAY_TASK_STEP", "2"}});
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 2u);
}

TEST(Shard, SlurmArrayWithGapsIsRefused) {
  // --array=1,3,7: three tasks from 1 to 7, no step that makes them consecutive.
  std::string error;
  EXPECT_FALSE(shard_from({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "3"},
                           {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_MAX", "7"}},
                          0, &error));
  EXPECT_NE(error.find("not one range"), std::string::npos) << error;
  EXPECT_FALSE(shard_from({{"SLURM_ARRAY_TASK_ID", "3"}}, 0, &error));
  EXPECT_NE(error.find("SLURM_ARRAY_TASK_COUNT"), std::string::npos) << error;
}

TEST(Shard, KubernetesIndexNeedsTheCompletionsAsShards) {
  std::string error;
  EXPECT_FALSE(shard_from({{"JOB_COMPLETION_INDEX", "2"}}, 0, &error));
  EXPECT_NE(error.find("--shards N"), std::string::npos) << error;
  auto shard = shard_from({{"JOB_COMPLETION_INDEX", "2"}}, 3);
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 2u);
  EXPECT_EQ(shard->count, 3u);
  EXPECT_FALSE(shard_from({{"JOB_COMPLETION_INDEX", "3"}}, 3, &error));
  EXPECT_NE(error.find("not below the 3 shards"), std::string::npos) << error;
}

TEST(Shard, EnvWithoutAConventionOrWithBadOrConflictingValuesIsRefused) {
  std::string error;
  EXPECT_FALSE(shard_from({}, 0, &error));
  EXPECT_NE(error.find("no shard in the environment"), std::string::npos) << error;
  EXPECT_FALSE(shard_from({{"TEST_SHARD_INDEX", "x"}, {"TEST_TOTAL_SHARDS", "2"}}, 0, &error));
  EXPECT_NE(error.find("TEST_SHARD_INDEX=x is not a whole number"), std::string::npos) << error;
  EXPECT_FALSE(shard_from({{"TEST_SHARD_INDEX", "1"}}, 0, &error));
  EXPECT_NE(error.find("TEST_TOTAL_SHARDS is not set"), std::string::npos) << error;
  EXPECT_FALSE(shard_from({{"TEST_SHARD_INDEX", "1"}, {"TEST_TOTAL_SHARDS", "2"},
                           {"GTEST_SHARD_INDEX", "0"}, {"GTEST_TOTAL_SHARDS", "2"}},
                          0, &error));
  EXPECT_NE(error.find("Bazel says shard 1/2 but googletest says 0/2"), std::string::npos) << error;
  // Two conventions that agree are one shard.
  EXPECT_TRUE(shard_from({{"TEST_SHARD_INDEX", "1"}, {"TEST_TOTAL_SHARDS", "2"},
                          {"GTEST_SHARD_INDEX", "1"}, {"GTEST_TOTAL_SHARDS", "2"}}));
}

// --- the command line ----------------------------------------------------------

using Output = test_support::CommandOutput;

// Runs netsim with `args` after `env` (variables for the shell); stdout only.
Output netsim(const std::string& args, const std::string& env = "") {
  return test_support::run_command(env + " " + NETSIM_BINARY + " " + args + " 2>/dev/null");
}

// stderr of a run that must exit with `expected_code`, for its message.
std::string netsim_error(const std::string& args, int expected_code) {
  Output out = test_support::run_command(std::string(NETSIM_BINARY) + " " + args + " 2>&1 >/dev/null");
  EXPECT_EQ(out.code, expected_code) << args << "\n" << out.text;
  return out.text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// JUnit times are measured (wall clock); everything else must match.
std::string without_times(const std::string& junit) {
  return std::regex_replace(junit, std::regex("time=\"[0-9.]+\""), "time=\"T\"");
}

class ShardCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = scratch_.path();
    fs::create_directories(dir_ / "suite" / "sub");
    // Seven items of every status, two folders deep: more than the 4 shards, not a multiple.
    for (const char* n : {"ok.json", "failing.json", "broken.json"}) {
      fs::copy_file(kData + "/" + n, dir_ / "suite" / n);
      fs::copy_file(kData + "/" + n, dir_ / "suite" / "sub" / n);
    }
    fs::copy_file(kData + "/ok.json", dir_ / "suite" / "sub" / "ok2.json");
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  test_support::ScratchDir scratch_{"shard"};
  fs::path dir_;
};

TEST_F(ShardCli, CheckInFourShardsMergesToTheOneMachineRun) {
  const std::string suite = path("suite") + " -j2 --progress never";
  Output local = netsim("check " + suite + " --junit " + path("local.xml"));
  EXPECT_EQ(local.code, 1) << local.text;  // failing.json fails
  std::string parts;
  for (int k = 0; k < 4; ++k) {
    const std::string part = path("part" + std::to_string(k) + ".jsonl");
    Output shard = netsim("check " + suite + " --shard " + std::to_string(k) + "/4 --results-out " + part);
    EXPECT_EQ(shard.code, 0) << shard.text;  // a written part exits 0; merge gives the verdict
    parts = part + " " + parts;              // any order
  }
  Output merged = netsim("merge " + parts + " --junit " + path("merged.xml"));
  EXPECT_EQ(merged.code, local.code);
  EXPECT_EQ(merged.text, local.text);
  EXPECT_EQ(without_times(read(path("merged.xml"))), without_times(read(path("local.xml"))));
  EXPECT_NE(local.text.find("7 scenarios: 3 passed, 2 failed, 2 invalid"), std::string::npos) << local.text;
}

TEST_F(ShardCli, SweepInFourShardsMergesToTheOneMachineRun) {
  // Loss 2 is invalid, loss 1 fails: every row of the table has something to say.
  const std::string sweep = "sweep " + kData + "/ok.json --set /seed=1..5 --set '/links/0/loss=[0, 1, 2]' -j2";
  Output local = netsim(sweep);
  EXPECT_EQ(local.code, 3) << local.text;
  EXPECT_NE(local.text.find("runs: 5 passed, 5 failed, 5 invalid"), std::string::npos) << local.text;
  std::string parts;
  for (int k = 0; k < 4; ++k) {
    const std::string part = path("sweep" + std::to_string(k) + ".jsonl");
    EXPECT_EQ(netsim(sweep + " --shard " + std::to_string(k) + "/4 --results-out " + part).code, 0);
    parts += " " + part;
  }
  Output merged = netsim("merge" + parts);
  EXPECT_EQ(merged.code, local.code);
  EXPECT_EQ(merged.text, local.text);
}

TEST_F(ShardCli, ExploreInThreeShardsMergesToTheOneMachineRun) {
  // A race found (exit 1), jittered draws, schedules of two depths: every part of the table.
  const std::string explore = "explore " + std::string(NETSIM_SOURCE_DIR) +
                              "/scenarios/tcp/close-orders.json --jitter 1us --draws 4 -j2";
  Output local = netsim(explore);
  EXPECT_EQ(local.code, 1) << local.text;
  EXPECT_NE(local.text.find("4 jittered"), std::string::npos) << local.text;
  EXPECT_NE(local.text.find("first diverging decision"), std::string::npos) << local.text;
  std::string parts;
  for (int k = 0; k < 3; ++k) {
    const std::string part = path("explore" + std::to_string(k) + ".jsonl");
    Output shard = netsim(explore + " --shard " + std::to_string(k) + "/3 --results-out " + part);
    EXPECT_EQ(shard.code, 0) << shard.text;  // a written part exits 0; merge gives the verdict
    EXPECT_EQ(shard.text, "");
    parts = part + " " + parts;  // any order
  }
  Output merged = netsim("merge " + parts);
  EXPECT_EQ(merged.code, local.code);
  EXPECT_EQ(merged.text, local.text);
  // A part of another search (another depth) is refused.
  netsim(explore + " --depth 1 --shard 2/3 --results-out " + path("other.jsonl"));
  EXPECT_NE(netsim_error("merge " + path("explore0.jsonl") + " " + path("explore1.jsonl") + " " +
                             path("other.jsonl"), 2).find("another input"),
            std::string::npos);
  // A shard on its own prints its share of the verdicts and says so.
  Output alone = netsim(explore + " --shard 1/3");
  EXPECT_NE(alone.text.find("this shard's verdicts:"), std::string::npos) << alone.text;
  // The pages are written by a process that prints its table, not by a part.
  EXPECT_NE(netsim_error(explore + " --shard 1/3 --results-out " + path("p") + " --out " + path("pages"), 2)
                .find("--out is for a table printed here"),
            std::string::npos);
}

TEST_F(ShardCli, EachEnvConventionPicksTheSameShard) {
  const std::string sweep = "sweep " + kData + "/ok.json --set /seed=1..9 -j1 --shard env --results-out ";
  EXPECT_EQ(netsim(sweep + path("k.jsonl"), "K=1/3").code, 2);  // nothing set: a usage error
  netsim("sweep " + kData + "/ok.json --set /seed=1..9 -j1 --shard 1/3 --results-out " + path("want.jsonl"));
  const std::string want = read(path("want.jsonl"));
  ASSERT_FALSE(want.empty());
  const std::map<std::string, std::string> conventions = {
      {"bazel", "TEST_SHARD_INDEX=1 TEST_TOTAL_SHARDS=3 TEST_SHARD_STATUS_FILE=" + path("status")},
      {"gtest", "GTEST_SHARD_INDEX=1 GTEST_TOTAL_SHARDS=3"},
      {"slurm", "SLURM_ARRAY_TASK_ID=6 SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_MAX=7 SLURM_ARRAY_TASK_COUNT=3"},
      {"k8s", "JOB_COMPLETION_INDEX=1"}};
  for (const auto& [name, env] : conventions) {
    const std::string out = path(name + ".jsonl");
    EXPECT_EQ(netsim(sweep + out + (name == "k8s" ? " --shards 3" : ""), env).code, 0) << name;
    EXPECT_EQ(read(out), want) << name;
  }
  EXPECT_TRUE(fs::exists(path("status")));  // Bazel's protocol
}

TEST_F(ShardCli, MergeRefusesPartsThatDoNotMakeOneRun) {
  const std::string sweep = "sweep " + kData + "/ok.json --set /seed=1..6 -j1 --results-out ";
  for (int k = 0; k < 3; ++k)
    netsim(sweep + path("p" + std::to_string(k)) + " --shard " + std::to_string(k) + "/3");
  netsim(sweep + path("two") + " --shard 1/2");
  netsim("sweep " + kData + "/ok.json --set /seed=2..7 -j1 --shard 2/3 --results-out " + path("other"));
  const std::string p0 = path("p0"), p1 = path("p1"), p2 = path("p2");
  EXPECT_NE(netsim_error("merge " + p0 + " " + p1, 2).find("missing shard(s) 2 of 3"), std::string::npos);
  EXPECT_NE(netsim_error("merge " + p0 + " " + p1 + " " + p2 + " " + p1, 2).find("shard 1 again"),
            std::string::npos);
  EXPECT_NE(netsim_error("merge " + p0 + " " + p1 + " " + path("other"), 2).find("another input"),
            std::string::npos);
  EXPECT_NE(netsim_error("merge " + p0 + " " + path("two"), 2).find("shard count 2"), std::string::npos);
  std::string text = read(p2);
  std::ofstream(path("newer")) << std::regex_replace(text, std::regex("\"netsim\":\"[^\"]*\""), "\"netsim\":\"9.9.9\"");
  EXPECT_NE(netsim_error("merge " + p0 + " " + p1 + " " + path("newer"), 2).find("netsim version 9.9.9"),
            std::string::npos);
  std::ofstream(path("junk")) << "{\"not\": 1}\n";
  EXPECT_NE(netsim_error("merge " + path("junk"), 2).find("not a netsim result file"), std::string::npos);
  EXPECT_EQ(netsim("merge " + p0 + " " + p1 + " " + p2).code, 0);
}

// The part is opened before anything runs: a path that cannot be written is a usage error
// found first, not after hours of runs.
TEST_F(ShardCli, UnwritableResultsOutIsAUsageErrorBeforeRunning) {
  const std::string out = " --results-out " + path("no-such-dir") + "/part";
  EXPECT_NE(netsim_error("sweep " + kData + "/ok.json --set /seed=1..2" + out, 2).find("cannot write"),
            std::string::npos);
  EXPECT_NE(netsim_error("check " + path("suite") + out, 2).find("cannot write"), std::string::npos);
  EXPECT_FALSE(fs::exists(path("no-such-dir")));
}

TEST_F(ShardCli, SweepPastTheGuardExitsOneBeforeRunning) {
  std::string text = netsim_error("sweep " + kData + "/ok.json --set /seed=1..5000 --set /links/0/latency=0..2000", 1);
  EXPECT_NE(text.find("5000 x 2001 values make 10005000 runs: past the guard of 10000000 runs per process"),
            std::string::npos)
      << text;
  // Split in shards, each is under it; --max-runs moves it.
  text = netsim_error("sweep " + kData + "/ok.json --set /seed=1..10 --max-runs 3 --shard 0/3", 1);
  EXPECT_NE(text.find("10 runs, 4 of them in this shard: past the guard of 3"), std::string::npos) << text;
  EXPECT_EQ(netsim("sweep " + kData + "/ok.json --set /seed=1..10 --max-runs 4 --shard 0/3").code, 0);
}

}  // namespace
}  // namespace netsim::scenario
