#include "lookahead/trainer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>

#include "lookahead/ground_truth.h"
#include "lookahead/optimizer.h"
#include "lookahead/params.h"
#include "lookahead/rng.h"
#include "lookahead/train_step.h"
#include "model/transformer.h"
#include "util/error.h"
#include "util/timer.h"

namespace lkv {

namespace {

constexpr char kStateMagic[8] = {'L', 'K', 'V', 'O', 'P', 'T', '0', '1'};

std::string format_duration(double seconds) {
  const int s = static_cast<int>(std::max(0.0, seconds) + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

void check_options(const TrainOptions& o) {
  if (o.out.empty()) fail("--out is missing: give the adapter file to write");
  if (o.epochs < 1) fail("--epochs {} is invalid; use at least 1", o.epochs);
  if (o.batch < 1) fail("--batch {} is invalid; use at least 1", o.batch);
  if (!(o.val_fraction >= 0.0 && o.val_fraction < 1.0)) fail("--val-fraction {} is out of range; use 0 to below 1", o.val_fraction);
  if (!(o.warmup >= 0.0 && o.warmup <= 1.0)) fail("--warmup {} is out of range; use a fraction from 0 to 1", o.warmup);
  if (o.max_response < 1) fail("--max-response {} is invalid; use at least 1 token", o.max_response);
  if (o.checkpoint_every < 1) fail("--checkpoint-every {} is invalid; use at least 1", o.checkpoint_every);
  if (o.prompts.max_prompt_tokens < 8) fail("--max-prompt-tokens {} is too small", o.prompts.max_prompt_tokens);
  o.config.validate();
}

// Prefills the prompt into a fresh cache; returns the last row's logits.
std::vector<float> prefill(Transformer& tr, const std::vector<int32_t>& tokens, int chunk, KVCache& cache) {
  std::vector<float> logits;
  for (size_t begin = 0; begin < tokens.size(); begin += static_cast<size_t>(chunk)) {
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(chunk));
    Batch b = Batch::from_tokens(std::vector<int32_t>(tokens.begin() + static_cast<std::ptrdiff_t>(begin),
                                                      tokens.begin() + static_cast<std::ptrdiff_t>(end)),
                                 static_cast<int32_t>(begin));
    const bool last = end == tokens.size();
    if (!last) b.logit_rows.clear();
    tr.forward(b, cache, last ? &logits : nullptr);
  }
  return logits;
}

struct Example {
  const TrainPrompt* prompt = nullptr;
  const GroundTruthRecord* truth = nullptr;
  std::unique_ptr<KVCache> cache;  // kept when the memory limit allowed it
};

void save_state(const std::string& path, int64_t step, const AdamW& opt) {
  const std::string tmp = path + ".partial";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail("cannot write checkpoint {}: {}", tmp, std::strerror(errno));
  const uint64_t n = opt.size();
  bool ok = std::fwrite(kStateMagic, 1, sizeof(kStateMagic), f) == sizeof(kStateMagic);
  ok = ok && std::fwrite(&step, sizeof(step), 1, f) == 1 && std::fwrite(&n, sizeof(n), 1, f) == 1;
  ok = ok && std::fwrite(opt.first_moment().data(), sizeof(float), n, f) == n;
  ok = ok && std::fwrite(opt.second_moment().data(), sizeof(float), n, f) == n;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) fail("cannot write checkpoint {}: disk full or I/O error", tmp);
  std::filesystem::rename(tmp, path);
}

int64_t load_state(const std::string& path, AdamW& opt) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("checkpoint {} not found; its adapter file exists, so the checkpoint is incomplete: delete both to start over", path);
  char magic[8];
  int64_t step = 0;
  uint64_t n = 0;
  in.read(magic, sizeof(magic));
  in.read(reinterpret_cast<char*>(&step), sizeof(step));
  in.read(reinterpret_cast<char*>(&n), sizeof(n));
  if (!in || std::memcmp(magic, kStateMagic, sizeof(magic)) != 0) fail("{} is not an optimizer checkpoint", path);
  if (n != opt.size()) {
    fail("checkpoint {} has {} parameters but this configuration has {}; resume with the same --lookahead, --rank "
         "and --targets, or delete the checkpoint",
         path, n, opt.size());
  }
  std::vector<float> m(n), v(n);
  in.read(reinterpret_cast<char*>(m.data()), static_cast<std::streamsize>(n * sizeof(float)));
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(float)));
  if (!in) fail("checkpoint {} is truncated; delete it and its .gguf to start over", path);
  opt.restore(step, std::move(m), std::move(v));
  return step;
}

std::string today_iso() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

}  // namespace

TrainResult train_lookahead(const Model& model, const Tokenizer& tokenizer, const TrainOptions& options) {
  check_options(options);
  const HParams& hp = model.hparams;
  const std::string fingerprint = model_fingerprint(*model.file);
  Timer total_timer;

  // 1. Prompts and the split.
  const std::vector<TrainPrompt> prompts = load_train_prompts(options.data, model, tokenizer, options.prompts);
  std::vector<size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), 0);
  {
    Rng rng(options.seed ^ 0x5EED5917ull);
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  }
  size_t n_val = static_cast<size_t>(std::llround(options.val_fraction * static_cast<double>(prompts.size())));
  if (options.val_fraction > 0.0 && n_val == 0 && prompts.size() >= 2) n_val = 1;
  if (n_val >= prompts.size()) fail("--val-fraction {} leaves no training prompts out of {}", options.val_fraction, prompts.size());

  // 2. Ground truth, computed once and stored; prompt caches kept within the memory limit.
  const std::string store_path =
      !options.ground_truth.empty()
          ? options.ground_truth
          : fmt::format("{}.{}.T{}.gt", options.data, fingerprint.substr(fingerprint.size() - 8), options.max_response);
  GroundTruthStore store(store_path, fingerprint, options.max_response);
  spdlog::info("ground truth: {} ({} of {} prompts already computed)", store_path, store.size(), prompts.size());
  Transformer tr(model, options.threads);
  GroundTruthOptions gt_options;
  gt_options.max_response = options.max_response;
  gt_options.stop_tokens = tokenizer.eog_ids();
  std::vector<Example> examples(prompts.size());
  const double cache_limit = options.cache_memory_gib * 1024.0 * 1024.0 * 1024.0;
  double cache_bytes = 0.0;
  Timer gt_timer;
  int computed = 0, to_compute = 0;
  for (const TrainPrompt& p : prompts) to_compute += store.find(p.id, prompt_hash(p.tokens)) ? 0 : 1;
  int64_t response_tokens = 0, stopped = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    Example& ex = examples[i];
    ex.prompt = &prompts[i];
    const uint64_t hash = prompt_hash(prompts[i].tokens);
    ex.truth = store.find(prompts[i].id, hash);
    const bool keep = cache_bytes < cache_limit;
    if (ex.truth && !keep) continue;
    auto cache = std::make_unique<KVCache>(tr.make_cache());
    const std::vector<float> logits = prefill(tr, prompts[i].tokens, options.prefill_chunk, *cache);
    if (!ex.truth) {
      GroundTruth gt = compute_ground_truth(tr, *cache, logits, gt_options);
      GroundTruthRecord rec;
      rec.id = prompts[i].id;
      rec.prompt_hash = hash;
      rec.response = std::move(gt.response);
      rec.stopped = gt.stopped;
      rec.target = std::move(gt.target);
      store.add(std::move(rec));
      ex.truth = store.find(prompts[i].id, hash);
      ++computed;
      const double elapsed = gt_timer.elapsed_ms() / 1000.0;
      spdlog::info("ground truth {}/{}: {} ({} prompt tokens, {} answer tokens{}), ETA {}", computed, to_compute,
                   prompts[i].id, prompts[i].tokens.size(), ex.truth->response.size(),
                   ex.truth->stopped ? "" : ", length limit",
                   format_duration(elapsed / computed * (to_compute - computed)));
    }
    if (keep) {
      cache_bytes += static_cast<double>(cache->bytes());
      ex.cache = std::move(cache);
    }
    if (ex.truth && (i + 1) % 10 == 0) {
      spdlog::info("prompt caches: {}/{} prefilled, {:.2f} GiB kept", i + 1, prompts.size(),
                   cache_bytes / (1024.0 * 1024.0 * 1024.0));
    }
  }
  const double gt_seconds = gt_timer.elapsed_ms() / 1000.0;
  // The store's records moved while it grew, so look every example up again.
  for (Example& ex : examples) ex.truth = store.find(ex.prompt->id, prompt_hash(ex.prompt->tokens));

  std::vector<Example*> train_set, val_set;
  for (size_t k = 0; k < order.size(); ++k) {
    Example& ex = examples[order[k]];
    response_tokens += static_cast<int64_t>(ex.truth->response.size());
    stopped += ex.truth->stopped ? 1 : 0;
    if (ex.truth->target.layers.empty()) continue;  // an empty response gives no target
    (k < n_val ? val_set : train_set).push_back(&ex);
  }
  if (train_set.empty()) fail("no training prompt has a non-empty answer; check the data and --max-response");
  spdlog::info("{} training and {} validation prompts; answers average {:.1f} tokens, {} of {} ended on a stop token; "
               "{:.2f} GiB of prompt caches kept in memory",
               train_set.size(), val_set.size(), static_cast<double>(response_tokens) / prompts.size(), stopped,
               prompts.size(), cache_bytes / (1024.0 * 1024.0 * 1024.0));

  // 3. Parameters, optimizer and schedule, fresh or from the checkpoint.
  const std::string ckpt_adapter = options.out + ".ckpt.gguf";
  const std::string ckpt_state = options.out + ".ckpt.state";
  LookaheadAdapter adapter = LookaheadAdapter::create(model, options.config, options.seed);
  const ParamLayout layout(hp, options.config);
  AdamWConfig adam;
  adam.weight_decay = options.weight_decay;
  AdamW opt(layout.size(), adam);
  int64_t first_step = 0;
  if (options.resume && std::filesystem::exists(ckpt_adapter)) {
    adapter = LookaheadAdapter::load_for(ckpt_adapter, model);
    first_step = load_state(ckpt_state, opt);
    spdlog::info("resuming from {} at step {}", ckpt_adapter, first_step);
  } else if (options.resume) {
    spdlog::info("no checkpoint {} yet; starting from step 0", ckpt_adapter);
  }
  std::vector<float> params = layout.pack(adapter), grad(layout.size());
  const int64_t steps_per_epoch = (static_cast<int64_t>(train_set.size()) + options.batch - 1) / options.batch;
  LrSchedule schedule;
  schedule.peak = options.lr;
  schedule.total_steps = steps_per_epoch * options.epochs;
  schedule.warmup_steps = static_cast<int64_t>(std::llround(options.warmup * static_cast<double>(schedule.total_steps)));
  schedule.min_ratio = options.min_lr_ratio;
  schedule.validate();

  LookaheadStep<float> step(model, layout, &tr.pool());
  auto run_example = [&](Example& ex, float* dparams) {
    if (ex.cache) return step.run(params.data(), *ex.cache, ex.truth->target, dparams);
    KVCache cache = tr.make_cache();
    prefill(tr, ex.prompt->tokens, options.prefill_chunk, cache);
    return step.run(params.data(), cache, ex.truth->target, dparams);
  };
  auto validation_loss = [&]() {
    double sum = 0.0;
    for (Example* ex : val_set) sum += run_example(*ex, nullptr);
    return val_set.empty() ? 0.0 : sum / static_cast<double>(val_set.size());
  };

  TrainResult result;
  result.n_train = static_cast<int>(train_set.size());
  result.n_val = static_cast<int>(val_set.size());
  result.ground_truth_seconds = gt_seconds;
  result.initial_val_loss = validation_loss();
  spdlog::info("training: {} epochs × {} steps of {} prompts, peak learning rate {}, {} parameters; validation loss "
               "before training {:.4f}",
               options.epochs, steps_per_epoch, options.batch, options.lr, layout.size(), result.initial_val_loss);

  // 4. The loop. Each epoch's order is a seeded shuffle, so a resumed run gets the same batches.
  Timer train_timer;
  double epoch_loss = 0.0, last_epoch_loss = 0.0, val_loss = result.initial_val_loss;
  int64_t epoch_count = 0;
  std::vector<size_t> epoch_order(train_set.size());
  int64_t cached_epoch = -1;
  for (int64_t s = first_step; s < schedule.total_steps; ++s) {
    const int64_t epoch = s / steps_per_epoch;
    if (epoch != cached_epoch) {
      std::iota(epoch_order.begin(), epoch_order.end(), 0);
      Rng rng(options.seed * 1000003ull + static_cast<uint64_t>(epoch));
      for (size_t i = epoch_order.size(); i > 1; --i) std::swap(epoch_order[i - 1], epoch_order[rng.below(i)]);
      cached_epoch = epoch;
    }
    const size_t begin = static_cast<size_t>((s % steps_per_epoch) * options.batch);
    const size_t end = std::min(train_set.size(), begin + static_cast<size_t>(options.batch));
    std::fill(grad.begin(), grad.end(), 0.0f);
    double batch_loss = 0.0;
    for (size_t k = begin; k < end; ++k) batch_loss += run_example(*train_set[epoch_order[k]], grad.data());
    const float inv = 1.0f / static_cast<float>(end - begin);
    for (float& g : grad) g *= inv;
    const double norm = clip_grad_norm(grad.data(), grad.size(), options.clip);
    const double lr = schedule.at(s);
    opt.step(params.data(), grad.data(), lr);
    epoch_loss += batch_loss;
    epoch_count += static_cast<int64_t>(end - begin);

    const int64_t done = s + 1 - first_step;
    const double eta = train_timer.elapsed_ms() / 1000.0 / static_cast<double>(done) *
                       static_cast<double>(schedule.total_steps - s - 1);
    spdlog::info("step {}/{} (epoch {}): loss {:.4f}, grad norm {:.3f}, lr {:.2e}, ETA {}", s + 1,
                 schedule.total_steps, epoch + 1, batch_loss / static_cast<double>(end - begin), norm, lr,
                 format_duration(eta));
    const bool epoch_end = (s + 1) % steps_per_epoch == 0;
    if (epoch_end) {
      last_epoch_loss = epoch_loss / static_cast<double>(std::max<int64_t>(epoch_count, 1));
      val_loss = validation_loss();
      spdlog::info("epoch {} done: training loss {:.4f}, validation loss {:.4f}", epoch + 1, last_epoch_loss, val_loss);
      epoch_loss = 0.0;
      epoch_count = 0;
    }
    const bool stopping = options.stop_after > 0 && done >= options.stop_after && s + 1 < schedule.total_steps;
    if (epoch_end || stopping || (s + 1) % options.checkpoint_every == 0) {
      layout.unpack(params.data(), adapter);
      adapter.save(ckpt_adapter);
      save_state(ckpt_state, s + 1, opt);
    }
    if (stopping) {
      spdlog::info("stopping after {} steps (--stop-after); continue with --resume", done);
      result.summary.steps = s + 1;
      return result;
    }
  }
  if (first_step >= schedule.total_steps) val_loss = validation_loss();

  // 5. The module with its training summary.
  layout.unpack(params.data(), adapter);
  TrainingSummary& sum = adapter.training;
  sum.steps = schedule.total_steps;
  sum.examples = static_cast<int64_t>(train_set.size());
  sum.train_loss = last_epoch_loss;
  sum.val_loss = val_loss;
  sum.val_examples = static_cast<int64_t>(val_set.size());
  sum.seconds = total_timer.elapsed_ms() / 1000.0;
  sum.seed = options.seed;
  sum.command = options.command;
  sum.data = fmt::format("{} ({} prompts, T = {})", std::filesystem::path(options.data).filename().string(),
                         prompts.size(), options.max_response);
  sum.date = today_iso();
  adapter.save(options.out);
  spdlog::info("wrote {}: training loss {:.4f}, validation loss {:.4f} (before training {:.4f}), {} in all",
               options.out, sum.train_loss, sum.val_loss, result.initial_val_loss, format_duration(sum.seconds));
  result.summary = sum;
  return result;
}

}  // namespace lkv
