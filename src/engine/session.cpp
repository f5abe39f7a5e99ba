#include "engine/session.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "util/error.h"
#include "util/timer.h"

namespace lkv {

namespace {

// Length of the longest prefix of s that ends on a complete UTF-8 character.
size_t complete_utf8_prefix(const std::string& s) {
  size_t i = s.size();
  size_t back = 0;
  while (i > 0 && back < 4) {
    const unsigned char c = static_cast<unsigned char>(s[i - 1]);
    if ((c & 0xC0) != 0x80) {  // a lead byte or ASCII
      const size_t need = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
      return back + 1 >= need ? s.size() : i - 1;
    }
    --i;
    ++back;
  }
  return s.size();
}

}  // namespace

double GenerateResult::decode_tokens_per_second() const {
  return decode_ms > 0.0 ? static_cast<double>(tokens.size()) * 1000.0 / decode_ms : 0.0;
}

Session::Session(const Model& model, const Tokenizer& tokenizer, SessionOptions options)
    : model_(model),
      tokenizer_(tokenizer),
      options_(options),
      n_ctx_(options.n_ctx > 0 ? options.n_ctx : model.hparams.n_ctx_train),
      transformer_(model, options.n_threads),
      cache_(transformer_.make_cache(options.cache_type)) {
  if (options_.n_ctx < 0) fail("context size {} is invalid: use a positive number of tokens, or 0 for the model's", options_.n_ctx);
  if (n_ctx_ > model.hparams.n_ctx_train) {
    spdlog::warn("context {} exceeds the {} tokens the model was trained on; quality may drop", n_ctx_,
                 model.hparams.n_ctx_train);
  }
  if (options_.n_batch <= 0) fail("batch size {} is invalid: use a positive number of tokens", options_.n_batch);
}

void Session::reset() {
  cache_.clear();
  unfed_.clear();
}

std::vector<float> Session::prefill(const std::vector<TokenId>& tokens, double* elapsed_ms, AttentionObserver* observer) {
  if (tokens.empty()) fail("the prompt is empty: give at least one token of input");
  const int32_t start = cache_.next_position();
  const int64_t end = static_cast<int64_t>(start) + static_cast<int64_t>(tokens.size());
  if (end > n_ctx_) {
    fail("the prompt needs positions up to {} but the context is {} tokens; shorten the prompt or raise -c (the model "
         "was trained on {})",
         end, n_ctx_, model_.hparams.n_ctx_train);
  }
  Timer timer;
  const size_t n = tokens.size();
  const size_t chunk = static_cast<size_t>(options_.n_batch);
  const bool report = n > 2 * chunk;
  std::vector<float> logits;
  for (size_t begin = 0; begin < n; begin += chunk) {
    const size_t stop = std::min(n, begin + chunk);
    std::vector<TokenId> part(tokens.begin() + static_cast<std::ptrdiff_t>(begin), tokens.begin() + static_cast<std::ptrdiff_t>(stop));
    Batch batch = Batch::from_tokens(part, start + static_cast<int32_t>(begin));
    if (stop != n) batch.logit_rows.clear();
    transformer_.forward(batch, cache_, stop == n ? &logits : nullptr, observer);
    if (report) {
      const double ms = timer.elapsed_ms();
      spdlog::info("prefill {}/{} tokens ({:.0f}%), {:.1f} tokens/s", stop, n, 100.0 * stop / n, stop * 1000.0 / ms);
    }
  }
  if (elapsed_ms) *elapsed_ms = timer.elapsed_ms();
  return logits;
}

void Session::decode(const GenerateRequest& request, std::vector<float> logits, GenerateResult& result) {
  if (request.n_predict < 0) fail("token limit {} is invalid: use 0 or more", request.n_predict);
  Sampler sampler(request.sampling);
  Timer timer;
  unfed_.clear();
  std::string pending;
  const int n_vocab = model_.hparams.n_vocab;
  result.stop_reason = "length";
  for (int i = 0; i < request.n_predict; ++i) {
    const TokenId next = sampler.sample(logits.data(), n_vocab);
    const bool stop = tokenizer_.is_eog(next) ||
                      std::find(request.extra_stop_ids.begin(), request.extra_stop_ids.end(), next) != request.extra_stop_ids.end();
    if (stop) {
      result.stop_reason = "eog";
      break;
    }
    result.tokens.push_back(next);
    pending += tokenizer_.token_to_piece(next);
    const size_t ready = complete_utf8_prefix(pending);
    if (ready > 0) {
      if (request.on_text) request.on_text(pending.substr(0, ready));
      result.text += pending.substr(0, ready);
      pending.erase(0, ready);
    }
    if (i + 1 == request.n_predict) {
      unfed_.push_back(next);
      break;
    }
    if (cache_.next_position() >= n_ctx_) {
      result.stop_reason = "context";
      unfed_.push_back(next);
      break;
    }
    Batch batch = Batch::from_tokens({next}, cache_.next_position());
    transformer_.forward(batch, cache_, &logits);
  }
  if (!pending.empty()) {
    if (request.on_text) request.on_text(pending);
    result.text += pending;
  }
  result.decode_ms = timer.elapsed_ms();
  result.kv_bytes_end = cache_.bytes();
}

GenerateResult Session::generate(const GenerateRequest& request) {
  reset();
  return run_turn(request, request.prompt);
}

GenerateResult Session::continue_generate(const GenerateRequest& request) {
  if (cache_.next_position() == 0) fail("there is no conversation to continue: run generate() first");
  std::vector<TokenId> segment = unfed_;
  segment.insert(segment.end(), request.prompt.begin(), request.prompt.end());
  return run_turn(request, std::move(segment));
}

GenerateResult Session::run_turn(const GenerateRequest& request, std::vector<TokenId> segment) {
  GenerateResult result;
  result.n_prompt = static_cast<int>(segment.size());
  if (segment.empty()) fail("the prompt is empty: give at least one token of input");
  const int64_t needed = static_cast<int64_t>(cache_.next_position()) + static_cast<int64_t>(segment.size()) +
                         static_cast<int64_t>(request.question.size());
  if (needed > n_ctx_) {
    fail("the turn needs positions up to {} but the context is {} tokens; shorten the prompt or raise -c", needed, n_ctx_);
  }
  const EvictionPolicy* policy = request.policy && request.policy->evicts() ? request.policy.get() : nullptr;
  const std::vector<int> layers = EvictionPolicy::evicted_layers(cache_);
  const int32_t begin = cache_.next_position();
  const int32_t end = begin + static_cast<int32_t>(segment.size());

  std::unique_ptr<Scorer> scorer = policy ? policy->make_scorer() : nullptr;
  AttentionObserver* observer = scorer ? scorer->prefill_observer(transformer_, layers, begin, end) : nullptr;
  std::vector<float> logits = prefill(segment, &result.prefill_ms, observer);
  result.kv_bytes_after_prefill = cache_.bytes();

  if (policy) {
    ScoreContext ctx{transformer_, cache_, layers, begin, end, &logits, policy->budget_for(cache_.next_position()), nullptr};
    result.eviction = policy->evict(scorer.get(), ctx);
  } else {
    result.eviction.policy = request.policy ? request.policy->name() : "full";
    result.eviction.n_tokens = cache_.next_position();
    result.eviction.layers = layers;
    for (int l : layers) result.eviction.kept.push_back(cache_.n_entries(l));
    result.eviction.kv_bytes_before = result.eviction.kv_bytes_after = cache_.bytes();
    result.eviction.note = "the full policy keeps every entry";
  }
  scorer.reset();  // captured queries and accumulators are freed before decoding
  result.kv_bytes_after_eviction = cache_.bytes();
  result.kv_bytes_global_after_eviction = cache_.bytes_global_layers();
  result.kv_bytes_swa_after_eviction = cache_.bytes_swa_layers();

  if (!request.question.empty()) {
    result.n_question = static_cast<int>(request.question.size());
    logits = prefill(request.question, &result.question_prefill_ms);
  }
  decode(request, std::move(logits), result);
  return result;
}

}  // namespace lkv
