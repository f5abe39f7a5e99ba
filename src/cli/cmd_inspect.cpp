#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "gguf/describe.h"
#include "gguf/reader.h"

namespace lkv::cli {

Runner add_inspect(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  app.add_option("file", *path, "GGUF file (model or adapter)")->required();
  return [path] {
    auto file = gguf::File::open(*path);
    std::fputs(gguf::describe(*file).c_str(), stdout);
    return 0;
  };
}

}  // namespace lkv::cli
