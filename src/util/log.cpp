#include "util/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "util/error.h"

namespace lkv {

void set_log_level(const std::string& level) {
  static const bool configured = [] {
    auto logger = spdlog::stderr_color_mt("lookaheadkv");
    logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)configured;
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    fail("invalid log level '{}': use trace, debug, info, warn, error or off", level);
  }
  spdlog::set_level(parsed);
}

}  // namespace lkv
