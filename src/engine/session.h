// A generation session: prefill a prompt in chunks, then decode token by token.
//
// The session owns the KV cache and the forward-pass scratch of one conversation. generate()
// starts from an empty cache; continue_generate() appends a new turn to what the cache holds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "kvcache/kv_cache.h"
#include "model/model.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace lkv {

struct SessionOptions {
  int n_threads = 2;
  int n_ctx = 0;      // context limit in tokens; 0: the model's trained context
  int n_batch = 512;  // prefill chunk length
};

struct GenerateRequest {
  std::vector<TokenId> prompt;
  int n_predict = 128;  // maximum tokens to generate
  SamplerOptions sampling;
  std::vector<TokenId> extra_stop_ids;
  // Called with each new piece of text as soon as it forms complete UTF-8 characters.
  std::function<void(const std::string& piece)> on_text;
};

struct GenerateResult {
  std::vector<TokenId> tokens;  // generated ids, without the stop token
  std::string text;
  std::string stop_reason;      // "eog", "length"
  int n_prompt = 0;
  double prefill_ms = 0.0;
  double decode_ms = 0.0;
  size_t kv_bytes_after_prefill = 0;
  size_t kv_bytes_end = 0;

  double decode_tokens_per_second() const;
};

class Session {
 public:
  Session(const Model& model, const Tokenizer& tokenizer, SessionOptions options);

  // Clears the cache and runs the request.
  GenerateResult generate(const GenerateRequest& request);

  // Prefills tokens after what the cache holds; returns the logits of the last token.
  std::vector<float> prefill(const std::vector<TokenId>& tokens, double* elapsed_ms = nullptr);

  // Decodes from the logits of the last prefilled token; the cache must hold the prompt.
  void decode(const GenerateRequest& request, std::vector<float> logits, GenerateResult& result);

  void reset();
  KVCache& cache() { return cache_; }
  Transformer& transformer() { return transformer_; }
  int n_ctx() const { return n_ctx_; }

 private:
  const Model& model_;
  const Tokenizer& tokenizer_;
  SessionOptions options_;
  int n_ctx_;
  Transformer transformer_;
  KVCache cache_;
};

}  // namespace lkv
