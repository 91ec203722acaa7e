// `viewer_export TRACE [--format F] -o OUT`: the exporter the browser test drives, the same
// code as `netsim export` (export_main) without the rest of the command line.
#include <string>
#include <vector>

#include "viz/export.h"

int main(int argc, char** argv) {
  return netsim::export_main(std::vector<std::string>(argv + 1, argv + argc));
}
