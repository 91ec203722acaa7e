#include "scenarios/init.h"

#include <filesystem>
#include <iostream>

#include "scenarios/cli.h"
#include "viz/output_file.h"

namespace netsim::cli {
namespace fs = std::filesystem;
namespace {

// DIR/scenarios/first.json and DIR/ci/netsim-check.sh.
const std::string kScenarioFile = (fs::path("scenarios") / "first.json").string();
const std::string kCiFile = (fs::path("ci") / "netsim-check.sh").string();

// A specific UDP listener shadows a wildcard one on the same port and uncovers it when it
// closes (semantics.md 5): two expectations that hold, one per decision.
std::string scenario_text(const std::string& schema_path) {
  return R"({
  "$schema": ")" + schema_path + R"(",
  "format": "netsim-scenario/1",
  "name": "first",
  "description": "A specific UDP listener shadows the wildcard one on port 7, and uncovers it when it closes.",
  "until": "1s",
  "defaults": { "link": { "latency": "1ms" } },
  "hosts": {
    "client": { "interfaces": { "eth0": { "addresses": ["10.0.0.2/24"] } } },
    "server": { "interfaces": { "eth0": { "addresses": ["10.0.0.1/24"] } } }
  },
  "links": [ { "between": ["client.eth0", "server.eth0"] } ],
  "steps": [
    { "at": "0ms",  "host": "server", "op": "listen", "proto": "udp", "socket": "any", "port": 7 },
    { "at": "0ms",  "host": "server", "op": "listen", "proto": "udp", "socket": "echo", "port": 7, "addresses": ["10.0.0.1"] },
    { "at": "0ms",  "host": "client", "op": "listen", "proto": "udp", "socket": "c", "port": 5000 },
    { "at": "10ms", "host": "client", "op": "send", "socket": "c", "to": "10.0.0.1:7", "data": "hi" },
    { "at": "20ms", "host": "server", "op": "close", "socket": "echo" },
    { "at": "30ms", "host": "client", "op": "send", "socket": "c", "to": "10.0.0.1:7", "data": "again" }
  ],
  "expect": [
    { "event": "deliver", "socket": "echo", "match": "specific", "shadowed": ["any"], "data": "hi" },
    { "event": "deliver", "socket": "any", "match": "wildcard", "data": "again", "after": "20ms" }
  ]
}
)";
}

constexpr const char* kCiText = R"(#!/bin/sh
# Runs every scenario under scenarios/ (exit 1 if one fails, 3 if one is invalid) and writes
# JUnit XML for the CI's test report. Run it from the project's top directory, on a machine
# with netsim installed (apt-get install ./netsim_VERSION_amd64.deb). For example:
#   GitHub Actions:  - run: sh ci/netsim-check.sh
#                    (then a JUnit report action on junit.xml)
#   GitLab CI:       script: [sh ci/netsim-check.sh]
#                    artifacts: { when: always, reports: { junit: junit.xml } }
set -eu
netsim check scenarios --junit junit.xml
)";

}  // namespace

const std::vector<std::string>& init_files() {
  static const std::vector<std::string> files = {kScenarioFile, kCiFile};
  return files;
}

int run_init(const std::string& dir, const std::string& schema_path) {
  const fs::path root(dir);
  for (const std::string& f : init_files()) {
    std::error_code ec;
    if (fs::symlink_status(root / f, ec).type() != fs::file_type::not_found) {
      std::cerr << "netsim init: " << (root / f).string()
                << " exists; nothing written (netsim init never overwrites)\n";
      return kExitUsage;
    }
  }
  const std::string texts[] = {scenario_text(schema_path), kCiText};
  for (size_t i = 0; i < init_files().size(); ++i) {
    const fs::path path = root / init_files()[i];
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::string error;
    auto out = OutputFile::open(path.string(), &error);
    if (out) out->write(texts[i]);
    if (!out || !out->commit(&error)) {
      std::cerr << "netsim init: cannot write " << error << "\n";
      return kExitUsage;
    }
  }
  fs::permissions(root / kCiFile, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
  std::cout << "wrote " << (root / kScenarioFile).string() << " and " << (root / kCiFile).string()
            << "\nnext: netsim check " << (root / "scenarios").string() << "\n";
  return kExitOk;
}

std::string installed_schema_path() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path schema = exe.parent_path().parent_path() / "share" / "netsim" / "scenario.schema.json";
    if (fs::is_regular_file(schema, ec)) return schema.lexically_normal().string();
  }
  return "/usr/share/netsim/scenario.schema.json";
}

}  // namespace netsim::cli
