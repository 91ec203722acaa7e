// The online expectation check (the runner feeding typed records to the matchers as they
// are emitted) against the same expectations checked on the written trace, parsed back:
// for every bundled scenario and variations of its expectations that fail in different
// ways (too few, too many, wrong field, outside the window, broken sequences), the
// verdicts, counts and reports must be identical. This is what ties the matchers' view of
// a record (viz/trace_fields.h) to the line the writer makes of it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/expect.h"
#include "scenarios/loader.h"
#include "scenarios/runner.h"
#include "viz/trace_writer.h"

namespace netsim::scenario {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<fs::path> bundled_scenarios() {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(NETSIM_SOURCE_DIR) / "scenarios")) {
    std::string p = e.path().generic_string();
    if (e.path().extension() == ".json" && p.find("/schema/") == std::string::npos &&
        p.find("/guards/") == std::string::npos)
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Expectations that fail (or pass) in different ways, made from one that holds.
std::vector<json> variations(const json& e) {
  std::vector<json> out;
  auto without_counts = [](json v) {  // the count rules of a single matcher
    for (const char* k : {"count", "min", "max", "never"}) v.erase(k);
    return v;
  };
  json late = e;  // every event falls before the window
  late.erase("before");
  late["after"] = "999s";
  out.push_back(late);
  if (e.contains("sequence")) {
    json reversed = e;
    std::reverse(reversed["sequence"].begin(), reversed["sequence"].end());
    out.push_back(reversed);
    json broken = e;
    broken["sequence"].back() = json{{"event", "sever"}, {"socket", "no such socket"}};
    out.push_back(broken);
    return out;
  }
  json more = without_counts(e);
  more["count"] = e.value("count", 1) + 1;
  out.push_back(more);
  json never = without_counts(e);
  never["never"] = true;
  out.push_back(never);
  json changed = e;
  for (auto it = changed.begin(); it != changed.end(); ++it)
    if (it->is_string() && !(it.key() == "event" || it.key() == "after" || it.key() == "before" ||
                             it.key() == "host" || it.key() == "interface" || it.key() == "link")) {
      *it = it->get<std::string>() + "X";
      break;
    }
  out.push_back(changed);
  return out;
}

std::vector<json> parsed_events(const std::string& trace) {
  std::vector<json> events;
  std::istringstream in(trace);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    std::string kind = j["event"];
    if (kind != "header" && kind != "summary" && kind != "expect") events.push_back(std::move(j));
  }
  return events;
}

TEST(OnlineExpectations, AgreeWithTheWrittenTraceOnEveryBundledScenario) {
  size_t compared = 0, failing = 0;
  for (const fs::path& file : bundled_scenarios()) {
    std::ifstream in(file);
    json scenario = json::parse(in);
    if (!scenario.contains("expect")) continue;
    scenario.erase("fingerprint");
    for (const json& original : scenario["expect"]) {
      json variant_scenario = scenario;
      variant_scenario["expect"] = variations(original);
      LoadResult loaded = load_scenario_text(variant_scenario.dump(), file.string());
      std::string errors;
      for (const auto& d : loaded.errors) errors += format_diagnostic(d) + "\n";
      ASSERT_TRUE(loaded.scenario) << file << "\n" << errors;
      StringTraceOutput trace;
      RunOptions options;
      options.trace_output = &trace;
      RunResult online = run_scenario(*loaded.scenario, options);
      std::vector<json> events = parsed_events(trace.text());
      ASSERT_EQ(online.expectations.size(), loaded.scenario->expect.size());
      for (size_t i = 0; i < loaded.scenario->expect.size(); ++i) {
        const Expectation& e = loaded.scenario->expect[i];
        ExpectationResult offline = check_expectation(e, events);
        EXPECT_EQ(online.expectations[i].second, offline.pass) << file << " " << e.pointer;
        if (!offline.pass) {
          ++failing;
          bool reported = std::find(online.failures.begin(), online.failures.end(), offline.detail) !=
                          online.failures.end();
          EXPECT_TRUE(reported) << file << " " << e.pointer << "\noffline report:\n" << offline.detail;
        }
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 300u);
  EXPECT_GT(failing, 200u);  // the variations really do fail, in many ways
}

}  // namespace
}  // namespace netsim::scenario
