#include "lookahead/adapter.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "lookahead/rng.h"
#include "tensor/quantize.h"
#include "util/error.h"

namespace lkv {

namespace {

constexpr uint32_t kFormatVersion = 1;
constexpr const char* kAdapterType = "lookaheadkv";
constexpr const char* kEmbdTensor = "lookahead.embd";

// Caps on sizes read from an adapter file, checked before anything is allocated.
constexpr int kMaxLookahead = 4096;
constexpr int kMaxRank = 1024;

std::string key(const char* name) { return std::string("lookaheadkv.") + name; }

std::string lora_tensor_name(int layer, Projection p, bool b) {
  return fmt::format("blk.{}.{}.lora_{}", layer, projection_tensor_stem(p), b ? "b" : "a");
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// Hyperparameters rebuilt from an adapter's base description, enough for projection sizes.
HParams sizes_of(const BaseModelInfo& b) {
  HParams hp;
  hp.arch = b.arch;
  hp.n_layer = b.n_layer;
  hp.n_embd = b.n_embd;
  hp.n_head = b.n_head;
  hp.n_head_kv = b.n_head_kv;
  hp.head_dim = b.head_dim;
  hp.n_ff = b.n_ff;
  hp.n_vocab = b.n_vocab;
  return hp;
}

// Reads one F32 tensor of an exact shape into `out`, rejecting non-finite values.
void read_tensor(const gguf::File& file, const std::string& name, const std::vector<int64_t>& shape,
                 std::vector<float>& out) {
  const gguf::TensorInfo* t = file.find_tensor(name);
  if (!t) {
    fail("{}: tensor '{}' is missing, although the adapter's metadata (lookahead tokens, rank, targets) calls for it; "
         "the file is incomplete, re-save it from the trainer",
         file.path(), name);
  }
  if (t->shape != shape) {
    fail("{}: tensor '{}' has shape {}, expected {} from the adapter's metadata; the file is inconsistent, re-save it "
         "from the trainer",
         file.path(), name, shape_text(t->shape), shape_text(shape));
  }
  if (t->type != GgmlType::F32) {
    fail("{}: tensor '{}' has type {}, but adapter tensors must be F32; re-save the adapter with lookaheadkv", file.path(),
         name, type_name(t->type_id));
  }
  out.resize(static_cast<size_t>(t->n_elements()));
  dequantize_row(GgmlType::F32, t->data, out.data(), t->n_elements());
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) {
      fail("{}: tensor '{}' contains a non-finite value at element {}; the adapter is corrupt (training diverged?), "
           "retrain it or use an earlier checkpoint",
           file.path(), name, i);
    }
  }
}

int read_int_key(const gguf::File& file, const std::string& k, int lo, int hi) {
  const uint64_t v = file.get_u64(k);
  if (v < static_cast<uint64_t>(lo) || v > static_cast<uint64_t>(hi)) {
    fail("{}: {} = {} is out of range [{}, {}]; the adapter file is corrupt", file.path(), k, v, lo, hi);
  }
  return static_cast<int>(v);
}

}  // namespace

const char* projection_short_name(Projection p) {
  static const char* names[kProjectionCount] = {"q", "k", "v", "o", "gate", "up", "down"};
  return names[static_cast<int>(p)];
}

const char* projection_tensor_stem(Projection p) {
  static const char* names[kProjectionCount] = {"attn_q",   "attn_k", "attn_v",  "attn_output",
                                                "ffn_gate", "ffn_up", "ffn_down"};
  return names[static_cast<int>(p)];
}

LoraTargets all_lora_targets() {
  LoraTargets t;
  t.fill(true);
  return t;
}

LoraTargets parse_lora_targets(const std::string& text) {
  if (text == "all") return all_lora_targets();
  LoraTargets t{};
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    bool found = false;
    for (int p = 0; p < kProjectionCount; ++p) {
      if (item == projection_short_name(static_cast<Projection>(p))) {
        t[static_cast<size_t>(p)] = true;
        found = true;
      }
    }
    if (!found) {
      fail("LoRA target '{}' in '{}' is unknown; use a comma-separated subset of q,k,v,o,gate,up,down, or 'all'", item,
           text);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return t;
}

std::string lora_targets_text(const LoraTargets& targets) {
  std::string text;
  for (int p = 0; p < kProjectionCount; ++p) {
    if (!targets[static_cast<size_t>(p)]) continue;
    if (!text.empty()) text += ",";
    text += projection_short_name(static_cast<Projection>(p));
  }
  return text.empty() ? "none" : text;
}

int64_t projection_n_in(const HParams& hp, Projection p) {
  switch (p) {
    case Projection::O: return static_cast<int64_t>(hp.n_head) * hp.head_dim;
    case Projection::Down: return hp.n_ff;
    default: return hp.n_embd;
  }
}

int64_t projection_n_out(const HParams& hp, Projection p) {
  switch (p) {
    case Projection::Q: return static_cast<int64_t>(hp.n_head) * hp.head_dim;
    case Projection::K:
    case Projection::V: return static_cast<int64_t>(hp.n_head_kv) * hp.head_dim;
    case Projection::Gate:
    case Projection::Up: return hp.n_ff;
    default: return hp.n_embd;
  }
}

const char* embedding_init_name(EmbeddingInit init) {
  return init == EmbeddingInit::TokenEmbeddings ? "token_embeddings" : "random";
}

void LookaheadConfig::validate() const {
  if (n_lookahead < 1 || n_lookahead > kMaxLookahead) {
    fail("lookahead token count {} is out of range; use 1 to {} (default 32)", n_lookahead, kMaxLookahead);
  }
  if (rank < 1 || rank > kMaxRank) fail("LoRA rank {} is out of range; use 1 to {} (default 8)", rank, kMaxRank);
  if (!(alpha > 0.0f) || !std::isfinite(alpha)) fail("LoRA alpha {} is invalid; use a positive number (default 32)", alpha);
}

BaseModelInfo BaseModelInfo::of(const Model& model) {
  const HParams& hp = model.hparams;
  BaseModelInfo b;
  b.arch = hp.arch;
  b.n_layer = hp.n_layer;
  b.n_embd = hp.n_embd;
  b.n_head = hp.n_head;
  b.n_head_kv = hp.n_head_kv;
  b.head_dim = hp.head_dim;
  b.n_ff = hp.n_ff;
  b.n_vocab = hp.n_vocab;
  b.fingerprint = model_fingerprint(*model.file);
  b.file_name = std::filesystem::path(model.file->path()).filename().string();
  return b;
}

std::string model_fingerprint(const gguf::File& file) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a offset basis
  auto mix = [&h](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ull;  // FNV prime
    }
  };
  const uint8_t* base = file.bytes();
  size_t header_end = file.file_size();
  if (!file.tensors().empty()) {
    const gguf::TensorInfo& first = file.tensors().front();
    header_end = static_cast<size_t>(first.data - base) - static_cast<size_t>(first.offset);
  }
  mix(base, header_end);
  const uint64_t size = file.file_size();
  mix(reinterpret_cast<const uint8_t*>(&size), sizeof(size));
  constexpr size_t kSample = 4096;
  for (const gguf::TensorInfo& t : file.tensors()) {
    const size_t n = static_cast<size_t>(t.n_bytes);
    if (n <= 2 * kSample) {
      mix(t.data, n);
    } else {
      mix(t.data, kSample);
      mix(t.data + n - kSample, kSample);
    }
  }
  return fmt::format("fnv1a64:{:016x}", h);
}

LookaheadAdapter LookaheadAdapter::create(const Model& model, const LookaheadConfig& config, uint64_t seed) {
  config.validate();
  const HParams& hp = model.hparams;
  LookaheadAdapter a;
  a.config = config;
  a.base = BaseModelInfo::of(model);
  Rng rng(seed);

  const size_t d = static_cast<size_t>(hp.n_embd);
  const size_t m = static_cast<size_t>(config.n_lookahead);
  a.embeddings.resize(m * d);
  const WeightView& table = model.weights.token_embd;
  auto table_row = [&](int64_t t, float* out) {
    dequantize_row(table.type, static_cast<const uint8_t*>(table.data) + static_cast<size_t>(t) * table.row_bytes, out,
                   hp.n_embd);
  };
  if (config.embedding_init == EmbeddingInit::TokenEmbeddings) {
    for (size_t i = 0; i < m; ++i) table_row(static_cast<int64_t>(rng.below(static_cast<uint64_t>(hp.n_vocab))), &a.embeddings[i * d]);
  } else {
    // σ from up to 256 evenly spaced rows of the table: enough for two significant digits.
    std::vector<float> row(d);
    double sum_sq = 0.0;
    const int64_t n_rows = std::min<int64_t>(256, hp.n_vocab);
    for (int64_t i = 0; i < n_rows; ++i) {
      table_row(i * hp.n_vocab / n_rows, row.data());
      for (float v : row) sum_sq += static_cast<double>(v) * v;
    }
    const double sigma = std::sqrt(sum_sq / static_cast<double>(n_rows * hp.n_embd));
    for (float& v : a.embeddings) v = static_cast<float>(sigma * rng.normal());
  }

  a.lora.rank = config.rank;
  a.lora.scale = config.lora_scale();
  a.lora.layers.resize(static_cast<size_t>(hp.n_layer));
  const size_t r = static_cast<size_t>(config.rank);
  for (int il = 0; il < hp.n_layer; ++il) {
    for (int p = 0; p < kProjectionCount; ++p) {
      if (!config.targets[static_cast<size_t>(p)]) continue;
      const int64_t n_in = projection_n_in(hp, static_cast<Projection>(p));
      const int64_t n_out = projection_n_out(hp, static_cast<Projection>(p));
      LoraMatrix& mat = a.lora.layers[static_cast<size_t>(il)][static_cast<size_t>(p)];
      const double bound = 1.0 / std::sqrt(static_cast<double>(n_in));
      mat.a.resize(r * static_cast<size_t>(n_in));
      for (float& v : mat.a) v = static_cast<float>(bound * (2.0 * rng.uniform() - 1.0));
      mat.b.assign(static_cast<size_t>(n_out) * r, 0.0f);
    }
  }
  return a;
}

int64_t LookaheadAdapter::lora_parameter_count() const {
  int64_t n = 0;
  for (const auto& layer : lora.layers) {
    for (const LoraMatrix& mat : layer) n += static_cast<int64_t>(mat.a.size() + mat.b.size());
  }
  return n;
}

std::vector<float> LookaheadAdapter::input_rows(const HParams& hp) const {
  std::vector<float> rows = embeddings;
  if (hp.embed_scale != 1.0f) {
    for (float& v : rows) v *= hp.embed_scale;
  }
  return rows;
}

void LookaheadAdapter::save(const std::string& path) const {
  config.validate();
  const HParams hp = sizes_of(base);
  const size_t m = static_cast<size_t>(config.n_lookahead);
  LKV_CHECK(embeddings.size() == m * static_cast<size_t>(hp.n_embd));
  LKV_CHECK(static_cast<int>(lora.layers.size()) == base.n_layer);

  gguf::Writer w;
  w.add_string("general.type", "adapter");
  w.add_string("adapter.type", kAdapterType);
  w.add_u32(key("format_version"), kFormatVersion);
  w.add_string(key("base.architecture"), base.arch);
  w.add_u32(key("base.block_count"), static_cast<uint32_t>(base.n_layer));
  w.add_u32(key("base.embedding_length"), static_cast<uint32_t>(base.n_embd));
  w.add_u32(key("base.head_count"), static_cast<uint32_t>(base.n_head));
  w.add_u32(key("base.head_count_kv"), static_cast<uint32_t>(base.n_head_kv));
  w.add_u32(key("base.head_dim"), static_cast<uint32_t>(base.head_dim));
  w.add_u32(key("base.feed_forward_length"), static_cast<uint32_t>(base.n_ff));
  w.add_u32(key("base.vocab_size"), static_cast<uint32_t>(base.n_vocab));
  w.add_string(key("base.fingerprint"), base.fingerprint);
  w.add_string(key("base.file_name"), base.file_name);
  w.add_u32(key("lookahead_count"), static_cast<uint32_t>(config.n_lookahead));
  w.add_string(key("embedding_init"), embedding_init_name(config.embedding_init));
  w.add_u32(key("lora.rank"), static_cast<uint32_t>(config.rank));
  w.add_f32(key("lora.alpha"), config.alpha);
  w.add_string(key("lora.targets"), lora_targets_text(config.targets));
  w.add_u64(key("training.steps"), static_cast<uint64_t>(training.steps));
  w.add_u64(key("training.examples"), static_cast<uint64_t>(training.examples));
  w.add_f64(key("training.train_loss"), training.train_loss);
  w.add_f64(key("training.val_loss"), training.val_loss);
  w.add_u64(key("training.val_examples"), static_cast<uint64_t>(training.val_examples));
  w.add_f64(key("training.seconds"), training.seconds);
  w.add_u64(key("training.seed"), training.seed);
  w.add_string(key("training.command"), training.command);
  w.add_string(key("training.data"), training.data);
  w.add_string(key("training.date"), training.date);

  w.add_tensor(kEmbdTensor, {hp.n_embd, static_cast<int64_t>(m)}, GgmlType::F32, embeddings);
  const int64_t r = config.rank;
  for (int il = 0; il < base.n_layer; ++il) {
    for (int p = 0; p < kProjectionCount; ++p) {
      const Projection proj = static_cast<Projection>(p);
      const LoraMatrix& mat = lora.layers[static_cast<size_t>(il)][static_cast<size_t>(p)];
      LKV_CHECK(mat.empty() != config.targets[static_cast<size_t>(p)]);
      if (mat.empty()) continue;
      const int64_t n_in = projection_n_in(hp, proj), n_out = projection_n_out(hp, proj);
      LKV_CHECK(static_cast<int64_t>(mat.a.size()) == r * n_in && static_cast<int64_t>(mat.b.size()) == n_out * r);
      w.add_tensor(lora_tensor_name(il, proj, false), {n_in, r}, GgmlType::F32, mat.a);
      w.add_tensor(lora_tensor_name(il, proj, true), {r, n_out}, GgmlType::F32, mat.b);
    }
  }
  w.write_file(path);
}

LookaheadAdapter LookaheadAdapter::load(const std::string& path) {
  std::unique_ptr<gguf::File> file = gguf::File::open(path);
  const std::string type = file->get_string_opt("adapter.type").value_or("");
  if (type != kAdapterType) {
    fail("{}: not a LookaheadKV adapter (adapter.type is '{}', expected '{}'); pass the file the trainer wrote, not a "
         "model or another kind of adapter",
         path, type.empty() ? "absent" : type, kAdapterType);
  }
  const uint32_t version = file->get_u32(key("format_version"));
  if (version != kFormatVersion) {
    fail("{}: adapter format version {} is not supported (this build reads version {}); use a matching lookaheadkv "
         "build or retrain the adapter",
         path, version, kFormatVersion);
  }

  LookaheadAdapter a;
  BaseModelInfo& b = a.base;
  b.arch = file->get_string(key("base.architecture"));
  b.n_layer = read_int_key(*file, key("base.block_count"), 1, 512);
  b.n_embd = read_int_key(*file, key("base.embedding_length"), 1, 65536);
  b.n_head = read_int_key(*file, key("base.head_count"), 1, 1024);
  b.n_head_kv = read_int_key(*file, key("base.head_count_kv"), 1, 1024);
  b.head_dim = read_int_key(*file, key("base.head_dim"), 1, 1024);
  b.n_ff = read_int_key(*file, key("base.feed_forward_length"), 1, 1 << 20);
  b.n_vocab = read_int_key(*file, key("base.vocab_size"), 1, 1 << 24);
  b.fingerprint = file->get_string(key("base.fingerprint"));
  b.file_name = file->get_string_opt(key("base.file_name")).value_or("");

  LookaheadConfig& c = a.config;
  c.n_lookahead = read_int_key(*file, key("lookahead_count"), 1, kMaxLookahead);
  c.rank = read_int_key(*file, key("lora.rank"), 1, kMaxRank);
  c.alpha = file->get_f32(key("lora.alpha"));
  try {
    c.targets = parse_lora_targets(file->get_string(key("lora.targets")));
  } catch (const Error& e) {
    fail("{}: {}: {}", path, key("lora.targets"), e.what());
  }
  const std::string init = file->get_string_opt(key("embedding_init")).value_or("token_embeddings");
  if (init != "random" && init != "token_embeddings") {
    fail("{}: {} = '{}' is invalid (expected 'token_embeddings' or 'random'); the adapter file is corrupt", path,
         key("embedding_init"), init);
  }
  c.embedding_init = init == "random" ? EmbeddingInit::Random : EmbeddingInit::TokenEmbeddings;
  try {
    c.validate();
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }

  TrainingSummary& t = a.training;
  auto u64_or = [&](const char* name) { return file->has(key(name)) ? file->get_u64(key(name)) : 0; };
  auto f64_or = [&](const char* name) {
    const gguf::Value* v = file->find(key(name));
    return v && v->is_float() ? v->f64 : 0.0;
  };
  auto str_or = [&](const char* name) { return file->get_string_opt(key(name)).value_or(""); };
  t.steps = static_cast<int64_t>(u64_or("training.steps"));
  t.examples = static_cast<int64_t>(u64_or("training.examples"));
  t.train_loss = f64_or("training.train_loss");
  t.val_loss = f64_or("training.val_loss");
  t.val_examples = static_cast<int64_t>(u64_or("training.val_examples"));
  t.seconds = f64_or("training.seconds");
  t.seed = u64_or("training.seed");
  t.command = str_or("training.command");
  t.data = str_or("training.data");
  t.date = str_or("training.date");

  // Tensors: exactly the ones the metadata calls for.
  const HParams hp = sizes_of(b);
  std::set<std::string> expected = {kEmbdTensor};
  read_tensor(*file, kEmbdTensor, {b.n_embd, c.n_lookahead}, a.embeddings);
  a.lora.rank = c.rank;
  a.lora.scale = c.lora_scale();
  a.lora.layers.resize(static_cast<size_t>(b.n_layer));
  for (int il = 0; il < b.n_layer; ++il) {
    for (int p = 0; p < kProjectionCount; ++p) {
      if (!c.targets[static_cast<size_t>(p)]) continue;
      const Projection proj = static_cast<Projection>(p);
      const int64_t n_in = projection_n_in(hp, proj), n_out = projection_n_out(hp, proj);
      LoraMatrix& mat = a.lora.layers[static_cast<size_t>(il)][static_cast<size_t>(p)];
      const std::string name_a = lora_tensor_name(il, proj, false), name_b = lora_tensor_name(il, proj, true);
      read_tensor(*file, name_a, {n_in, c.rank}, mat.a);
      read_tensor(*file, name_b, {c.rank, n_out}, mat.b);
      expected.insert(name_a);
      expected.insert(name_b);
    }
  }
  for (const gguf::TensorInfo& info : file->tensors()) {
    if (!expected.count(info.name)) {
      fail("{}: unexpected tensor '{}': the metadata ({} = '{}', {} layers) does not call for it; the file is "
           "inconsistent, re-save it from the trainer",
           path, info.name, key("lora.targets"), lora_targets_text(c.targets), b.n_layer);
    }
  }
  return a;
}

void LookaheadAdapter::check_compatible(const Model& model, bool check_fingerprint, const std::string& label) const {
  const HParams& hp = model.hparams;
  const std::string& model_path = model.file->path();
  auto mismatch = [&](const char* what, const std::string& adapter_value, const std::string& model_value) {
    fail("{}: made for a base model with {} {}, but {} has {} {}; load the adapter trained for this model, or train "
         "one with `lookaheadkv train -m {}`",
         label, what, adapter_value, model_path, what, model_value, model_path);
  };
  if (base.arch != hp.arch) mismatch("architecture", base.arch, hp.arch);
  const std::pair<const char*, std::pair<int, int>> sizes[] = {
      {"block count", {base.n_layer, hp.n_layer}},   {"embedding length", {base.n_embd, hp.n_embd}},
      {"head count", {base.n_head, hp.n_head}},       {"KV head count", {base.n_head_kv, hp.n_head_kv}},
      {"head dim", {base.head_dim, hp.head_dim}},     {"feed-forward length", {base.n_ff, hp.n_ff}},
      {"vocabulary size", {base.n_vocab, hp.n_vocab}},
  };
  for (const auto& [what, values] : sizes) {
    if (values.first != values.second) mismatch(what, std::to_string(values.first), std::to_string(values.second));
  }
  if (check_fingerprint) {
    const std::string fp = model_fingerprint(*model.file);
    if (fp != base.fingerprint) {
      fail("{}: made for the base file '{}' with fingerprint {}, but {} has fingerprint {} (another model, "
           "quantization or edit with the same shapes); use the adapter trained for this file, or train one with "
           "`lookaheadkv train -m {}`",
           label, base.file_name, base.fingerprint, model_path, fp, model_path);
    }
  }
}

LookaheadAdapter LookaheadAdapter::load_for(const std::string& path, const Model& model, bool check_fingerprint) {
  LookaheadAdapter a = load(path);
  a.check_compatible(model, check_fingerprint, path);
  return a;
}

std::string LookaheadAdapter::describe() const {
  std::string out = "LookaheadKV adapter\n";
  out += fmt::format("  base model:        {}, {} layers, d_model {}, heads {}/{} (q/kv), head dim {}, ffn {}, vocab {}\n",
                     base.arch, base.n_layer, base.n_embd, base.n_head, base.n_head_kv, base.head_dim, base.n_ff,
                     base.n_vocab);
  out += fmt::format("  base file:         {} ({})\n", base.file_name.empty() ? "unknown" : base.file_name,
                     base.fingerprint);
  out += fmt::format("  lookahead tokens:  {} (initialized from {})\n", config.n_lookahead,
                     config.embedding_init == EmbeddingInit::TokenEmbeddings ? "token embeddings" : "random values");
  out += fmt::format("  LoRA:              rank {}, alpha {} (scale {}), targets {}\n", config.rank, config.alpha,
                     config.lora_scale(), lora_targets_text(config.targets));
  out += fmt::format("  parameters:        {} ({} embedding, {} LoRA)\n", parameter_count(), embedding_parameter_count(),
                     lora_parameter_count());
  if (!training.trained()) {
    out += "  training:          none (freshly initialized)\n";
  } else {
    out += fmt::format("  training:          {} steps on {} examples, {:.1f} s, seed {}\n", training.steps,
                       training.examples, training.seconds, training.seed);
    out += fmt::format("  final loss:        train {:.4f}", training.train_loss);
    out += training.val_examples > 0 ? fmt::format(", validation {:.4f} ({} examples)\n", training.val_loss, training.val_examples)
                                     : std::string(", no validation split\n");
    if (!training.data.empty()) out += fmt::format("  data:              {}\n", training.data);
    if (!training.command.empty()) out += fmt::format("  command:           {}\n", training.command);
    if (!training.date.empty()) out += fmt::format("  date:              {}\n", training.date);
  }
  return out;
}

}  // namespace lkv
