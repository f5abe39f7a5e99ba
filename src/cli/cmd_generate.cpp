#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "engine/session.h"
#include "eviction/registry.h"
#include "lookahead/policy.h"
#include "model/model.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace lkv::cli {

namespace {

// Marks where a rendered chat text is split (context | question, previous turn | next turn). It
// has no surrounding whitespace, so templates that trim contents keep it intact.
constexpr const char* kSplitMark = "\x1eLKV_SPLIT\x1e";

struct GenerateArgs {
  std::string model, text, file, system, question;
  std::vector<std::string> turns;
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
  std::string cache_type = "f32";
  EvictionCliOptions eviction;
};

// Text before and after the split mark; throws when the template dropped it.
std::pair<std::string, std::string> split_at_mark(const std::string& rendered) {
  const size_t at = rendered.find(kSplitMark);
  if (at == std::string::npos) fail("the chat template dropped the split marker; --question and --turn need a template that keeps message text");
  return {rendered.substr(0, at), rendered.substr(at + std::string(kSplitMark).size())};
}

nlohmann::json turn_json(const GenerateResult& r, const Tokenizer& tokenizer) {
  nlohmann::json out;
  out["text"] = r.text;
  out["stop_reason"] = r.stop_reason;
  out["tokens"] = {{"prompt", r.n_prompt},
                   {"question", r.n_question},
                   {"generated", r.tokens.size()},
                   {"evicted_layers", r.eviction.layers},
                   {"kept_per_evicted_layer", r.eviction.kept}};
  out["generated_ids"] = r.tokens;
  const EvictionTimings& t = r.eviction.timings;
  out["timings_ms"] = {{"prefill", r.prefill_ms},
                       {"question_prefill", r.question_prefill_ms},
                       {"eviction", t.total_ms},
                       {"decode", r.decode_ms},
                       {"eviction_detail",
                        {{"capture", t.capture_ms},
                         {"scoring", t.scoring_ms},
                         {"selection", t.selection_ms},
                         {"compaction", t.compaction_ms},
                         {"draft", t.draft_ms}}}};
  out["prefill_tokens_per_second"] = r.prefill_ms > 0 ? r.n_prompt * 1000.0 / r.prefill_ms : 0.0;
  out["decode_tokens_per_second"] = r.decode_tokens_per_second();
  out["kv_bytes"] = {{"after_prefill", r.kv_bytes_after_prefill},
                     {"after_eviction", r.kv_bytes_after_eviction},
                     {"after_eviction_global_layers", r.kv_bytes_global_after_eviction},
                     {"after_eviction_sliding_window_layers", r.kv_bytes_swa_after_eviction},
                     {"end", r.kv_bytes_end}};
  out["eviction"] = {{"applied", r.eviction.applied}, {"budget", r.eviction.budget}, {"note", r.eviction.note}};
  (void)tokenizer;
  return out;
}

void log_turn(const GenerateResult& r) {
  spdlog::info("prefill {} tokens in {:.0f} ms ({:.1f} tokens/s); eviction ({}) {:.1f} ms, KV {:.1f} -> {:.1f} MiB; decode {} "
               "tokens at {:.1f} tokens/s; stop: {}",
               r.n_prompt, r.prefill_ms, r.n_prompt * 1000.0 / std::max(r.prefill_ms, 1e-9), r.eviction.policy,
               r.eviction.timings.total_ms, r.kv_bytes_after_prefill / 1048576.0, r.kv_bytes_after_eviction / 1048576.0,
               r.tokens.size(), r.decode_tokens_per_second(), r.stop_reason);
  if (r.eviction.applied && !r.eviction.kept.empty()) {
    const auto [lo, hi] = std::minmax_element(r.eviction.kept.begin(), r.eviction.kept.end());
    spdlog::info("eviction kept {} of {} entries per KV head in each of {} global layers; sliding-window layers "
                 "keep their window",
                 *lo == *hi ? fmt::format("{}", *lo) : fmt::format("{}-{}", *lo, *hi), r.eviction.n_tokens,
                 r.eviction.layers.size());
  }
  if (!r.eviction.note.empty()) spdlog::info("eviction: {}", r.eviction.note);
}

int run_generate(const GenerateArgs& args) {
  PolicyOptions policy_options = args.eviction.to_options();
  // Option errors surface before the model loads; a policy with an adapter is checked once it is read.
  if (policy_options.adapter_path.empty()) make_policy(policy_options);
  if (!args.turns.empty() && !args.chat) fail("--turn continues a chat conversation: add --chat");
  const KVCacheType cache_type = parse_kv_cache_type(args.cache_type);
  auto model = Model::load(args.model);
  load_policy_adapter(policy_options, *model);
  auto policy = make_policy(policy_options);
  auto tokenizer = Tokenizer::from_gguf(*model->file);
  const std::string text = read_prompt(args.text, args.file);

  std::vector<TokenId> prompt, question;
  std::optional<ChatTemplate> chat_template;
  std::vector<ChatMessage> messages;
  if (args.chat) {
    chat_template = detect_chat_template(*model->file);
    if (!args.system.empty()) messages.push_back({"system", args.system});
    if (args.question.empty()) {
      messages.push_back({"user", text});
      prompt = tokenizer->encode(render_chat(*chat_template, messages, true), false, true);
    } else {
      messages.push_back({"user", text + "\n\n" + kSplitMark + args.question});
      const auto [context, rest] = split_at_mark(render_chat(*chat_template, messages, true));
      prompt = tokenizer->encode(context, false, true);
      question = tokenizer->encode(rest, false, true);
      messages.back().content = text + "\n\n" + args.question;
    }
  } else {
    prompt = tokenizer->encode(text, true, false);
    if (!args.question.empty()) question = tokenizer->encode("\n\n" + args.question, false, false);
  }
  if (prompt.empty()) fail("the prompt is empty after tokenization: give some text with -p or -f");

  SessionOptions session_options;
  session_options.n_threads = args.threads;
  session_options.n_ctx = args.n_ctx;
  session_options.n_batch = args.n_batch;
  session_options.cache_type = cache_type;
  Session session(*model, *tokenizer, session_options);
  if (static_cast<int64_t>(prompt.size() + question.size()) + args.n_predict > session.n_ctx()) {
    fail("the prompt has {} tokens and up to {} more are requested, but the context is {} tokens; shorten the prompt, "
         "lower -n or raise -c (the model was trained on {})",
         prompt.size() + question.size(), args.n_predict, session.n_ctx(), model->hparams.n_ctx_train);
  }

  GenerateRequest request;
  request.prompt = prompt;
  request.question = question;
  request.policy = policy;
  request.n_predict = args.n_predict;
  request.sampling = {args.temperature, args.top_k, args.top_p, args.seed};
  if (!args.json) {
    request.on_text = [](const std::string& piece) {
      std::fputs(piece.c_str(), stdout);
      std::fflush(stdout);
    };
  }
  spdlog::info("prompt: {} tokens{}; policy {}", prompt.size(),
               question.empty() ? std::string() : fmt::format(" + {} question tokens after eviction", question.size()),
               policy->params_json().dump());
  std::vector<GenerateResult> results;
  results.push_back(session.generate(request));
  if (!args.json) {
    std::printf("\n");
    std::fflush(stdout);  // the log line on stderr must follow the streamed text
  }
  log_turn(results.back());

  for (const std::string& turn : args.turns) {
    // The next turn's tokens: what the template renders after the previous assistant message
    // (its end-of-turn marker, the new user turn and the generation prefix).
    std::vector<ChatMessage> rendered = messages;
    rendered.push_back({"assistant", kSplitMark});
    rendered.push_back({"user", turn});
    const auto [before, after] = split_at_mark(render_chat(*chat_template, rendered, true));
    (void)before;
    messages.push_back({"assistant", results.back().text});
    messages.push_back({"user", turn});
    request.prompt = tokenizer->encode(after, false, true);
    request.question.clear();
    if (!args.json) std::printf("\n--- next turn ---\n");
    results.push_back(session.continue_generate(request));
    if (!args.json) {
      std::printf("\n");
      std::fflush(stdout);
    }
    log_turn(results.back());
  }

  if (args.json) {
    nlohmann::json out = turn_json(results.front(), *tokenizer);
    out["model"] = args.model;
    out["policy"] = policy->params_json();
    out["threads"] = args.threads;
    out["cache_type"] = args.cache_type;
    out["peak_rss_bytes"] = peak_rss_bytes();
    if (results.size() > 1) {
      out["next_turns"] = nlohmann::json::array();
      for (size_t i = 1; i < results.size(); ++i) out["next_turns"].push_back(turn_json(results[i], *tokenizer));
    }
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  return 0;
}

}  // namespace

Runner add_generate(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  app.add_option("-m,--model", args->model, "GGUF model file")->required();
  app.add_option("-p,--prompt", args->text, "Prompt text (the context in --question split mode)");
  app.add_option("-f,--file", args->file, "File whose contents are the prompt");
  app.add_flag("--chat", args->chat, "Wrap the prompt as a user turn in the model's chat template");
  app.add_option("--system", args->system, "System message for --chat");
  app.add_option("--question", args->question,
                 "Split mode: this text follows the prompt but is prefilled after eviction, so only the prompt is evicted");
  app.add_option("--turn", args->turns,
                 "A further user turn (repeatable, needs --chat), appended to the pruned cache and evicted again");
  app.add_option("-n,--n-predict", args->n_predict, "Maximum number of tokens to generate")->capture_default_str();
  app.add_option("--temp", args->temperature, "Sampling temperature; 0 is greedy")->capture_default_str();
  app.add_option("--top-k", args->top_k, "Top-k cut when sampling; 0 disables it")->capture_default_str();
  app.add_option("--top-p", args->top_p, "Nucleus (top-p) cut when sampling, in (0, 1]")->capture_default_str();
  app.add_option("--seed", args->seed, "Random seed for sampling")->capture_default_str();
  app.add_option("-t,--threads", args->threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("-c,--ctx-size", args->n_ctx, "Context size in tokens; 0 uses the model's trained context")
      ->capture_default_str();
  app.add_option("-b,--batch-size", args->n_batch, "Prefill chunk length in tokens")->capture_default_str();
  app.add_option("--cache-type", args->cache_type, "KV cache element type: f32, or f16 for half the KV memory")
      ->capture_default_str();
  add_eviction_options(app, args->eviction);
  app.add_flag("--json", args->json,
               "Print one JSON object with the text, token counts, policy, timings (prefill, eviction, decode) and KV bytes");
  return [args] { return run_generate(*args); };
}

}  // namespace lkv::cli
