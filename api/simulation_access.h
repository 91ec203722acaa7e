// netsim's own door into netsim::Simulation (not installed): `netsim run` turns a scenario file
// into the typed model with the loader, makes the Simulation a program would build from it, and
// runs that with the runner's options (seed override, guards, trace level, statistics, outputs),
// getting the runner's full result. A Simulation made here is the loaded scenario, unchanged.
#pragma once

#include <netsim/simulation.h>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "viz/trace_fields.h"

namespace netsim {

class SimulationAccess {
 public:
  // Requires: `scenario` as the loader makes it (validated).
  static Simulation from_scenario(scenario::Scenario scenario);
  static const scenario::Scenario& scenario(const Simulation& simulation);
  // Runs once (std::logic_error after). The simulation's own trace sinks see the trace as
  // well as `options.trace_output` and `options.observer`.
  static scenario::RunResult run(Simulation& simulation, scenario::RunOptions options);
  // A record callback's view of an event being emitted.
  static TraceRecord record(const TraceEventView& view) { return TraceRecord(view); }
};

}  // namespace netsim
