// Forwards to async/offload.hpp, where offload now lives.
#pragma once

#include "async/offload.hpp"

// Transitional: lib/sync moves to async/offload.hpp
namespace pb::sys {
using async::offload;
}  // namespace pb::sys
