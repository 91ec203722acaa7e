// `netsim init DIR`: writes a starter project a new user can run at once: a scenario with
// expectations whose `$schema` names the installed JSON Schema, and a CI snippet running
// `netsim check --junit`. It never overwrites: if any file it would write exists, it writes
// nothing and says which (exit 2). docs/install.md, "netsim init".
#pragma once

#include <string>
#include <vector>

namespace netsim::cli {

// The files `netsim init` writes, relative to DIR.
const std::vector<std::string>& init_files();

// Writes the starter project into `dir` (created if missing). Returns the process exit code:
// 0 written, 2 a file exists or cannot be written (nothing or, on an I/O error, part written:
// the message names the file). `schema_path` is what the scenario's `$schema` says.
int run_init(const std::string& dir, const std::string& schema_path);

// The installed schema's absolute path: PREFIX/share/netsim/scenario.schema.json for the
// running binary at PREFIX/bin/netsim when that file exists, else the Debian package's
// /usr/share/netsim/scenario.schema.json.
std::string installed_schema_path();

}  // namespace netsim::cli
