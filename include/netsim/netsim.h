// The whole public API of netsim as a library (docs/library.md): Simulation (build a network,
// schedule steps, state expectations, attach trace sinks, run), the expectation types, and the
// trace record a callback receives. Include this, or the headers it includes; nothing else
// under <netsim/...> is public.
#pragma once

#include <netsim/expect.h>
#include <netsim/simulation.h>
#include <netsim/trace.h>
