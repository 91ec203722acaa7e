#include "scenarios/results_file.h"

#include <fstream>
#include <map>

#include "viz/output_file.h"
#include "viz/sha256.h"

namespace netsim::scenario {

std::string input_digest(const std::vector<std::string>& pieces) {
  std::string all;
  for (const std::string& p : pieces) all += std::to_string(p.size()) + ":" + p + ";";
  return sha256_hex(all);
}

bool write_part(OutputFile& out, const PartHeader& h, const std::vector<nlohmann::json>& records,
                std::string* error) {
  nlohmann::json header = {{"format", kResultsFormat}, {"netsim", h.version}, {"command", h.command},
                           {"input", h.input},         {"title", h.title},    {"shard", h.shard},
                           {"shards", h.shards},       {"items", h.items}};
  out.write(header.dump() + "\n");
  for (const nlohmann::json& r : records) out.write(r.dump() + "\n");
  return out.commit(error);
}

namespace {

std::optional<Part> read_part(const std::string& path, std::vector<std::string>* errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors->push_back(path + ": cannot read");
    return std::nullopt;
  }
  Part part{path, {}, {}};
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      errors->push_back(path + ":" + std::to_string(number) + ": not a JSON object");
      return std::nullopt;
    }
    if (number > 1) {
      part.records.push_back(std::move(j));
      continue;
    }
    if (j.value("format", "") != kResultsFormat) {
      errors->push_back(path + ": not a netsim result file (its first line has no \"format\": \"" +
                        kResultsFormat + "\")");
      return std::nullopt;
    }
    try {
      PartHeader& h = part.header;
      h = {j.at("command"), j.at("netsim"), j.at("input"), j.at("title"), j.at("shard"), j.at("shards"),
           j.at("items")};
    } catch (const nlohmann::json::exception&) {
      errors->push_back(path + ":1: the header lacks a field or has one of the wrong type");
      return std::nullopt;
    }
  }
  if (number == 0) {
    errors->push_back(path + ": empty");
    return std::nullopt;
  }
  return part;
}

}  // namespace

std::optional<std::vector<Part>> read_parts(const std::vector<std::string>& paths,
                                            std::vector<std::string>* errors) {
  std::vector<Part> parts;
  for (const std::string& p : paths)
    if (auto part = read_part(p, errors)) parts.push_back(std::move(*part));
  if (!errors->empty()) return std::nullopt;
  if (parts.empty()) {
    errors->push_back("no parts");
    return std::nullopt;
  }
  const PartHeader& first = parts[0].header;
  auto differs = [&](const Part& p, const char* what, const std::string& mine, const std::string& theirs) {
    errors->push_back(p.path + ": " + what + " " + theirs + ", but " + parts[0].path + " has " + mine);
  };
  std::map<uint64_t, size_t> by_shard;  // shard -> its place in parts
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part& p = parts[i];
    const PartHeader& h = p.header;
    if (h.version != first.version) differs(p, "netsim version", first.version, h.version);
    if (h.command != first.command) differs(p, "command", first.command, h.command);
    if (h.input != first.input || h.items != first.items || h.title != first.title)
      errors->push_back(p.path + ": another input than " + parts[0].path +
                        " (other files, options or values: the parts are of different runs)");
    if (h.shards != first.shards)
      differs(p, "shard count", std::to_string(first.shards), std::to_string(h.shards));
    if (h.shards == 0 || h.shard >= h.shards) {
      errors->push_back(p.path + ": shard " + std::to_string(h.shard) + " of " + std::to_string(h.shards));
      continue;
    }
    auto [it, fresh] = by_shard.emplace(h.shard, i);
    if (!fresh)
      errors->push_back(p.path + ": shard " + std::to_string(h.shard) + " again (also " +
                        parts[it->second].path + ")");
  }
  if (errors->empty()) {
    std::string missing;
    for (uint64_t k = 0; k < first.shards && missing.size() < 200; ++k)
      if (!by_shard.count(k)) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
    if (!missing.empty())
      errors->push_back("missing shard(s) " + missing + " of " + std::to_string(first.shards));
  }
  if (!errors->empty()) return std::nullopt;
  std::vector<Part> ordered;
  for (auto [shard, i] : by_shard) ordered.push_back(std::move(parts[i]));
  return ordered;
}

}  // namespace netsim::scenario
