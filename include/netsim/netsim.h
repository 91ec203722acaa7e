// The whole public API of netsim as a library (docs/library.md): Simulation (build a network,
// schedule steps, attach trace sinks, run) and the trace types it reports. Include this, or
// the two headers it includes; nothing else under <netsim/...> is public.
#pragma once

#include <netsim/simulation.h>
#include <netsim/trace.h>
