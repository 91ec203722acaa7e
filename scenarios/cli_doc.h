// The command line's documentation generated from its own definitions: the man page netsim.1
// and the bash and zsh completion scripts are rendered from the CLI11 App that parses the
// command line (every subcommand, positional, option and its help text) plus the value sets
// recorded in OptionValues when the options were defined, so they cannot disagree with the
// parser. `netsim help --man` and `netsim help --completion bash|zsh` print them; the build
// writes them (cmake/install.cmake) and installs them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace netsim::cli {

// What an option's value may be, for completion and the man page.
struct ValueSet {
  std::vector<std::string> values;  // the accepted words (e.g. the trace levels)
  bool comma_list = false;          // a comma-separated list of them (e.g. --policies)
};

// The value sets of the options that have one, by option. The App owns the options.
using OptionValues = std::map<const CLI::Option*, ValueSet>;

// netsim.1 in man(7) roff: NAME, SYNOPSIS, DESCRIPTION, one subsection per command with its
// arguments and options, EXIT STATUS, FILES, SEE ALSO.
std::string man_page(const CLI::App& app, const OptionValues& values, const std::string& version);

// A bash completion script defining `_netsim` and `complete -F _netsim netsim`: subcommands,
// each one's options, the value sets after an option that has one (the last word of a comma
// list), file names otherwise.
std::string bash_completion(const CLI::App& app, const OptionValues& values);

// A zsh completion script (`#compdef netsim`, for a directory on $fpath as `_netsim`).
std::string zsh_completion(const CLI::App& app, const OptionValues& values);

}  // namespace netsim::cli
