#include "eval/runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "engine/sampler.h"
#include "engine/session.h"
#include "eval/data_items.h"
#include "eval/metrics.h"
#include "eval/mtbench.h"
#include "eval/prompt.h"
#include "eval/results.h"
#include "eval/tasks.h"
#include "eviction/registry.h"
#include "model/fanout_observer.h"
#include "tokenizer/chat_template.h"
#include "util/error.h"
#include "util/timer.h"

namespace lkv::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One (policy, budget) of a data set, or the full cache (policy null).
struct Config {
  std::string policy_name;  // the --policies item: NAME or NAME:KEY=VALUE..., "full" for the full cache
  int budget = 0;
  std::shared_ptr<const EvictionPolicy> policy;
  std::unique_ptr<ConfigFolder> folder;
};

struct Decoded {
  std::vector<TokenId> tokens;
  std::string text;
  std::string stop_reason;  // "eog", "length", "line_end", "context"
  double ms = 0.0;
};

// The answer a configuration is compared with: the full cache's, per turn.
struct Reference {
  std::vector<std::string> texts;
  std::vector<std::vector<TokenId>> tokens;
};

std::string iso_time_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string duration_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

json fidelity_json(const Fidelity& f, size_t full_length) {
  return {{"rouge_l", f.rouge_l}, {"exact", f.exact}, {"common_prefix", f.common_prefix}, {"full_length", full_length}};
}

// FNV-1a over the module's parameters: identifies an adapter in config.json without its path.
std::string adapter_hash(const LookaheadAdapter& adapter) {
  uint64_t hash = 0xCBF29CE484222325ULL;
  auto add = [&](const std::vector<float>& values) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(values.data());
    for (size_t i = 0; i < values.size() * sizeof(float); ++i) {
      hash ^= bytes[i];
      hash *= 0x100000001B3ULL;
    }
  };
  add(adapter.embeddings);
  for (const auto& layer : adapter.lora.layers) {
    for (const LoraMatrix& m : layer) {
      add(m.a);
      add(m.b);
    }
  }
  return fmt::format("{:016x}", hash);
}

class Sweep {
 public:
  Sweep(const EvalOptions& options, const Model& model, const Tokenizer& tokenizer,
        std::shared_ptr<const LookaheadAdapter> adapter);
  EvalSummary run();

 private:
  void build_policies();
  void load_data();
  void open_folders();
  json identity(const DataSet& set, const Config& config) const;

  void run_single_turn(const DataSet& set, const EvalSample& sample, std::vector<Config*>& pending);
  void run_multi_turn(const DataSet& set, const EvalSample& sample, std::vector<Config*>& pending);

  // Prefills `tokens` into an empty cache with the observers of every pending policy attached.
  // Returns the last logits; scorers[name] receives the policy's scorer.
  std::vector<float> shared_prefill(const std::vector<TokenId>& tokens, const std::vector<Config*>& pending,
                                    std::map<std::string, std::unique_ptr<Scorer>>& scorers, double* ms);
  // Restores the prefilled cache into the session and evicts it with the configuration's policy.
  EvictionReport restore_and_evict(const Config& config, Scorer* scorer, const KVCache& prefilled, int n_prompt,
                                   const std::vector<float>& logits);
  Decoded decode_greedy(std::vector<float> logits, int max_new_tokens, bool stop_at_line_end);

  const EvalOptions& options_;
  const Model& model_;
  const Tokenizer& tokenizer_;
  std::shared_ptr<const LookaheadAdapter> adapter_;
  Session session_;
  std::optional<ChatTemplate> chat_;
  std::vector<int> layers_;
  std::string model_fingerprint_;  // computed once: identity() is called per configuration
  std::string adapter_hash_;

  std::vector<std::string> policy_names_;  // evicting --policies items, in order
  std::map<std::pair<std::string, int>, std::shared_ptr<const EvictionPolicy>> policies_;
  std::vector<DataSet> sets_;
  std::vector<std::vector<Config>> configs_;  // per data set; configs_[i][0] is the full cache
  EvalSummary summary_;
};

Sweep::Sweep(const EvalOptions& options, const Model& model, const Tokenizer& tokenizer,
             std::shared_ptr<const LookaheadAdapter> adapter)
    : options_(options),
      model_(model),
      tokenizer_(tokenizer),
      adapter_(std::move(adapter)),
      session_(model, tokenizer, SessionOptions{options.threads, options.n_ctx}) {
  if (options_.out_dir.empty()) fail("no output folder: give --out DIR");
  if (options_.data.empty()) fail("no data: give --data FILE.jsonl, ruler:TASK@LENGTH or mtbench");
  if (options_.samples < 0) fail("invalid --samples {}: use 1 or more, or 0 for every sample of a file", options_.samples);
  if (options_.max_new_tokens < 0) fail("invalid --max-new-tokens {}: use 1 or more, or 0 for each task's own", options_.max_new_tokens);
  layers_ = EvictionPolicy::evicted_layers(session_.cache());
  model_fingerprint_ = model_fingerprint(*model_.file);
  if (adapter_) adapter_hash_ = adapter_hash(*adapter_);
}

void Sweep::build_policies() {
  std::set<std::string> seen;
  for (const std::string& name : options_.policies) {
    if (name == "full" || !seen.insert(name).second) continue;  // the full cache always runs, once
    policy_names_.push_back(name);
  }
  if (!policy_names_.empty() && options_.budgets.empty()) fail("no budgets: give --budgets, for example 64,128");
  for (const std::string& name : policy_names_) {
    for (int budget : options_.budgets) {
      PolicyOptions po = parse_policy_spec(name);
      po.budget = budget;
      if (po.name == "lookaheadkv") po.adapter = adapter_;
      try {
        policies_[{name, budget}] = make_policy(po);
      } catch (const Error& e) {
        fail("policy {} at budget {}: {}", name, budget, e.what());
      }
    }
  }
}

void Sweep::load_data() {
  DataOptions data;
  data.samples = options_.samples;
  data.seed = options_.seed;
  data.n_ctx = session_.n_ctx();
  data.max_new_tokens = options_.max_new_tokens;
  data.on_bad_line = options_.on_bad_line;
  data.haystack_dir = options_.haystack_dir;
  std::set<std::string> names;
  for (const std::string& item : expand_data_items(options_.data)) {
    DataSet set = load_data_item(item, tokenizer_, data);
    if (!names.insert(set.name).second) fail("--data lists {} twice; give each data set once", set.name);
    if ((set.multi_turn || options_.chat) && !chat_) chat_ = detect_chat_template(*model_.file);
    sets_.push_back(std::move(set));
  }
}

json Sweep::identity(const DataSet& set, const Config& config) const {
  json policy = config.policy ? config.policy->params_json() : json{{"name", "full"}};
  json id = {{"format", 1},
             {"model", file_stem(options_.model_path)},
             {"model_fingerprint", model_fingerprint_},
             {"task", set.name},
             {"data", set.source},
             {"policy", policy},
             {"policy_spec", config.policy_name},
             {"question", options_.split_question ? "after_eviction" : "in_prompt"},
             {"chat", options_.chat || set.multi_turn},
             {"context", session_.n_ctx()},
             {"max_new_tokens", options_.max_new_tokens}};
  if (config.policy && config.policy->name() == "lookaheadkv" && adapter_) {
    id["policy"].erase("adapter");  // a path; the module is identified by its contents below
    id["adapter"] = {{"parameters_fnv1a64", adapter_hash_},
                     {"trained_steps", adapter_->training.steps},
                     {"file", options_.adapter_path.empty() ? "" : fs::path(options_.adapter_path).filename().string()}};
  }
  return id;
}

std::string model_dir_name(const std::string& model_path) { return file_stem(model_path); }

void Sweep::open_folders() {
  const json run = {{"samples", options_.samples},
                    {"threads", options_.threads},
                    {"started", iso_time_now()},
                    {"program", "lookaheadkv 0.1.0"}};
  for (const DataSet& set : sets_) {
    std::vector<Config> configs;
    configs.push_back(Config{"full", 0, nullptr, nullptr});
    for (const std::string& name : policy_names_) {
      for (int budget : options_.budgets) configs.push_back(Config{name, budget, policies_.at({name, budget}), nullptr});
    }
    for (Config& c : configs) {
      const fs::path dir = fs::path(options_.out_dir) / model_dir_name(options_.model_path) / set.name /
                           config_folder_name(c.policy_name, c.budget);
      c.folder = std::make_unique<ConfigFolder>(dir.string(), identity(set, c), run);
      summary_.config_dirs.push_back(dir.string());
    }
    configs_.push_back(std::move(configs));
  }
}

std::vector<float> Sweep::shared_prefill(const std::vector<TokenId>& tokens, const std::vector<Config*>& pending,
                                         std::map<std::string, std::unique_ptr<Scorer>>& scorers, double* ms) {
  session_.reset();
  FanoutObserver fanout;
  const int32_t end = static_cast<int32_t>(tokens.size());
  for (const Config* c : pending) {
    if (!c->policy || scorers.count(c->policy_name)) continue;
    std::unique_ptr<Scorer> scorer = c->policy->make_scorer();
    if (scorer) fanout.add(scorer->prefill_observer(session_.transformer(), layers_, 0, end));
    scorers[c->policy_name] = std::move(scorer);
  }
  std::vector<float> logits = session_.prefill(tokens, ms, fanout.empty() ? nullptr : &fanout);
  ++summary_.samples_prefilled;
  return logits;
}

EvictionReport Sweep::restore_and_evict(const Config& config, Scorer* scorer, const KVCache& prefilled, int n_prompt,
                                        const std::vector<float>& logits) {
  session_.cache() = prefilled;
  EvictionReport report;
  if (!config.policy || !config.policy->evicts()) return report;
  ScoreContext ctx{session_.transformer(), session_.cache(), layers_, 0, n_prompt, &logits,
                   config.policy->budget_for(session_.cache().next_position()), nullptr};
  return config.policy->evict(scorer, ctx);
}

Decoded Sweep::decode_greedy(std::vector<float> logits, int max_new_tokens, bool stop_at_line_end) {
  Timer timer;
  Decoded d;
  d.stop_reason = "length";
  KVCache& cache = session_.cache();
  std::string pieces;
  for (int i = 0; i < max_new_tokens; ++i) {
    const TokenId next = argmax(logits.data(), model_.hparams.n_vocab);
    if (tokenizer_.is_eog(next)) {
      d.stop_reason = "eog";
      break;
    }
    d.tokens.push_back(next);
    if (stop_at_line_end) {
      pieces += tokenizer_.token_to_piece(next);
      const size_t content = pieces.find_first_not_of(" \t\r\n");
      if (content != std::string::npos && pieces.find('\n', content) != std::string::npos) {
        d.stop_reason = "line_end";
        break;
      }
    }
    if (i + 1 == max_new_tokens) break;
    if (cache.next_position() >= session_.n_ctx()) {
      d.stop_reason = "context";
      break;
    }
    session_.transformer().forward(Batch::from_tokens({next}, cache.next_position()), cache, &logits);
  }
  d.text = tokenizer_.decode(d.tokens);
  if (d.stop_reason == "line_end") {
    const size_t content = d.text.find_first_not_of(" \t\r\n");
    const size_t newline = content == std::string::npos ? std::string::npos : d.text.find('\n', content);
    if (newline != std::string::npos) d.text.resize(newline);
  }
  d.ms = timer.elapsed_ms();
  return d;
}

void Sweep::run_single_turn(const DataSet& set, const EvalSample& sample, std::vector<Config*>& pending) {
  TaskSpec spec = task_spec_for(sample);
  if (options_.max_new_tokens > 0) spec.max_new_tokens = options_.max_new_tokens;
  PromptOptions prompt_options;
  prompt_options.chat = options_.chat ? &*chat_ : nullptr;
  prompt_options.max_tokens = session_.n_ctx() - spec.max_new_tokens;
  prompt_options.truncate = set.truncate;
  const PromptTokens prompt = build_prompt(sample, spec, tokenizer_, prompt_options);
  const std::vector<TokenId> evicted = options_.split_question ? prompt.context : prompt.joined();
  const bool stop_at_line_end = spec.single_line && !prompt_options.chat;

  std::map<std::string, std::unique_ptr<Scorer>> scorers;
  double prefill_ms = 0.0;
  const std::vector<float> logits = shared_prefill(evicted, pending, scorers, &prefill_ms);
  const KVCache prefilled = session_.cache();

  std::optional<Reference> reference;
  Config& full = configs_[static_cast<size_t>(&set - sets_.data())][0];
  if (full.folder->has(sample.id)) {
    const json& r = full.folder->record(sample.id);
    reference = Reference{{r.at("prediction").get<std::string>()}, {r.at("generated_tokens").get<std::vector<TokenId>>()}};
  }

  for (Config* config : pending) {
    const bool is_full = config->policy == nullptr;
    Scorer* scorer = is_full ? nullptr : scorers.at(config->policy_name).get();
    const EvictionReport report = restore_and_evict(*config, scorer, prefilled, static_cast<int>(evicted.size()), logits);
    const size_t kv_bytes = session_.cache().bytes();

    Decoded decoded;
    double question_ms = 0.0;
    if (!is_full && !report.applied && reference) {
      // Nothing was evicted, so the output is the full cache's, bit for bit.
      decoded.text = reference->texts[0];
      decoded.tokens = reference->tokens[0];
      decoded.stop_reason = "same_as_full";
    } else {
      std::vector<float> start = logits;
      if (options_.split_question) start = session_.prefill(prompt.question, &question_ms);
      decoded = decode_greedy(std::move(start), spec.max_new_tokens, stop_at_line_end);
    }
    if (is_full) reference = Reference{{decoded.text}, {decoded.tokens}};

    const Fidelity f = fidelity(decoded.text, decoded.tokens, reference->texts[0], reference->tokens[0]);
    const double score =
        score_prediction(spec.metric, scored_text(spec, decoded.text), sample.answers, sample.all_classes);
    json record = {{"id", sample.id},
                   {"task", sample.task},
                   {"metric", spec.metric},
                   {"prediction", decoded.text},
                   {"answers", sample.answers},
                   {"score", score},
                   {"fidelity", fidelity_json(f, reference->tokens[0].size())},
                   {"generated_tokens", decoded.tokens},
                   {"stop_reason", decoded.stop_reason},
                   {"prompt_tokens", prompt.size()},
                   {"evicted_prompt_tokens", evicted.size()},
                   {"truncated_tokens", prompt.truncated_tokens},
                   {"eviction_applied", report.applied},
                   {"kv_bytes_after_eviction", kv_bytes},
                   {"timings_ms",
                    {{"prefill", prefill_ms},
                     {"eviction", report.timings.total_ms},
                     {"question_prefill", question_ms},
                     {"decode", decoded.ms}}}};
    config->folder->append(record);
    ++summary_.predictions_written;
  }
}

void Sweep::run_multi_turn(const DataSet& set, const EvalSample& sample, std::vector<Config*>& pending) {
  const std::vector<std::vector<TokenId>> turns = mtbench_turn_tokens(sample, *chat_, tokenizer_);
  const int max_new = options_.max_new_tokens > 0 ? options_.max_new_tokens : kMtBenchMaxNewTokens;

  std::map<std::string, std::unique_ptr<Scorer>> scorers;
  double prefill_ms = 0.0;
  const std::vector<float> logits = shared_prefill(turns[0], pending, scorers, &prefill_ms);
  const KVCache prefilled = session_.cache();

  std::optional<Reference> reference;
  Config& full = configs_[static_cast<size_t>(&set - sets_.data())][0];
  if (full.folder->has(sample.id)) {
    Reference ref;
    for (const json& t : full.folder->record(sample.id).at("turns")) {
      ref.texts.push_back(t.at("prediction").get<std::string>());
      ref.tokens.push_back(t.at("generated_tokens").get<std::vector<TokenId>>());
    }
    reference = std::move(ref);
  }

  for (Config* config : pending) {
    const bool is_full = config->policy == nullptr;
    Scorer* scorer = is_full ? nullptr : scorers.at(config->policy_name).get();
    GenerateRequest request;
    request.policy = config->policy;
    request.n_predict = max_new;
    std::vector<GenerateResult> results(1);
    results[0].n_prompt = static_cast<int>(turns[0].size());
    results[0].prefill_ms = prefill_ms;
    results[0].eviction = restore_and_evict(*config, scorer, prefilled, static_cast<int>(turns[0].size()), logits);
    session_.decode(request, logits, results[0]);
    for (size_t k = 1; k < turns.size(); ++k) {
      request.prompt = turns[k];
      results.push_back(session_.continue_generate(request));
    }
    if (is_full) {
      Reference ref;
      for (const GenerateResult& r : results) {
        ref.texts.push_back(r.text);
        ref.tokens.push_back(r.tokens);
      }
      reference = std::move(ref);
    }

    json turn_records = json::array();
    double rouge = 0.0, prefix = 0.0, eviction_ms = 0.0, decode_ms = 0.0, later_prefill_ms = 0.0;
    bool exact = true;
    for (size_t k = 0; k < results.size(); ++k) {
      const GenerateResult& r = results[k];
      const Fidelity f = fidelity(r.text, r.tokens, reference->texts[k], reference->tokens[k]);
      rouge += f.rouge_l;
      prefix += f.common_prefix;
      exact = exact && f.exact;
      eviction_ms += r.eviction.timings.total_ms;
      decode_ms += r.decode_ms;
      if (k > 0) later_prefill_ms += r.prefill_ms;
      turn_records.push_back({{"prediction", r.text},
                              {"generated_tokens", r.tokens},
                              {"stop_reason", r.stop_reason},
                              {"prompt_tokens", r.n_prompt},
                              {"fidelity", fidelity_json(f, reference->tokens[k].size())}});
    }
    const double n = static_cast<double>(results.size());
    json record = {{"id", sample.id},
                   {"task", sample.task},
                   {"metric", sample.metric},
                   {"turns", turn_records},
                   {"score", rouge / n},
                   {"fidelity", {{"rouge_l", rouge / n}, {"exact", exact}, {"common_prefix", prefix / n}}},
                   {"timings_ms",
                    {{"prefill", prefill_ms},
                     {"later_turns_prefill", later_prefill_ms},
                     {"eviction", eviction_ms},
                     {"decode", decode_ms}}}};
    config->folder->append(record);
    ++summary_.predictions_written;
  }
}

EvalSummary Sweep::run() {
  Timer total;
  build_policies();
  load_data();
  open_folders();

  // Work left, weighed by prompt length for the time estimate.
  double weight_left = 0.0, weight_done = 0.0;
  int samples_left = 0;
  for (size_t i = 0; i < sets_.size(); ++i) {
    for (const EvalSample& s : sets_[i].samples) {
      bool any = false;
      for (const Config& c : configs_[i]) {
        if (c.folder->has(s.id)) {
          ++summary_.predictions_reused;
        } else {
          any = true;
        }
      }
      if (any) {
        weight_left += sets_[i].nominal_length;
        ++samples_left;
      }
    }
  }
  spdlog::info("eval: {} data set(s) × {} configuration(s); {} sample(s) to run, {} prediction(s) already done",
               sets_.size(), configs_.empty() ? 0 : configs_[0].size(), samples_left, summary_.predictions_reused);

  int samples_done = 0;
  for (size_t i = 0; i < sets_.size(); ++i) {
    const DataSet& set = sets_[i];
    std::vector<std::string> ids;
    for (size_t j = 0; j < set.samples.size(); ++j) {
      const EvalSample& sample = set.samples[j];
      ids.push_back(sample.id);
      std::vector<Config*> pending;
      for (Config& c : configs_[i]) {
        if (!c.folder->has(sample.id)) pending.push_back(&c);
      }
      if (pending.empty()) continue;
      Timer timer;
      try {
        if (set.multi_turn) {
          run_multi_turn(set, sample, pending);
        } else {
          run_single_turn(set, sample, pending);
        }
      } catch (const Error& e) {
        fail("{} sample {}: {}", set.name, sample.id, e.what());
      }
      ++samples_done;
      weight_done += set.nominal_length;
      weight_left -= set.nominal_length;
      const double elapsed = total.elapsed_ms() / 1000.0;
      spdlog::info("{} sample {}/{} done: {} configuration(s) in {:.1f} s; {}/{} samples, elapsed {}, about {} left",
                   set.name, j + 1, set.samples.size(), pending.size(), timer.elapsed_ms() / 1000.0, samples_done,
                   samples_left, duration_text(elapsed),
                   duration_text(weight_done > 0 ? elapsed * weight_left / weight_done : 0.0));
    }
    for (const Config& c : configs_[i]) c.folder->write_metrics(ids);
  }
  summary_.seconds = total.elapsed_ms() / 1000.0;
  spdlog::info("eval: {} prediction(s) written, {} reused, in {}", summary_.predictions_written,
               summary_.predictions_reused, duration_text(summary_.seconds));
  return summary_;
}

}  // namespace

std::string config_folder_name(const std::string& policy, int budget) {
  if (policy == "full") return "full";
  std::string name = policy;
  std::replace(name.begin(), name.end(), ':', '_');  // "snapkv:window=16" → "snapkv_window=16-b64"
  return fmt::format("{}-b{}", name, budget);
}

EvalSummary run_eval(const EvalOptions& options, const Model& model, const Tokenizer& tokenizer,
                     std::shared_ptr<const LookaheadAdapter> adapter) {
  Sweep sweep(options, model, tokenizer, std::move(adapter));
  return sweep.run();
}

}  // namespace lkv::eval
