// The command line as a user runs it (scenario-format.md "Command line and
// results", issue 5): exit codes, check in parallel, JUnit, golden traces,
// fingerprint pinning, overrides and sweeps. Runs the real `netsim` binary.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/command.h"
#include "tests/unit/scratch_dir.h"

namespace {

namespace fs = std::filesystem;
const std::string kSource = NETSIM_SOURCE_DIR;
const std::string kData = kSource + "/tests/data/check";

using Output = test_support::CommandOutput;

// Runs netsim with `args`; stderr goes into the output too unless `stderr_file` is given.
Output netsim(const std::string& args, const std::string& stderr_file = "") {
  return test_support::run_command(std::string(NETSIM_BINARY) + " " + args + " 2>" +
                                              (stderr_file.empty() ? std::string("&1") : stderr_file));
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = scratch_.path(); }
  // A folder with copies of the given tests/data/check files.
  std::string suite(std::initializer_list<const char*> names) {
    fs::path s = dir_ / "suite";
    fs::create_directories(s);
    for (const char* n : names) fs::copy_file(kData + "/" + n, s / n);
    return s.string();
  }
  test_support::ScratchDir scratch_{"cli"};
  fs::path dir_;
};

TEST_F(Cli, RunExitsZeroWhenEverythingHeldAndOneWhenSomethingFailed) {
  EXPECT_EQ(netsim("run " + kData + "/ok.json").code, 0);
  Output failed = netsim("run " + kData + "/failing.json");
  EXPECT_EQ(failed.code, 1);
  EXPECT_NE(failed.text.find("/expect/0"), std::string::npos) << failed.text;
}

TEST_F(Cli, InvalidScenarioExitsThreeWithFileLineColumnAndPointer) {
  Output out = netsim("run " + kData + "/broken.json");
  EXPECT_EQ(out.code, 3);
  EXPECT_NE(out.text.find("broken.json:4:"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("/hosts/a/interfaces/eth0/adresses"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("did you mean `addresses`"), std::string::npos) << out.text;
}

TEST_F(Cli, UsageErrorExitsTwo) {
  EXPECT_EQ(netsim("run").code, 2);
  EXPECT_EQ(netsim("frobnicate x").code, 2);
  EXPECT_EQ(netsim("check /nonexistent/folder").code, 2);
}

TEST_F(Cli, ValidateReportsEachFile) {
  Output out = netsim("validate " + kData + "/ok.json " + kData + "/broken.json");
  EXPECT_EQ(out.code, 3);
  EXPECT_NE(out.text.find("OK    " + kData + "/ok.json"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("ERROR " + kData + "/broken.json"), std::string::npos) << out.text;
}

TEST_F(Cli, CheckKeepsInvalidFilesApartAndRunsTheOthers) {
  std::string s = suite({"ok.json", "broken.json"});
  Output out = netsim("check " + s);
  EXPECT_EQ(out.code, 3) << out.text;
  EXPECT_NE(out.text.find("PASS  " + s + "/ok.json"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("ERROR " + s + "/broken.json"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("2 scenarios: 1 passed, 0 failed, 1 invalid"), std::string::npos) << out.text;
}

TEST_F(Cli, CheckFailureWinsOverInvalidForTheExitCode) {
  Output out = netsim("check " + suite({"ok.json", "failing.json", "broken.json"}));
  EXPECT_EQ(out.code, 1) << out.text;
}

TEST_F(Cli, CheckInParallelGivesTheSameResultsAndTracesAsSerial) {
  std::string scenarios = kSource + "/scenarios";
  // --progress never: on a loaded machine a run past 10 s would add progress to stderr.
  Output serial = netsim("check " + scenarios + " -j1 --progress never --out " + (dir_ / "serial").string());
  Output parallel = netsim("check " + scenarios + " -j2 --progress never --out " + (dir_ / "parallel").string());
  EXPECT_EQ(serial.code, 0) << serial.text;
  EXPECT_EQ(serial.code, parallel.code);
  auto strip_out_dir = [](std::string t) { return t.substr(0, t.find("traces and HTML views")); };
  EXPECT_EQ(strip_out_dir(serial.text), strip_out_dir(parallel.text));
  size_t traces = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "serial")) {
    if (e.path().extension() != ".jsonl") continue;
    ++traces;
    EXPECT_EQ(read(e.path()), read(dir_ / "parallel" / e.path().filename())) << e.path();
  }
  EXPECT_GE(traces, 20u);
}

TEST_F(Cli, CheckFilterRunsOnlyMatchingPaths) {
  Output out = netsim("check " + suite({"ok.json", "failing.json"}) + " --filter ok");
  EXPECT_EQ(out.code, 0) << out.text;
  EXPECT_NE(out.text.find("1 scenarios: 1 passed"), std::string::npos) << out.text;
}

TEST_F(Cli, CheckWritesJunitThatCountsFailuresAndErrors) {
  fs::path junit = dir_ / "junit.xml";
  netsim("check " + suite({"ok.json", "failing.json", "broken.json"}) + " --junit " + junit.string());
  std::string xml = read(junit);
  EXPECT_NE(xml.find("<testsuite name=\"netsim check\" tests=\"3\" failures=\"1\" errors=\"1\""),
            std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"failing.json\""), std::string::npos);
  // Each message is the first problem on one line (tests/exports/check_junit.py checks the
  // whole file against a JUnit schema).
  EXPECT_NE(xml.find("<failure message=\"/expect/0: expected at least 1 event"), std::string::npos) << xml;
  EXPECT_NE(xml.find("broken.json:4:47: /hosts/a/interfaces/eth0/adresses: unknown interface key"),
            std::string::npos) << xml;
}

TEST_F(Cli, GoldenTracesAreWrittenOnUpdateThenCompared) {
  std::string s = suite({"ok.json"});
  fs::path golden = dir_ / "golden";
  Output missing = netsim("check " + s + " --golden " + golden.string());
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.text.find("no golden trace"), std::string::npos) << missing.text;

  EXPECT_EQ(netsim("check " + s + " --golden " + golden.string() + " --update-golden").code, 0);
  ASSERT_TRUE(fs::exists(golden / "ok.jsonl"));
  EXPECT_EQ(netsim("check " + s + " --golden " + golden.string()).code, 0);

  // A changed golden line is shown side by side with the actual one.
  std::string text = read(golden / "ok.jsonl");
  size_t at = text.find("\"data\":\"x\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 10, "\"data\":\"y\"");
  std::ofstream(golden / "ok.jsonl", std::ios::binary) << text;
  Output diff = netsim("check " + s + " --golden " + golden.string());
  EXPECT_EQ(diff.code, 1);
  EXPECT_NE(diff.text.find("golden trace differs at line"), std::string::npos) << diff.text;
  EXPECT_NE(diff.text.find("golden: "), std::string::npos);
  EXPECT_NE(diff.text.find("\"data\":\"y\""), std::string::npos);
}

TEST_F(Cli, PinnedFingerprintFailsWhenTheTraceChanges) {
  Output first = netsim("run " + kData + "/ok.json --fingerprint");
  size_t at = first.text.find("fingerprint ");
  ASSERT_NE(at, std::string::npos);
  std::string fingerprint = first.text.substr(at + 12, 64);
  EXPECT_EQ(netsim("run " + kData + "/ok.json --set '/fingerprint=\"" + fingerprint + "\"'").code, 0);
  Output changed =
      netsim("run " + kData + "/ok.json --seed 9 --set '/fingerprint=\"" + fingerprint + "\"'");
  EXPECT_EQ(changed.code, 1);
  EXPECT_NE(changed.text.find("/fingerprint: pinned " + fingerprint), std::string::npos) << changed.text;
}

TEST_F(Cli, OverridesChangeTheScenarioInEveryForm) {
  fs::path trace = dir_ / "t.jsonl";
  // A number, at the top level.
  EXPECT_EQ(netsim("run " + kData + "/ok.json --set /seed=7 -q --trace " + trace.string()).code, 0);
  EXPECT_NE(read(trace).find("\"seed\":7"), std::string::npos);
  // A number deep inside: every frame lost, so expectations fail.
  Output lossy = netsim("run " + kData + "/ok.json --set /links/0/loss=1");
  EXPECT_EQ(lossy.code, 1) << lossy.text;
  // A JSON string and a bare word.
  EXPECT_EQ(netsim("run " + kData + "/ok.json --set '/until=\"5ms\"'").code, 1);
  EXPECT_EQ(netsim("run " + kData + "/ok.json --set /policy=netstack3").code, 0);
  // An object.
  EXPECT_EQ(netsim("run " + kData + "/ok.json --set '/defaults={\"host\":{\"host_model\":\"strong\"}}'").code, 0);
  // A bad value is reported like any invalid scenario.
  Output bad = netsim("run " + kData + "/ok.json --set /links/0/loss=2");
  EXPECT_EQ(bad.code, 3);
  EXPECT_NE(bad.text.find("--set"), std::string::npos) << bad.text;
  // --seed is an override too.
  EXPECT_EQ(netsim("run " + kData + "/ok.json --seed 3 -q --trace " + trace.string()).code, 0);
  EXPECT_NE(read(trace).find("\"seed\":3"), std::string::npos);
}

TEST_F(Cli, SweepTabulatesHowManyRunsEachExpectationHeld) {
  Output out = netsim("sweep " + kData + "/ok.json --set /seed=1..4 --set '/links/0/loss=[0, 1]'");
  EXPECT_EQ(out.code, 1) << out.text;
  EXPECT_NE(out.text.find("8 runs"), std::string::npos) << out.text;
  // Loss 0 delivers all 10 datagrams, loss 1 none: each expectation holds in half the runs.
  EXPECT_NE(out.text.find("4/8 held"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("/links/0/loss=1"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("runs: 4 passed, 4 failed, 0 invalid"), std::string::npos) << out.text;
  EXPECT_EQ(netsim("sweep " + kData + "/ok.json --set /seed=1..3").code, 0);
  EXPECT_EQ(netsim("sweep " + kData + "/ok.json --set /seed=5..1").code, 2);
}

// A scenario's name is free text, control characters included; the one-line reports that
// show it (the run summary, explore's heading) escape them as JSON does, so a NUL, a line break
// or a terminal escape neither vanishes nor breaks the line (docs/scenario-format.md).
TEST_F(Cli, ReportsShowControlCharactersOfTheScenarioNameEscaped) {
  std::string text = read(kData + "/ok.json");
  const std::string from = R"("name": "check-ok")";
  text.replace(text.find(from), from.size(), R"("name": "ok\u0000x\ny\u001b[31m\t")");
  fs::path file = dir_ / "named.json";
  std::ofstream(file) << text;
  const std::string shown = R"(ok\u0000x\ny\u001b[31m\t)";
  Output run = netsim("run " + file.string());
  EXPECT_EQ(run.code, 0) << run.text;
  EXPECT_NE(run.text.find("  (" + shown + ", policy seed, seed 1)\n"), std::string::npos) << run.text;
  EXPECT_EQ(run.text.find('\0'), std::string::npos);
  EXPECT_EQ(run.text.find('\x1b'), std::string::npos);
  Output explore = netsim("explore " + file.string() + " --max-runs 1");
  EXPECT_NE(explore.text.find("(" + shown + "): depth"), std::string::npos) << explore.text;
  EXPECT_EQ(explore.text.find('\0'), std::string::npos);
}

TEST_F(Cli, RunOutWritesTheTraceAndEveryExport) {
  fs::path out = dir_ / "view";
  EXPECT_EQ(netsim("run " + kData + "/ok.json -q --out " + out.string()).code, 0);
  for (const char* f : {"trace.jsonl", "trace.pcapng", "trace.chrome.json", "topology.dot",
                        "sequence.mmd", "viewer.html"})
    EXPECT_GT(fs::file_size(out / f), 0u) << f;
}

TEST_F(Cli, WithoutATraceTheFingerprintIsNotComputedUnlessAsked) {
  Output plain = netsim("run " + kData + "/ok.json");
  EXPECT_EQ(plain.code, 0);
  EXPECT_NE(plain.text.find("fingerprint not computed"), std::string::npos) << plain.text;
  fs::path trace = dir_ / "t.jsonl";
  Output written = netsim("run " + kData + "/ok.json --trace " + trace.string());
  Output asked = netsim("run " + kData + "/ok.json --fingerprint");
  size_t at = written.text.find("fingerprint ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(asked.text.find(written.text.substr(at, 12 + 64)), std::string::npos) << asked.text;
}

// (Atomic replacement itself is tested in trace_writer_test.)
TEST_F(Cli, AnUnwritableTraceIsAUsageErrorFoundBeforeTheRun) {
  fs::path trace = dir_ / "missing" / "t.jsonl";
  Output out = netsim("run " + kData + "/ok.json --trace " + trace.string());
  EXPECT_EQ(out.code, 2);
  EXPECT_NE(out.text.find("cannot write " + trace.string()), std::string::npos) << out.text;
  EXPECT_EQ(out.text.find("PASS"), std::string::npos) << out.text;  // nothing ran
  EXPECT_FALSE(fs::exists(dir_ / "missing"));
}

// SIGINT or SIGTERM while the trace streams to its temporary: the process dies of the
// signal, the old trace is untouched, and no temporary is left in the directory.
TEST_F(Cli, AnInterruptedRunLeavesTheOldTraceAndNoTemporary) {
  fs::path scenario = dir_ / "long.json";
  std::ofstream(scenario) << R"({"format": "netsim-scenario/1", "name": "long",
    "hosts": {"a": {"interfaces": {"eth0": {"addresses": ["10.0.0.1/24"]}}},
              "b": {"interfaces": {"eth0": {"addresses": ["10.0.0.2/24"]}}}},
    "links": [{"between": ["a.eth0", "b.eth0"]}],
    "steps": [{"at": 0, "host": "b", "op": "listen", "proto": "udp", "socket": "s", "port": 9},
              {"at": 0, "host": "a", "op": "listen", "proto": "udp", "socket": "c", "port": 7},
              {"at": "1ms", "host": "a", "op": "send", "socket": "c", "to": "10.0.0.2:9", "data": "x",
               "repeat": {"count": 4000000000, "every": "1us"}}]})";
  for (int sig : {SIGINT, SIGTERM}) {
    fs::path trace = dir_ / "t.jsonl";
    std::ofstream(trace) << "old\n";
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::freopen("/dev/null", "w", stdout);
      execl(NETSIM_BINARY, "netsim", "run", scenario.c_str(), "-q", "--trace", trace.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait until the temporary exists and has grown, then interrupt.
    auto temporaries = [&] {
      size_t n = 0;
      for (const auto& e : fs::directory_iterator(dir_))
        n += e.path().filename().string().rfind(".t.jsonl.tmp.", 0) == 0;
      return n;
    };
    for (int i = 0; i < 200 && temporaries() == 0; ++i) usleep(20000);
    ASSERT_EQ(temporaries(), 1u);
    usleep(100000);
    kill(pid, sig);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status;
    EXPECT_EQ(temporaries(), 0u);
    EXPECT_EQ(read(trace), "old\n");
  }
}

// README command 1 (.ci/examples): the JUnit file goes into the --out directory.
TEST_F(Cli, CheckWritesJunitIntoTheOutDirectoryItCreates) {
  fs::path out = dir_ / "out";
  Output r = netsim("check " + kData + "/ok.json --out " + out.string() + " --junit " +
                    (out / "junit.xml").string());
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_TRUE(fs::exists(out / "junit.xml"));
  EXPECT_TRUE(fs::exists(out / "ok.jsonl"));
  EXPECT_TRUE(fs::exists(out / "ok.html"));
}

TEST_F(Cli, OutputsThatAreNotRegularFilesAreRefused) {
  fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Output trace = netsim("run " + kData + "/ok.json --trace " + fifo.string());
  EXPECT_EQ(trace.code, 2) << trace.text;
  EXPECT_NE(trace.text.find("not a regular file"), std::string::npos) << trace.text;
  EXPECT_EQ(fs::status(fifo).type(), fs::file_type::fifo);
  fs::create_directories(dir_ / "o" / "trace.jsonl");  // --out DIR whose trace.jsonl is a directory
  Output out = netsim("run " + kData + "/ok.json --out " + (dir_ / "o").string());
  EXPECT_EQ(out.code, 2) << out.text;
  EXPECT_TRUE(fs::is_directory(dir_ / "o" / "trace.jsonl"));
  Output junit = netsim("check " + kData + "/ok.json --junit " + fifo.string());
  EXPECT_EQ(junit.code, 2) << junit.text;
  EXPECT_EQ(fs::status(fifo).type(), fs::file_type::fifo);
}

// A link to something that is not a regular file is refused for what it names: /dev/stdout
// into a pipe is "not a regular file", not a link that cannot be followed.
TEST_F(Cli, ALinkToAPipeIsRefusedAsNotARegularFile) {
  Output piped = netsim("run " + kData + "/ok.json --trace /dev/stdout 2>&1 | cat");
  EXPECT_NE(piped.text.find("/dev/stdout: not a regular file"), std::string::npos) << piped.text;
}

// The trace written over the scenario it comes from would destroy the input: refused before
// the run (also through a link), the file left as it was. The same holds for an export.
TEST_F(Cli, AnOutputThatIsItsOwnInputIsRefused) {
  const fs::path scenario = dir_ / "ok.json";
  fs::copy_file(kData + "/ok.json", scenario);
  const std::string before = read(scenario);
  Output same = netsim("run " + scenario.string() + " --trace " + scenario.string());
  EXPECT_EQ(same.code, 2) << same.text;
  EXPECT_NE(same.text.find("it is the scenario file"), std::string::npos) << same.text;
  fs::create_symlink(scenario, dir_ / "link.jsonl");
  EXPECT_EQ(netsim("run " + scenario.string() + " --trace " + (dir_ / "link.jsonl").string()).code, 2);
  EXPECT_EQ(read(scenario), before);
  const fs::path trace = dir_ / "t.jsonl";
  ASSERT_EQ(netsim("run " + scenario.string() + " --trace " + trace.string()).code, 0);
  const std::string written = read(trace);
  Output exported = netsim("export " + trace.string() + " --format html -o " + trace.string());
  EXPECT_EQ(exported.code, 2) << exported.text;
  EXPECT_NE(exported.text.find("it is the trace"), std::string::npos) << exported.text;
  EXPECT_EQ(read(trace), written);
}

// `until` stops the run: a step at `until` runs, a step later does not and counts neither as
// passed nor as failed (docs/scenario-format.md, "Top level").
TEST_F(Cli, StepsAfterUntilDoNotRun) {
  std::string text = read(kData + "/ok.json");
  const std::string last = R"("repeat": { "count": 10, "every": "1ms" } })";
  ASSERT_NE(text.find(last), std::string::npos);
  text.replace(text.find(last), last.size(), last + R"(,
    { "at": "100ms", "host": "b", "op": "close", "socket": "s" },
    { "at": "101ms", "host": "a", "op": "close", "socket": "c", "expect_error": "unknown_socket" })");
  const fs::path scenario = dir_ / "until.json";
  std::ofstream(scenario) << text;
  Output r = netsim("run " + scenario.string() + " --trace " + (dir_ / "until.jsonl").string());
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("steps 13 passed, 0 failed"), std::string::npos) << r.text;  // 10 sends
  const std::string trace = read(dir_ / "until.jsonl");
  EXPECT_NE(trace.find(R"("step":"/steps/3")"), std::string::npos);
  EXPECT_EQ(trace.find(R"("step":"/steps/4")"), std::string::npos);
}

// --- issue 12 -------------------------------------------------------------------------

// Item 9: the header's scenario_sha256 counts the pin as "", so a pin written into the
// file (here copied from a run of the same file with a placeholder pin) can match.
TEST_F(Cli, FingerprintPinnedInTheFileCanMatch) {
  std::string text = read(kData + "/ok.json");
  auto pinned = [&](const std::string& pin) {
    std::string t = text;
    t.replace(t.find("\"until\""), 0, "\"fingerprint\": \"" + pin + "\",\n  ");
    return t;
  };
  fs::path file = dir_ / "pinned.json";
  std::ofstream(file, std::ios::binary) << pinned("placeholder");
  Output first = netsim("run " + file.string());
  size_t at = first.text.find("fingerprint ");
  ASSERT_NE(at, std::string::npos) << first.text;
  std::string fingerprint = first.text.substr(at + 12, 64);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << pinned(fingerprint);
  Output second = netsim("run " + file.string());
  EXPECT_EQ(second.code, 0) << second.text;
  // A filtered trace has another fingerprint: the pin is not checked, and it says so.
  Output filtered = netsim("run " + file.string() + " --trace-level sockets");
  EXPECT_EQ(filtered.code, 0) << filtered.text;
  EXPECT_NE(filtered.text.find("/fingerprint: not checked"), std::string::npos) << filtered.text;
  EXPECT_EQ(second.text.find("not checked"), std::string::npos) << second.text;
}

// Item 16: a seed is 0..2^64-1 everywhere; the command line does not wrap -1.
TEST_F(Cli, NegativeOrMalformedSeedIsAUsageError) {
  for (const char* seed : {"-1", "1e3", "18446744073709551616", "x"}) {
    Output out = netsim("run " + kData + "/ok.json --seed " + seed);
    EXPECT_EQ(out.code, 2) << seed << ": " << out.text;
    EXPECT_NE(out.text.find("--seed"), std::string::npos) << out.text;
  }
  EXPECT_EQ(netsim("run " + kData + "/ok.json -q --seed 18446744073709551615").code, 0);
}

// Item 17: messages state what is wrong.
TEST_F(Cli, UnknownCommandIsNamed) {
  Output out = netsim("frobnicate");
  EXPECT_EQ(out.code, 2);
  EXPECT_NE(out.text.find("unknown command `frobnicate`"), std::string::npos) << out.text;
  EXPECT_EQ(netsim("--version").code, 0);
}

TEST_F(Cli, ExportOfADirectoryIsAUsageErrorSayingSo) {
  Output out = netsim("export " + dir_.string() + " -o " + (dir_ / "x.dot").string());
  EXPECT_EQ(out.code, 2);
  EXPECT_NE(out.text.find("is a directory"), std::string::npos) << out.text;
}

// Item 5: an entry `check` cannot examine is an ERROR line; the rest still runs.
TEST_F(Cli, CheckReportsABadEntryAndRunsTheRest) {
  std::string s = suite({"ok.json"});
  fs::create_symlink("loop", fs::path(s) / "loop");        // a link to itself
  fs::create_symlink("a.json", fs::path(s) / "b.json");    // a loop of two links
  fs::create_symlink("b.json", fs::path(s) / "a.json");
  fs::create_directory_symlink(".", fs::path(s) / "self");  // not descended
  ASSERT_EQ(::mkfifo((fs::path(s) / "fifo.json").c_str(), 0600), 0);  // would block a reader
  Output out = netsim("check " + s);
  EXPECT_EQ(out.code, 3) << out.text;
  EXPECT_NE(out.text.find("PASS  " + s + "/ok.json"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("ERROR " + s + "/loop\n"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("ERROR " + s + "/a.json"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("fifo.json: not a regular file"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("1 passed, 0 failed, 4 invalid"), std::string::npos) << out.text;
  EXPECT_EQ(out.text.find("internal error"), std::string::npos) << out.text;
  // A looping link given as PATH is a bad entry too, not an internal error.
  Output root = netsim("check " + s + "/loop");
  EXPECT_EQ(root.code, 3) << root.text;
}

// Item 10: with --out or --golden, two scenarios may not share an output name.
TEST_F(Cli, CheckOutputNamesMustBeUnique) {
  for (const char* d : {"a", "b"}) {
    fs::create_directories(dir_ / d);
    fs::copy_file(kData + "/ok.json", dir_ / d / "x.json");
  }
  std::string both = (dir_ / "a").string() + " " + (dir_ / "b").string();
  Output out = netsim("check " + both + " --out " + (dir_ / "o").string());
  EXPECT_EQ(out.code, 2) << out.text;
  EXPECT_NE(out.text.find("would both write x.jsonl"), std::string::npos) << out.text;
  EXPECT_FALSE(fs::exists(dir_ / "o" / "x.jsonl"));
  EXPECT_EQ(netsim("check " + both + " --update-golden --golden " + (dir_ / "g").string()).code, 2);
  // `a-x.json` next to `a/x.json` maps to the same name too.
  fs::copy_file(kData + "/ok.json", dir_ / "a-x.json");
  fs::create_directories(dir_ / "c");
  Output dashed = netsim("check " + dir_.string() + " --filter x.json --out " + (dir_ / "o2").string());
  EXPECT_EQ(dashed.code, 2) << dashed.text;
  EXPECT_EQ(netsim("check " + both).code, 0);  // without outputs, names do not matter
}

// A swept pointer is checked before anything runs (the guard on the number of runs is in
// shard_test.cpp).
TEST_F(Cli, SweepWithABadPointerIsAUsageError) {
  EXPECT_EQ(netsim("sweep " + kData + "/ok.json --set /a~2=1..2").code, 2);
}

// Item 18: progress goes to stderr, never into the results on stdout.
TEST_F(Cli, ProgressIsOnStderrOnly) {
  std::string s = suite({"ok.json", "failing.json"});
  fs::path err = dir_ / "stderr";
  Output check = netsim("check " + s + " -j1 --progress always", err.string());
  EXPECT_NE(read(err).find("netsim check: 2/2 done"), std::string::npos) << read(err);
  EXPECT_EQ(check.text.find("done,"), std::string::npos) << check.text;
  Output sweep = netsim("sweep " + kData + "/ok.json --set /seed=1..3 --progress always", err.string());
  EXPECT_NE(read(err).find("netsim sweep: 3/3 done"), std::string::npos) << read(err);
  EXPECT_NE(read(err).find("/s"), std::string::npos) << read(err);  // the rate
  EXPECT_EQ(sweep.text.find("done,"), std::string::npos) << sweep.text;
  // auto: not a terminal and short, so nothing.
  netsim("check " + s, err.string());
  EXPECT_EQ(read(err).find("done,"), std::string::npos) << read(err);
}

}  // namespace

// `netsim compare` (issue 13 item 4, docs/compare.md): one scenario under several policies.
TEST_F(Cli, CompareExitsZeroWhenThePoliciesDecideTheSame) {
  Output out = netsim("compare " + kData + "/ok.json --policies seed,netstack3");
  EXPECT_EQ(out.code, 0) << out.text;
  EXPECT_NE(out.text.find("seed: PASS"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("netstack3: PASS"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("every policy decided the same"), std::string::npos) << out.text;
}

TEST_F(Cli, CompareShowsWhereSeedSeversAndNetstack3DoesNot) {
  const std::string file = kSource + "/scenarios/netstack3/no-severing.json";
  Output out = netsim("compare " + file + " --policies seed,netstack3 --out " + (dir_ / "cmp").string());
  EXPECT_EQ(out.code, 1) << out.text;
  // The step run that removes the address: seed severs `conn`, netstack3 does not.
  const size_t run = out.text.find("t=20ms /steps/2 remove_address client");
  ASSERT_NE(run, std::string::npos) << out.text;
  EXPECT_NE(out.text.find("seed:      *sever client: conn (address_removed)", run), std::string::npos)
      << out.text;
  // The send while the address is gone: not_connected (severed) against address_not_available.
  EXPECT_NE(out.text.find("send client conn -> not_connected"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("send client conn -> address_not_available"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("expectation /expect/0: seed fail, netstack3 pass"), std::string::npos)
      << out.text;
  for (const char* f : {"seed.jsonl", "seed.html", "netstack3.jsonl", "netstack3.html", "compare.html"})
    EXPECT_TRUE(fs::exists(dir_ / "cmp" / f)) << f;
  // Each policy's trace is the one `netsim run` writes under that policy.
  ASSERT_EQ(netsim("run " + file + " --set /policy=seed -q --trace " + (dir_ / "seed.jsonl").string()).code, 1);
  EXPECT_EQ(read(dir_ / "cmp" / "seed.jsonl"), read(dir_ / "seed.jsonl"));
}

TEST_F(Cli, CompareUsageErrorsExitTwoAndABadFileThree) {
  const std::string ok = kData + "/ok.json";
  EXPECT_EQ(netsim("compare " + ok + " --policies seed").code, 2);
  EXPECT_EQ(netsim("compare " + ok + " --policies seed,seed").code, 2);
  EXPECT_EQ(netsim("compare " + ok + " --policies seed,").code, 2);
  Output unknown = netsim("compare " + ok + " --policies seed,bsd");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.text.find("`bsd` is not a policy this netsim knows"), std::string::npos) << unknown.text;
  EXPECT_NE(unknown.text.find("/policy"), std::string::npos) << unknown.text;
  EXPECT_EQ(netsim("compare " + kData + "/broken.json --policies seed,netstack3").code, 3);
  EXPECT_EQ(netsim("compare " + (dir_ / "missing.json").string() + " --policies seed,netstack3").code, 3);
}

TEST_F(Cli, GoldenDifferenceNamesTheFirstDecisionAndWritesTheDiffPageNextToJunit) {
  std::string s = suite({"ok.json"});
  fs::path golden = dir_ / "golden";
  ASSERT_EQ(netsim("check " + s + " --golden " + golden.string() + " --update-golden").code, 0);
  // The golden run delivered the fifth datagram to another socket.
  std::string text = read(golden / "ok.jsonl");
  size_t at = 0;
  for (int k = 0; k < 5; ++k) at = text.find("\"event\":\"deliver\"", at + 1);
  at = text.find("\"socket\":\"s\"", at);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 12, "\"socket\":\"z\"");
  std::ofstream(golden / "ok.jsonl", std::ios::binary) << text;
  fs::path reports = dir_ / "reports";
  fs::create_directories(reports);
  Output out = netsim("check " + s + " --golden " + golden.string() + " --junit " +
                      (reports / "junit.xml").string());
  EXPECT_EQ(out.code, 1);
  EXPECT_NE(out.text.find("first differing decision: t=5ms /steps/2 send a c: golden deliver b: z"),
            std::string::npos) << out.text;
  EXPECT_NE(out.text.find("actual deliver b: s"), std::string::npos) << out.text;
  EXPECT_TRUE(fs::exists(reports / "ok.diff.html")) << out.text;
  EXPECT_NE(read(reports / "ok.diff.html").find("netsim-diff/1"), std::string::npos);
  // With --out the page goes there, beside the new run's viewer.
  Output with_out = netsim("check " + s + " --golden " + golden.string() + " --out " + (dir_ / "out").string());
  EXPECT_EQ(with_out.code, 1);
  EXPECT_TRUE(fs::exists(dir_ / "out" / "ok.diff.html")) << with_out.text;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "ok.html"));
}
