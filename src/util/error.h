// Error type used across lookaheadkv.
//
// Library code throws lkv::Error with a message that names the offending value and, where there is
// one, the fix. Each phase adds its context ("loading tensor blk.3.attn_q: ...") by catching and
// rethrowing with with_context(). The CLI turns the final message into one line and exit code 1.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace lkv {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws lkv::Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Invariant check that stays on in release builds. Use it for internal contracts, not user input.
#define LKV_CHECK(cond)                                                                   \
  do {                                                                                    \
    if (!(cond)) ::lkv::fail("internal check failed at {}:{}: {}", __FILE__, __LINE__, #cond); \
  } while (0)

}  // namespace lkv
