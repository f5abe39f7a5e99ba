#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "gguf/reader.h"
#include "tokenizer/tokenizer.h"

namespace lkv::cli {

namespace {

struct TokenizeArgs {
  std::string model, text, file;
  bool json = false;
  bool no_special = false;
};

int run_tokenize(const TokenizeArgs& args) {
  auto file = gguf::File::open(args.model);
  auto tokenizer = Tokenizer::from_gguf(*file);
  const std::string text = read_prompt(args.text, args.file);
  const std::vector<TokenId> ids = tokenizer->encode(text, !args.no_special, true);
  if (args.json) {
    nlohmann::json out;
    out["n_tokens"] = ids.size();
    out["ids"] = ids;
    nlohmann::json pieces = nlohmann::json::array();
    for (TokenId id : ids) pieces.push_back(tokenizer->token_text(id));
    out["pieces"] = pieces;
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    for (TokenId id : ids) std::printf("%d\t%s\n", id, tokenizer->token_text(id).c_str());
    std::printf("%zu tokens\n", ids.size());
  }
  return 0;
}

}  // namespace

Runner add_tokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  app.add_option("-m,--model", args->model, "GGUF model file")->required();
  app.add_option("-p,--prompt", args->text, "Text to tokenize");
  app.add_option("-f,--file", args->file, "File whose contents to tokenize");
  app.add_flag("--no-special", args->no_special, "Do not add BOS/EOS tokens");
  app.add_flag("--json", args->json, "Print one JSON object with ids and pieces");
  return [args] { return run_tokenize(*args); };
}

}  // namespace lkv::cli
