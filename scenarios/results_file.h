// A part of a sharded `check`, `sweep` or `explore`, written by `--results-out FILE` and read
// back by `netsim merge PART...` (docs/cluster.md). JSON Lines: a header, then the command's
// records (check: one per item, in index order; sweep: one tally; explore: one report). The header holds what parts must
// share to be merged: the format, the netsim version, the command, the input (a SHA-256 over
// what defines the items and their order) and the shard count; merge takes every shard once.
#pragma once

#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/shard.h"

namespace netsim {
class OutputFile;
}

namespace netsim::scenario {

inline constexpr const char* kResultsFormat = "netsim-results/1";

struct PartHeader {
  std::string command;  // "check", "sweep" or "explore"
  std::string version;  // netsim's
  std::string input;    // hex SHA-256 of the input, see input_digest()
  std::string title;    // sweep, explore: the scenario file as given
  uint64_t shard = 0, shards = 1;
  uint64_t items = 0;   // in the whole run, every shard together
};

struct Part {
  std::string path;
  PartHeader header;
  std::vector<nlohmann::json> records;
};

// The hex SHA-256 of `pieces`, each length-prefixed (no two lists hash alike).
std::string input_digest(const std::vector<std::string>& pieces);

// Writes the part into `out` (opened before the run, so an unwritable path is found
// first) and commits it; false with *error naming the file otherwise.
bool write_part(OutputFile& out, const PartHeader& header, const std::vector<nlohmann::json>& records,
                std::string* error);

// Reads the parts and checks that they make one whole run: one command, format, version,
// input, shard count and item count, every shard 0..N-1 exactly once. The parts in shard
// order, or nullopt with every problem found in *errors.
std::optional<std::vector<Part>> read_parts(const std::vector<std::string>& paths,
                                            std::vector<std::string>* errors);

// Merges parts that hold one record each (sweep, explore): T::from_json reads a part's record
// (throwing nlohmann::json::exception when it is not one), `count(t)` says how many runs it
// holds (a complete one of shard K holds that shard's share of the header's items), and
// `add(all, mine)` adds it to the others' (false when the two are not of one run). nullopt
// after printing which part does not fit, as "not WHAT of shard K/N".
template <class T, class Count, class Add>
std::optional<T> merge_single_records(const std::vector<Part>& parts, const std::string& what, Count count,
                                      Add add) {
  std::optional<T> all;
  for (const Part& p : parts) {
    std::optional<T> mine;
    try {
      if (p.records.size() == 1) mine = T::from_json(p.records[0]);
    } catch (const nlohmann::json::exception&) {
    }
    const uint64_t share = Shard{p.header.shard, p.header.shards, "", ""}.size(p.header.items);
    if (!mine || count(*mine) != share || (all && !add(*all, *mine))) {
      std::cerr << "netsim merge: " << p.path << ": not " << what << " of shard " << p.header.shard << "/"
                << p.header.shards << "\n";
      return std::nullopt;
    }
    if (!all) all = std::move(mine);
  }
  return all;
}

}  // namespace netsim::scenario
