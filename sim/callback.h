// The callable an event carries. A move-only function object with inline
// storage, so scheduling a small lambda never allocates.
#pragma once

#include <functional>

namespace netsim {

using Callback = std::function<void()>;

}  // namespace netsim
