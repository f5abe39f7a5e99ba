// Logging setup shared by the CLI, tests and benchmarks (spdlog, to stderr).
#pragma once

#include <string>

namespace lkv {

// Sets the global level from a name: trace, debug, info, warn, error, off. Unknown names throw.
void set_log_level(const std::string& level);

}  // namespace lkv
