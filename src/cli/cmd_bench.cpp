// `lookaheadkv bench`: prefill and decode speed at several prompt lengths, repeated, with median
// and spread. scripts/bench_speed.py runs it next to llama.cpp on the same GGUF and thread count.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "engine/sampler.h"
#include "model/model.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/timer.h"

namespace lkv::cli {

namespace {

struct BenchArgs {
  std::string model;
  std::string text_file = "data/opticks_opening.txt";
  std::string prompt_tokens = "512,2048,8192";
  int decode_tokens = 64;
  int repeat = 3;
  int threads = 2;
  int n_batch = 512;
  std::string cache_type = "f32";
};

std::vector<int> parse_lengths(const std::string& list) {
  std::vector<int> lengths;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      lengths.push_back(std::stoi(item));
    } catch (const std::exception&) {
      fail("prompt length '{}' in --prompt-tokens is not a number; use a comma-separated list such as 512,2048", item);
    }
    if (lengths.back() <= 0) fail("prompt length {} in --prompt-tokens must be positive", lengths.back());
  }
  if (lengths.empty()) fail("--prompt-tokens is empty; give lengths such as 512,2048,8192");
  return lengths;
}

struct Summary {
  double median, min, max;
};

Summary summarize(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  const double median = n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
  return {median, values.front(), values.back()};
}

int run_bench(const BenchArgs& args) {
  if (args.repeat <= 0) fail("--repeat {} must be positive", args.repeat);
  if (args.decode_tokens < 0) fail("--decode-tokens {} must be 0 or more", args.decode_tokens);
  const KVCacheType cache_type = parse_kv_cache_type(args.cache_type);
  auto model = Model::load(args.model);
  auto tokenizer = Tokenizer::from_gguf(*model->file);
  const std::string text = read_prompt("", args.text_file);
  std::vector<TokenId> source = tokenizer->encode(text, false, false);
  if (source.empty()) fail("'{}' gives no tokens; use a text file with content", args.text_file);

  Transformer transformer(*model, args.threads);
  nlohmann::json rows = nlohmann::json::array();
  for (int n_prompt : parse_lengths(args.prompt_tokens)) {
    if (n_prompt + args.decode_tokens > model->hparams.n_ctx_train) {
      spdlog::warn("skipping {} prompt tokens: above the model's context of {}", n_prompt, model->hparams.n_ctx_train);
      continue;
    }
    // The text repeated until it is long enough, after BOS when the model uses one.
    std::vector<TokenId> prompt;
    if (tokenizer->add_bos()) prompt.push_back(tokenizer->bos());
    while (static_cast<int>(prompt.size()) < n_prompt) prompt.push_back(source[(prompt.size()) % source.size()]);

    std::vector<double> prefill_tps, decode_tps;
    for (int rep = 0; rep < args.repeat; ++rep) {
      KVCache cache = transformer.make_cache(cache_type);
      std::vector<float> logits;
      Timer timer;
      for (int begin = 0; begin < n_prompt; begin += args.n_batch) {
        const int end = std::min(n_prompt, begin + args.n_batch);
        Batch batch = Batch::from_tokens(std::vector<TokenId>(prompt.begin() + begin, prompt.begin() + end), begin);
        if (end != n_prompt) batch.logit_rows.clear();
        transformer.forward(batch, cache, end == n_prompt ? &logits : nullptr);
      }
      prefill_tps.push_back(n_prompt * 1000.0 / timer.elapsed_ms());
      timer.reset();
      for (int i = 0; i < args.decode_tokens; ++i) {
        const TokenId next = argmax(logits.data(), model->hparams.n_vocab);
        transformer.forward(Batch::from_tokens({next}, cache.next_position()), cache, &logits);
      }
      if (args.decode_tokens > 0) decode_tps.push_back(args.decode_tokens * 1000.0 / timer.elapsed_ms());
      spdlog::info("{} prompt tokens, run {}/{}: prefill {:.1f} tokens/s, decode {:.1f} tokens/s", n_prompt, rep + 1,
                   args.repeat, prefill_tps.back(), decode_tps.empty() ? 0.0 : decode_tps.back());
    }
    const Summary p = summarize(prefill_tps);
    nlohmann::json row = {{"prompt_tokens", n_prompt},
                          {"prefill_tokens_per_second", {{"median", p.median}, {"min", p.min}, {"max", p.max}}}};
    if (!decode_tps.empty()) {
      const Summary d = summarize(decode_tps);
      row["decode_tokens"] = args.decode_tokens;
      row["decode_tokens_per_second"] = {{"median", d.median}, {"min", d.min}, {"max", d.max}};
    }
    rows.push_back(row);
  }
  nlohmann::json out = {{"engine", "lookaheadkv"}, {"model", args.model}, {"threads", args.threads},
                        {"batch", args.n_batch}, {"cache_type", args.cache_type}, {"repeat", args.repeat},
                        {"results", rows}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace

Runner add_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  app.add_option("-m,--model", args->model, "GGUF model file")->required();
  app.add_option("-f,--file", args->text_file, "Text whose tokens, repeated, form the prompts")->capture_default_str();
  app.add_option("--prompt-tokens", args->prompt_tokens, "Comma-separated prompt lengths in tokens")->capture_default_str();
  app.add_option("--decode-tokens", args->decode_tokens, "Tokens decoded after each prefill")->capture_default_str();
  app.add_option("--repeat", args->repeat, "Runs per prompt length")->capture_default_str();
  app.add_option("-t,--threads", args->threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("-b,--batch-size", args->n_batch, "Prefill chunk length in tokens")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--cache-type", args->cache_type, "KV cache element type: f32 or f16")->capture_default_str();
  return [args] { return run_bench(*args); };
}

}  // namespace lkv::cli
