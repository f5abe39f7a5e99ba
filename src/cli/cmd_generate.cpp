#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "engine/session.h"
#include "model/model.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace lkv::cli {

namespace {

struct GenerateArgs {
  std::string model, text, file, system;
  bool chat = false;
  bool json = false;
  int n_predict = 128;
  float temperature = 0.0f;
  int top_k = 40;
  float top_p = 0.95f;
  uint64_t seed = 0;
  int threads = 2;
  int n_ctx = 0;
  int n_batch = 512;
};

int run_generate(const GenerateArgs& args) {
  auto model = Model::load(args.model);
  auto tokenizer = Tokenizer::from_gguf(*model->file);
  const std::string text = read_prompt(args.text, args.file);

  std::vector<TokenId> prompt;
  if (args.chat) {
    const ChatTemplate chat_template = detect_chat_template(*model->file);
    std::vector<ChatMessage> messages;
    if (!args.system.empty()) messages.push_back({"system", args.system});
    messages.push_back({"user", text});
    prompt = tokenizer->encode(render_chat(chat_template, messages, true), false, true);
  } else {
    prompt = tokenizer->encode(text, true, false);
  }
  if (prompt.empty()) fail("the prompt is empty after tokenization: give some text with -p or -f");

  SessionOptions session_options;
  session_options.n_threads = args.threads;
  session_options.n_ctx = args.n_ctx;
  session_options.n_batch = args.n_batch;
  Session session(*model, *tokenizer, session_options);
  if (static_cast<int64_t>(prompt.size()) + args.n_predict > session.n_ctx()) {
    fail("the prompt has {} tokens and up to {} more are requested, but the context is {} tokens; shorten the prompt, "
         "lower -n or raise -c (the model was trained on {})",
         prompt.size(), args.n_predict, session.n_ctx(), model->hparams.n_ctx_train);
  }

  GenerateRequest request;
  request.prompt = prompt;
  request.n_predict = args.n_predict;
  request.sampling = {args.temperature, args.top_k, args.top_p, args.seed};
  if (!args.json) {
    request.on_text = [](const std::string& piece) {
      std::fputs(piece.c_str(), stdout);
      std::fflush(stdout);
    };
  }
  spdlog::info("prompt: {} tokens", prompt.size());
  const GenerateResult result = session.generate(request);

  if (args.json) {
    nlohmann::json out;
    out["model"] = args.model;
    out["text"] = result.text;
    out["stop_reason"] = result.stop_reason;
    out["tokens"] = {{"prompt", result.n_prompt}, {"generated", result.tokens.size()}};
    out["generated_ids"] = result.tokens;
    out["policy"] = {{"name", "full"}};
    out["timings_ms"] = {{"prefill", result.prefill_ms}, {"eviction", 0.0}, {"decode", result.decode_ms}};
    out["prefill_tokens_per_second"] = result.prefill_ms > 0 ? result.n_prompt * 1000.0 / result.prefill_ms : 0.0;
    out["decode_tokens_per_second"] = result.decode_tokens_per_second();
    out["kv_bytes"] = {{"after_prefill", result.kv_bytes_after_prefill},
                       {"after_eviction", result.kv_bytes_after_prefill},
                       {"end", result.kv_bytes_end}};
    out["threads"] = args.threads;
    out["peak_rss_bytes"] = peak_rss_bytes();
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
    spdlog::info("prefill {} tokens in {:.0f} ms ({:.1f} tokens/s); decode {} tokens at {:.1f} tokens/s; stop: {}",
                 result.n_prompt, result.prefill_ms, result.n_prompt * 1000.0 / std::max(result.prefill_ms, 1e-9),
                 result.tokens.size(), result.decode_tokens_per_second(), result.stop_reason);
  }
  return 0;
}

}  // namespace

Runner add_generate(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  app.add_option("-m,--model", args->model, "GGUF model file")->required();
  app.add_option("-p,--prompt", args->text, "Prompt text");
  app.add_option("-f,--file", args->file, "File whose contents are the prompt");
  app.add_flag("--chat", args->chat, "Wrap the prompt as a user turn in the model's chat template");
  app.add_option("--system", args->system, "System message for --chat");
  app.add_option("-n,--n-predict", args->n_predict, "Maximum number of tokens to generate")->capture_default_str();
  app.add_option("--temp", args->temperature, "Sampling temperature; 0 is greedy")->capture_default_str();
  app.add_option("--top-k", args->top_k, "Top-k cut when sampling; 0 disables it")->capture_default_str();
  app.add_option("--top-p", args->top_p, "Nucleus (top-p) cut when sampling, in (0, 1]")->capture_default_str();
  app.add_option("--seed", args->seed, "Random seed for sampling")->capture_default_str();
  app.add_option("-t,--threads", args->threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("-c,--ctx-size", args->n_ctx, "Context size in tokens; 0 uses the model's trained context")
      ->capture_default_str();
  app.add_option("-b,--batch-size", args->n_batch, "Prefill chunk length in tokens")->capture_default_str();
  app.add_flag("--json", args->json, "Print one JSON object with the text, token counts, timings and KV bytes");
  return [args] { return run_generate(*args); };
}

}  // namespace lkv::cli
