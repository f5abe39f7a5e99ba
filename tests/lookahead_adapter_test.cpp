// The LookaheadKV adapter file: initialization, save → load round trips, the base-model
// fingerprint, and one broken or mismatched file per failure class, each refused with a message
// that names the value and the fix.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "lookahead/adapter.h"
#include "lookahead/params.h"
#include "lookahead_test_util.h"
#include "tensor/quantize.h"
#include "util/error.h"

namespace lkv {
namespace {

using test::random_adapter;
using test::TempFile;
using test::tiny_model;

LookaheadConfig small_config() {
  LookaheadConfig c;
  c.n_lookahead = 5;
  c.rank = 4;
  c.alpha = 16.0f;
  return c;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_ERROR_HAS(message, text)                                                  \
  do {                                                                                   \
    const std::string m_ = (message);                                                    \
    EXPECT_NE(m_.find(text), std::string::npos) << "message: '" << m_ << "' lacks '" << (text) << "'"; \
  } while (0)

void expect_equal(const LookaheadAdapter& a, const LookaheadAdapter& b) {
  EXPECT_EQ(a.config.n_lookahead, b.config.n_lookahead);
  EXPECT_EQ(a.config.rank, b.config.rank);
  EXPECT_EQ(a.config.alpha, b.config.alpha);
  EXPECT_EQ(a.config.targets, b.config.targets);
  EXPECT_EQ(a.config.embedding_init, b.config.embedding_init);

  EXPECT_EQ(a.base.arch, b.base.arch);
  EXPECT_EQ(a.base.n_layer, b.base.n_layer);
  EXPECT_EQ(a.base.n_embd, b.base.n_embd);
  EXPECT_EQ(a.base.n_head, b.base.n_head);
  EXPECT_EQ(a.base.n_head_kv, b.base.n_head_kv);
  EXPECT_EQ(a.base.head_dim, b.base.head_dim);
  EXPECT_EQ(a.base.n_ff, b.base.n_ff);
  EXPECT_EQ(a.base.n_vocab, b.base.n_vocab);
  EXPECT_EQ(a.base.fingerprint, b.base.fingerprint);
  EXPECT_EQ(a.base.file_name, b.base.file_name);

  EXPECT_EQ(a.training.steps, b.training.steps);
  EXPECT_EQ(a.training.examples, b.training.examples);
  EXPECT_EQ(a.training.train_loss, b.training.train_loss);
  EXPECT_EQ(a.training.val_loss, b.training.val_loss);
  EXPECT_EQ(a.training.val_examples, b.training.val_examples);
  EXPECT_EQ(a.training.seconds, b.training.seconds);
  EXPECT_EQ(a.training.seed, b.training.seed);
  EXPECT_EQ(a.training.command, b.training.command);
  EXPECT_EQ(a.training.data, b.training.data);
  EXPECT_EQ(a.training.date, b.training.date);

  EXPECT_EQ(a.embeddings, b.embeddings);
  EXPECT_EQ(a.lora.rank, b.lora.rank);
  EXPECT_EQ(a.lora.scale, b.lora.scale);
  ASSERT_EQ(a.lora.layers.size(), b.lora.layers.size());
  for (size_t il = 0; il < a.lora.layers.size(); ++il) {
    for (int p = 0; p < kProjectionCount; ++p) {
      EXPECT_EQ(a.lora.layers[il][p].a, b.lora.layers[il][p].a) << il << " " << p;
      EXPECT_EQ(a.lora.layers[il][p].b, b.lora.layers[il][p].b) << il << " " << p;
    }
  }
}

TEST(LookaheadAdapter, CreateFollowsTheDocumentedInitialization) {
  test::TinyModel tm = tiny_model("qwen3", GgmlType::Q8_0, "init");
  const Model& model = *tm.model;
  const HParams& hp = model.hparams;
  const LookaheadAdapter a = LookaheadAdapter::create(model, small_config(), 1);

  // Embeddings: rows of the token-embedding table.
  const WeightView& table = model.weights.token_embd;
  std::vector<float> row(static_cast<size_t>(hp.n_embd));
  for (int i = 0; i < a.config.n_lookahead; ++i) {
    bool found = false;
    for (int t = 0; t < hp.n_vocab && !found; ++t) {
      dequantize_row(table.type, static_cast<const uint8_t*>(table.data) + static_cast<size_t>(t) * table.row_bytes,
                     row.data(), hp.n_embd);
      found = std::memcmp(row.data(), &a.embeddings[static_cast<size_t>(i * hp.n_embd)], sizeof(float) * row.size()) == 0;
    }
    EXPECT_TRUE(found) << "lookahead embedding " << i << " is not a token embedding";
  }
  // LoRA: A within ±1/sqrt(n_in) and not all zero, B zero, every projection of every layer.
  for (int il = 0; il < hp.n_layer; ++il) {
    for (int p = 0; p < kProjectionCount; ++p) {
      const LoraMatrix& mat = a.lora.layers[static_cast<size_t>(il)][static_cast<size_t>(p)];
      const int64_t n_in = projection_n_in(hp, static_cast<Projection>(p));
      const int64_t n_out = projection_n_out(hp, static_cast<Projection>(p));
      ASSERT_EQ(static_cast<int64_t>(mat.a.size()), 4 * n_in);
      ASSERT_EQ(static_cast<int64_t>(mat.b.size()), n_out * 4);
      const float bound = 1.0f / std::sqrt(static_cast<float>(n_in));
      float top = 0.0f;
      for (float v : mat.a) top = std::max(top, std::abs(v));
      EXPECT_LE(top, bound);
      EXPECT_GT(top, 0.5f * bound);
      for (float v : mat.b) ASSERT_EQ(v, 0.0f);
    }
  }
  EXPECT_EQ(a.lora.scale, 4.0f);  // alpha 16 / rank 4
  EXPECT_FALSE(a.training.trained());

  // Deterministic for a seed, different across seeds.
  const LookaheadAdapter same = LookaheadAdapter::create(model, small_config(), 1);
  EXPECT_EQ(a.embeddings, same.embeddings);
  EXPECT_EQ(a.lora.layers[1][3].a, same.lora.layers[1][3].a);
  EXPECT_NE(a.lora.layers[1][3].a, LookaheadAdapter::create(model, small_config(), 2).lora.layers[1][3].a);

  // Random embeddings have the table's RMS (within sampling noise of a few hundred values).
  LookaheadConfig rc = small_config();
  rc.n_lookahead = 16;
  rc.embedding_init = EmbeddingInit::Random;
  const LookaheadAdapter r = LookaheadAdapter::create(model, rc, 3);
  double table_sq = 0.0, emb_sq = 0.0;
  for (int t = 0; t < hp.n_vocab; ++t) {
    dequantize_row(table.type, static_cast<const uint8_t*>(table.data) + static_cast<size_t>(t) * table.row_bytes,
                   row.data(), hp.n_embd);
    for (float v : row) table_sq += static_cast<double>(v) * v;
  }
  for (float v : r.embeddings) emb_sq += static_cast<double>(v) * v;
  const double table_rms = std::sqrt(table_sq / (static_cast<double>(hp.n_vocab) * hp.n_embd));
  const double emb_rms = std::sqrt(emb_sq / static_cast<double>(r.embeddings.size()));
  EXPECT_NEAR(emb_rms / table_rms, 1.0, 0.1);
}

TEST(LookaheadAdapter, InputRowsCarryTheEmbeddingScale) {
  test::TinyModel tm = tiny_model("gemma3", GgmlType::F32, "scale");
  const LookaheadAdapter a = LookaheadAdapter::create(*tm.model, small_config(), 1);
  const std::vector<float> rows = a.input_rows(tm.model->hparams);
  ASSERT_EQ(rows.size(), a.embeddings.size());
  EXPECT_FLOAT_EQ(rows[7], a.embeddings[7] * std::sqrt(64.0f));  // Gemma: sqrt(d_model)
}

TEST(LookaheadAdapter, SaveLoadRoundTrip) {
  test::TinyModel tm = tiny_model("gemma3", GgmlType::Q8_0, "rt");
  LookaheadAdapter a = random_adapter(*tm.model, small_config(), 4);
  a.training.steps = 1200;
  a.training.examples = 300;
  a.training.train_loss = 0.4375;
  a.training.val_loss = 0.5;
  a.training.val_examples = 30;
  a.training.seconds = 1234.5;
  a.training.seed = 77;
  a.training.command = "lookaheadkv train -m model.gguf --data train/ --out a.gguf";
  a.training.data = "synthetic retrieval 50%, documents 50%";
  a.training.date = "2026-01-02T03:04:05Z";
  TempFile file("lookahead_roundtrip.gguf");
  a.save(file.path());
  const LookaheadAdapter b = LookaheadAdapter::load_for(file.path(), *tm.model);
  expect_equal(a, b);

  // The flat training layout reads the same numbers.
  const ParamLayout layout(tm.model->hparams, a.config);
  EXPECT_EQ(layout.pack(a), layout.pack(b));
  EXPECT_EQ(static_cast<int64_t>(layout.size()), b.parameter_count());
  LookaheadAdapter c = b;
  std::vector<float> flat = layout.pack(b);
  flat[3] += 1.0f;
  layout.unpack(flat.data(), c);
  EXPECT_EQ(c.embeddings[3], b.embeddings[3] + 1.0f);

  const std::string text = b.describe();
  for (const char* part : {"gemma3, 7 layers", "lookahead tokens:  5", "rank 4, alpha 16 (scale 4)",
                           "q,k,v,o,gate,up,down", "1200 steps on 300 examples", "validation 0.5000", "fnv1a64:"}) {
    EXPECT_NE(text.find(part), std::string::npos) << "describe() lacks '" << part << "':\n" << text;
  }
  EXPECT_NE(text.find(fmt::format("parameters:        {}", b.parameter_count())), std::string::npos) << text;
}

TEST(LookaheadAdapter, TargetSubsetRoundTrip) {
  test::TinyModel tm = tiny_model("qwen2", GgmlType::Q8_0, "subset");
  LookaheadConfig c = small_config();
  c.targets = parse_lora_targets("v,q,down");
  EXPECT_EQ(lora_targets_text(c.targets), "q,v,down");
  LookaheadAdapter a = random_adapter(*tm.model, c, 5);
  TempFile file("lookahead_subset.gguf");
  a.save(file.path());
  const LookaheadAdapter b = LookaheadAdapter::load(file.path());
  expect_equal(a, b);
  EXPECT_TRUE(b.lora.layers[0][static_cast<size_t>(Projection::K)].empty());
  EXPECT_FALSE(b.lora.layers[1][static_cast<size_t>(Projection::Down)].empty());
  const auto f = gguf::File::open(file.path());
  EXPECT_EQ(f->tensors().size(), 1u + 2u * 3u * 2u);  // embeddings + 2 layers × 3 targets × (A, B)
}

TEST(LookaheadAdapter, ParsesTargets) {
  EXPECT_EQ(parse_lora_targets("all"), all_lora_targets());
  EXPECT_EQ(lora_targets_text(parse_lora_targets("q,k,v,o,gate,up,down")), "q,k,v,o,gate,up,down");
  const std::string msg = error_of([] { parse_lora_targets("q,qkv"); });
  EXPECT_ERROR_HAS(msg, "'qkv'");
  EXPECT_ERROR_HAS(msg, "q,k,v,o,gate,up,down");
  EXPECT_ERROR_HAS(error_of([] { parse_lora_targets(""); }), "unknown");
}

TEST(LookaheadAdapter, ValidatesConfig) {
  LookaheadConfig c;
  c.rank = 0;
  EXPECT_ERROR_HAS(error_of([&] { c.validate(); }), "LoRA rank 0");
  c = LookaheadConfig{};
  c.n_lookahead = 0;
  EXPECT_ERROR_HAS(error_of([&] { c.validate(); }), "lookahead token count 0");
  c = LookaheadConfig{};
  c.alpha = -1.0f;
  EXPECT_ERROR_HAS(error_of([&] { c.validate(); }), "LoRA alpha -1");
}

TEST(LookaheadAdapter, FingerprintIdentifiesTheFile) {
  test::TinyModel a = tiny_model("llama", GgmlType::Q8_0, "fp_a");
  test::TinyModel a2 = tiny_model("llama", GgmlType::Q8_0, "fp_a2");
  // Same shapes and metadata, one weight changed at the start of a tensor.
  test::TinyModel edited = tiny_model("llama", GgmlType::Q8_0, "fp_b",
                                      [](test::SyntheticModel& m) { m.tensor("blk.1.ffn_up.weight").values[0] += 0.5f; });
  const std::string fa = model_fingerprint(*a.model->file);
  EXPECT_EQ(fa.rfind("fnv1a64:", 0), 0u);
  EXPECT_EQ(fa.size(), 8u + 16u);
  EXPECT_EQ(fa, model_fingerprint(*a2.model->file));
  EXPECT_NE(fa, model_fingerprint(*edited.model->file));
}

TEST(LookaheadAdapter, RefusesAnotherBaseModel) {
  test::TinyModel llama = tiny_model("llama", GgmlType::Q8_0, "base_llama");
  test::TinyModel qwen3 = tiny_model("qwen3", GgmlType::Q8_0, "base_qwen3");
  test::TinyModel wider = tiny_model("llama", GgmlType::Q8_0, "base_wider", [](test::SyntheticModel& m) {
    m.spec().n_ff = 128;
    m = test::SyntheticModel(m.spec());
  });
  test::TinyModel reseeded = tiny_model("llama", GgmlType::Q8_0, "base_seed", [](test::SyntheticModel& m) {
    m.spec().seed = 1234;
    m = test::SyntheticModel(m.spec());
  });
  TempFile file("lookahead_base.gguf");
  LookaheadAdapter::create(*llama.model, small_config(), 1).save(file.path());

  EXPECT_NO_THROW(LookaheadAdapter::load_for(file.path(), *llama.model));
  std::string msg = error_of([&] { LookaheadAdapter::load_for(file.path(), *qwen3.model); });
  EXPECT_ERROR_HAS(msg, "architecture llama");
  EXPECT_ERROR_HAS(msg, "architecture qwen3");
  EXPECT_ERROR_HAS(msg, "lookaheadkv train -m");
  msg = error_of([&] { LookaheadAdapter::load_for(file.path(), *wider.model); });
  EXPECT_ERROR_HAS(msg, "feed-forward length 96");
  EXPECT_ERROR_HAS(msg, "feed-forward length 128");
  msg = error_of([&] { LookaheadAdapter::load_for(file.path(), *reseeded.model); });
  EXPECT_ERROR_HAS(msg, "fingerprint");
  EXPECT_ERROR_HAS(msg, "use the adapter trained for this file");
  // Shapes fit, so the fingerprint check can be waived (another quantization of the same model).
  EXPECT_NO_THROW(LookaheadAdapter::load_for(file.path(), *reseeded.model, /*check_fingerprint=*/false));
}

// Rewrites an adapter file with edits: `meta` may write a key itself (returning true) or let it be
// copied; `tensors` edits the tensor list.
struct TensorCopy {
  std::string name;
  std::vector<int64_t> shape;
  GgmlType type;
  std::vector<float> values;
};

void rewrite(const std::string& src, const std::string& dst,
             const std::function<bool(const std::string&, gguf::Writer&)>& meta,
             const std::function<void(std::vector<TensorCopy>&)>& tensors) {
  const auto f = gguf::File::open(src);
  gguf::Writer w;
  for (const std::string& key : f->keys()) {
    if (meta && meta(key, w)) continue;
    const gguf::Value& v = f->metadata().at(key);
    switch (v.type) {
      case gguf::ValueType::UINT32: w.add_u32(key, static_cast<uint32_t>(v.u64)); break;
      case gguf::ValueType::UINT64: w.add_u64(key, v.u64); break;
      case gguf::ValueType::FLOAT32: w.add_f32(key, static_cast<float>(v.f64)); break;
      case gguf::ValueType::FLOAT64: w.add_f64(key, v.f64); break;
      case gguf::ValueType::STRING: w.add_string(key, v.str); break;
      default: FAIL() << "unexpected metadata type for " << key;
    }
  }
  std::vector<TensorCopy> list;
  for (const gguf::TensorInfo& t : f->tensors()) {
    TensorCopy c{t.name, t.shape, t.type, std::vector<float>(static_cast<size_t>(t.n_elements()))};
    dequantize_row(t.type, t.data, c.values.data(), t.n_elements());
    list.push_back(std::move(c));
  }
  if (tensors) tensors(list);
  for (const TensorCopy& t : list) w.add_tensor(t.name, t.shape, t.type, t.values);
  w.write_file(dst);
}

TensorCopy& find(std::vector<TensorCopy>& list, const std::string& name) {
  for (TensorCopy& t : list) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no tensor " + name);
}

TEST(LookaheadAdapter, RefusesBrokenFiles) {
  test::TinyModel tm = tiny_model("llama", GgmlType::Q8_0, "broken");
  TempFile good("lookahead_good.gguf"), bad("lookahead_bad.gguf");
  random_adapter(*tm.model, small_config(), 6).save(good.path());
  auto load_bad = [&] { return error_of([&] { LookaheadAdapter::load_for(bad.path(), *tm.model); }); };

  // The untouched copy loads: the rewriting itself changes nothing.
  rewrite(good.path(), bad.path(), {}, {});
  EXPECT_EQ(load_bad(), "");

  rewrite(good.path(), bad.path(), {}, [](std::vector<TensorCopy>& l) {
    l.erase(std::remove_if(l.begin(), l.end(), [](const TensorCopy& t) { return t.name == "blk.0.attn_q.lora_b"; }), l.end());
  });
  std::string msg = load_bad();
  EXPECT_ERROR_HAS(msg, "'blk.0.attn_q.lora_b' is missing");
  EXPECT_ERROR_HAS(msg, "re-save");

  rewrite(good.path(), bad.path(), {}, [](std::vector<TensorCopy>& l) {
    TensorCopy& t = find(l, "blk.1.ffn_down.lora_a");
    std::swap(t.shape[0], t.shape[1]);
  });
  msg = load_bad();
  EXPECT_ERROR_HAS(msg, "'blk.1.ffn_down.lora_a' has shape [4, 96], expected [96, 4]");

  rewrite(good.path(), bad.path(), {}, [](std::vector<TensorCopy>& l) { find(l, "lookahead.embd").type = GgmlType::F16; });
  msg = load_bad();
  EXPECT_ERROR_HAS(msg, "'lookahead.embd' has type F16");
  EXPECT_ERROR_HAS(msg, "must be F32");

  rewrite(good.path(), bad.path(), {}, [](std::vector<TensorCopy>& l) {
    l.push_back({"blk.0.attn_q.lora_c", {4}, GgmlType::F32, {0, 0, 0, 0}});
  });
  EXPECT_ERROR_HAS(load_bad(), "unexpected tensor 'blk.0.attn_q.lora_c'");

  rewrite(good.path(), bad.path(), {}, [](std::vector<TensorCopy>& l) {
    find(l, "lookahead.embd").values[9] = std::numeric_limits<float>::quiet_NaN();
  });
  EXPECT_ERROR_HAS(load_bad(), "non-finite value at element 9");

  rewrite(good.path(), bad.path(), [](const std::string& key, gguf::Writer& w) {
    if (key != "lookaheadkv.lora.targets") return false;
    w.add_string(key, "q,x");
    return true;
  }, {});
  EXPECT_ERROR_HAS(load_bad(), "LoRA target 'x'");

  rewrite(good.path(), bad.path(), [](const std::string& key, gguf::Writer& w) {
    if (key != "lookaheadkv.lora.rank") return false;
    w.add_u32(key, 0);
    return true;
  }, {});
  EXPECT_ERROR_HAS(load_bad(), "lookaheadkv.lora.rank = 0 is out of range");

  rewrite(good.path(), bad.path(), [](const std::string& key, gguf::Writer& w) {
    if (key != "lookaheadkv.lookahead_count") return false;
    w.add_u32(key, 6);  // the embeddings tensor still contains 5 rows
    return true;
  }, {});
  EXPECT_ERROR_HAS(load_bad(), "'lookahead.embd' has shape [64, 5], expected [64, 6]");

  rewrite(good.path(), bad.path(), [](const std::string& key, gguf::Writer&) { return key == "lookaheadkv.base.fingerprint"; },
          {});
  EXPECT_ERROR_HAS(load_bad(), "lookaheadkv.base.fingerprint");

  // A model file is not an adapter.
  msg = error_of([&] { LookaheadAdapter::load(tm.file->path()); });
  EXPECT_ERROR_HAS(msg, "not a LookaheadKV adapter");

  // A truncated file fails in the GGUF reader, naming the path.
  {
    std::ifstream in(good.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream out(bad.path(), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  EXPECT_ERROR_HAS(load_bad(), bad.path());
}

}  // namespace
}  // namespace lkv
