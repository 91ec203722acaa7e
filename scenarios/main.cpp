// netsim's entry point: see scenarios/cli.h.
#include <string>
#include <vector>

#include "scenarios/cli.h"

int main(int argc, char** argv) {
  return netsim::cli::main(std::vector<std::string>(argv + 1, argv + argc));
}
