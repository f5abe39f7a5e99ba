// A generation session: prefill a prompt in chunks, evict with the request's policy, then decode
// token by token.
//
// The session owns the KV cache and the forward-pass scratch of one conversation. generate()
// starts from an empty cache, so independent requests share no state. continue_generate()
// appends a new turn to the (possibly pruned) cache at the positions after the conversation's
// last one, and evicts again with the turn's policy.
//
// Order of one turn: prefill the whole prompt (with the policy's capture observer
// attached), evict, then decode; the first generated token is sampled from the prefill's last
// logits for every policy. In split mode (request.question non-empty) only the prompt (the
// context) is evicted and the question is prefilled after eviction, as kvpress does by default.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "eviction/policy.h"
#include "kvcache/kv_cache.h"
#include "model/model.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace lkv {

struct SessionOptions {
  int n_threads = 2;
  int n_ctx = 0;      // context limit in tokens; 0: the model's trained context
  int n_batch = 512;  // prefill chunk length
  KVCacheType cache_type = KVCacheType::F32;  // K/V element type; f16 halves the KV bytes
};

struct GenerateRequest {
  std::vector<TokenId> prompt;
  // Split mode: tokens prefilled after eviction (only `prompt` is evicted). Empty: no split.
  std::vector<TokenId> question;
  // Eviction policy applied after the prefill; null behaves as `full`.
  std::shared_ptr<const EvictionPolicy> policy;
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
  int n_prompt = 0;              // tokens prefilled before eviction (this turn)
  int n_question = 0;            // split mode: tokens prefilled after eviction
  double prefill_ms = 0.0;       // prefill before eviction (includes H2O's accumulation)
  double question_prefill_ms = 0.0;
  double decode_ms = 0.0;
  size_t kv_bytes_after_prefill = 0;
  size_t kv_bytes_after_eviction = 0;
  size_t kv_bytes_global_after_eviction = 0;  // global (evictable) layers
  size_t kv_bytes_swa_after_eviction = 0;     // sliding-window layers (kept whole)
  size_t kv_bytes_end = 0;
  EvictionReport eviction;

  double decode_tokens_per_second() const;
};

class Session {
 public:
  Session(const Model& model, const Tokenizer& tokenizer, SessionOptions options);

  // Clears the cache and runs the request.
  GenerateResult generate(const GenerateRequest& request);

  // Runs the request as the next turn of the conversation in the cache: the last generated token
  // (when generation stopped on the length limit, so it was never fed back) and then
  // request.prompt are prefilled at the following positions; request.prompt should carry the
  // chat template's end of the previous turn. Throws lkv::Error when the cache is empty.
  GenerateResult continue_generate(const GenerateRequest& request);

  // Prefills tokens after what the cache holds; returns the logits of the last token. The observer
  // (may be null) is attached to every chunk.
  std::vector<float> prefill(const std::vector<TokenId>& tokens, double* elapsed_ms = nullptr,
                             AttentionObserver* observer = nullptr);

  // Decodes from the logits of the last prefilled token; the cache must hold the prompt.
  void decode(const GenerateRequest& request, std::vector<float> logits, GenerateResult& result);

  // Empties the cache and drops the conversation's state.
  void reset();
  KVCache& cache() { return cache_; }
  Transformer& transformer() { return transformer_; }
  int n_ctx() const { return n_ctx_; }

 private:
  const Model& model_;
  const Tokenizer& tokenizer_;
  SessionOptions options_;
  int n_ctx_;
  GenerateResult run_turn(const GenerateRequest& request, std::vector<TokenId> segment);

  Transformer transformer_;
  KVCache cache_;
  // Sampled tokens not yet in the cache (the last one of a turn cut by the length limit).
  std::vector<TokenId> unfed_;
};

}  // namespace lkv
