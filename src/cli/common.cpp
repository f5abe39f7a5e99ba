#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "util/error.h"

namespace lkv::cli {

std::string read_prompt(const std::string& text, const std::string& file) {
  if (!text.empty() && !file.empty()) fail("both -p and -f were given; use one of them");
  if (file.empty()) {
    if (text.empty()) fail("no prompt: give -p TEXT or -f FILE");
    return text;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("prompt file '{}' not found or unreadable", file);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

size_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return static_cast<size_t>(std::stoull(line.substr(6))) * 1024;
  }
  return 0;
}

namespace {
std::string g_command_line;
}

void set_command_line(int argc, char** argv) {
  g_command_line = "lookaheadkv";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_of(" \t'\"\\$`") == std::string::npos;
    g_command_line += plain ? " " + a : " '" + a + "'";
  }
}

const std::string& command_line() { return g_command_line; }

}  // namespace lkv::cli
