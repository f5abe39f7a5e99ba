// The engine's loader and forward pass on tiny random models of every architecture, against the
// independent float64 pass in naive_forward.cpp.
//
// Each model is written by our GGUF writer (synthetic_model.cpp) and loaded through Model::load
// like a real file. It runs over 40 tokens, five times the 8-token window of the gemma3 model, so
// sliding-window masking, RoPE at many positions and GQA all matter. Weights are quantized when the
// file is written and both passes read the same dequantized values, so weight quantization error
// is not part of any difference measured here: only the engine's own arithmetic is.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/transformer.h"
#include "naive_forward.h"
#include "synthetic_model.h"
#include "util/error.h"

namespace lkv {
namespace {

using test::NaiveLogits;
using test::SyntheticModel;
using test::TempFile;

constexpr int kSeqLen = 40;

// Tolerances, each a fraction of the largest reference logit of the model (its "scale").
//
// Exact-math mode differs from the float64 reference by float32 rounding only (activations, RoPE
// tables, softmax, norms), about 1e-7 relative per operation over a few hundred chained ones.
// Measured: at most 4.5e-7.
constexpr double kExactTolerance = 1e-5;

// Fast mode with float weights reads activations unrounded, so only the summation order changes.
// For gemma3, GELU also goes through an fp16 table: about 1e-3 relative per value, and one fp16
// step wherever a tiny difference moves an input across a rounding boundary. Measured: 5.6e-4 for
// gemma3, below 5e-7 for the others.
constexpr double kFastFloatTolerance = 2e-3;

// Fast mode with quantized weights first rounds each activation row to 8 bits per 32- or
// 256-element block. The step is the block max / 127, which is about 0.5 % of a dot product's
// spread per projection. Over 2 to 7 layers and the output head the mean logit error grows to
// 1-2 % of the logits' root mean square. Measured: at most 2.9e-2 (gemma3, Q4_0 weights). Every
// architectural mistake tried in ModelSyntheticReference moves logits by 40 % or more, far beyond.
constexpr double kFastQuantTolerance = 5e-2;

// Splitting a pass into chunks changes nothing in exact-math mode: every row is computed by the
// same scalar code over the same cache entries. Measured: bitwise equal.
constexpr double kExactChunkTolerance = 1e-6;

bool is_float_type(GgmlType type) { return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16; }

double fast_tolerance(GgmlType type) { return is_float_type(type) ? kFastFloatTolerance : kFastQuantTolerance; }

std::vector<int32_t> test_tokens(int n_vocab) {
  std::vector<int32_t> tokens(kSeqLen);
  uint32_t state = 12345;
  for (int32_t& t : tokens) {
    state = state * 1664525u + 1013904223u;
    t = static_cast<int32_t>((state >> 8) % static_cast<uint32_t>(n_vocab));
  }
  return tokens;
}

// One written and loaded model with its reference logits, built once per process.
struct Loaded {
  std::unique_ptr<TempFile> file;
  std::unique_ptr<Model> model;
  std::vector<int32_t> tokens;
  NaiveLogits reference;
};

const Loaded& loaded(const std::string& arch, GgmlType type) {
  static std::map<std::pair<std::string, GgmlType>, Loaded> cache;
  auto key = std::make_pair(arch, type);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Loaded l;
  SyntheticModel synthetic(test::synthetic_spec(arch, type));
  l.file = std::make_unique<TempFile>(arch + "_" + type_name(static_cast<uint32_t>(type)) + ".gguf");
  synthetic.write(l.file->path());
  l.model = Model::load(l.file->path());
  l.tokens = test_tokens(l.model->hparams.n_vocab);
  l.reference = test::naive_forward(*l.model->file, l.tokens);
  return cache.emplace(key, std::move(l)).first->second;
}

KVCache empty_cache(const Loaded& l) { return Transformer(*l.model, 1).make_cache(); }

// Logits of every position from one pass over the whole sequence, which leaves its entries in cache.
std::vector<float> engine_logits(const Loaded& l, bool exact, KVCache& cache) {
  Transformer transformer(*l.model, 2);
  transformer.set_exact_math(exact);
  std::vector<float> logits;
  transformer.forward(Batch::from_tokens(l.tokens, 0, /*all_logits=*/true), cache, &logits);
  return logits;
}

std::vector<float> engine_logits(const Loaded& l, bool exact) {
  KVCache cache = empty_cache(l);
  return engine_logits(l, exact, cache);
}

struct Comparison {
  double max_diff = 0.0;  // largest |engine − reference| over all positions and tokens
  double scale = 0.0;     // largest |reference logit|, at least 1
};

Comparison compare(const std::vector<float>& engine, const NaiveLogits& reference) {
  EXPECT_EQ(engine.size(), reference.values.size());
  Comparison c;
  c.scale = 1.0;
  for (size_t i = 0; i < engine.size() && i < reference.values.size(); ++i) {
    c.max_diff = std::max(c.max_diff, std::fabs(engine[i] - reference.values[i]));
    c.scale = std::max(c.scale, std::fabs(reference.values[i]));
  }
  return c;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
  return m;
}

std::string type_label(GgmlType type) { return type_name(static_cast<uint32_t>(type)); }

// ---------------------------------------------------------------------------------------------
// Engine against the float64 reference, every position.

struct Case {
  const char* arch;
  GgmlType type;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return std::string(info.param.arch) + "_" + type_label(info.param.type);
}

class ModelSyntheticForward : public ::testing::TestWithParam<Case> {};

TEST_P(ModelSyntheticForward, MatchesNaivePass) {
  const Loaded& l = loaded(GetParam().arch, GetParam().type);
  const Comparison exact = compare(engine_logits(l, /*exact=*/true), l.reference);
  const Comparison fast = compare(engine_logits(l, /*exact=*/false), l.reference);
  std::printf("%-7s %-5s logit scale %6.2f  exact: max diff %.2e (%.1e of scale)  fast: max diff %.2e (%.1e of scale)\n",
              GetParam().arch, type_label(GetParam().type).c_str(), exact.scale, exact.max_diff,
              exact.max_diff / exact.scale, fast.max_diff, fast.max_diff / fast.scale);
  EXPECT_LE(exact.max_diff, kExactTolerance * exact.scale);
  EXPECT_LE(fast.max_diff, fast_tolerance(GetParam().type) * fast.scale);
}

// Every weight type the engine multiplies, on every architecture. K-quant cases use the wider
// (n_embd 256) variant of each model.
std::vector<Case> all_cases() {
  const GgmlType types[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                            GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                            GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
  std::vector<Case> cases;
  for (const char* arch : {"gemma3", "llama", "qwen2", "qwen3"}) {
    for (GgmlType type : types) cases.push_back({arch, type});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(ModelSynthetic, ModelSyntheticForward, ::testing::ValuesIn(all_cases()), case_name);

// ---------------------------------------------------------------------------------------------
// Chunked prefill and decode against one pass, and what the KV cache contains afterwards.

// In fast mode a chunk of one row takes the GEMV kernels and longer chunks the tiled ones, which
// sum in another order. Where such a last-bit difference moves a value across a rounding boundary
// of the activation quantization or of the fp16 GELU table, the value changes by a whole step.
// So fast-mode chunking gets the tolerance of fast mode against the reference. Exact-math mode
// must not change at all.
struct BatchingMode {
  bool exact;
  GgmlType type;
  double tolerance;
  const char* label;
};

const BatchingMode kBatchingModes[] = {
    {true, GgmlType::Q8_0, kExactChunkTolerance, "exact Q8_0"},
    {false, GgmlType::F32, kFastFloatTolerance, "fast F32"},
    {false, GgmlType::Q8_0, kFastQuantTolerance, "fast Q8_0"},
};

// Rows [begin, end) of logits laid out [rows × n_vocab].
std::vector<float> rows(const std::vector<float>& logits, size_t n_vocab, size_t begin, size_t end) {
  return {logits.begin() + static_cast<std::ptrdiff_t>(begin * n_vocab),
          logits.begin() + static_cast<std::ptrdiff_t>(end * n_vocab)};
}

class ModelSyntheticBatching : public ::testing::TestWithParam<const char*> {};

TEST_P(ModelSyntheticBatching, ChunkedPrefillMatchesOnePass) {
  for (const BatchingMode& mode : kBatchingModes) {
    const Loaded& l = loaded(GetParam(), mode.type);
    const std::vector<float> whole = engine_logits(l, mode.exact);
    const double scale = compare(whole, l.reference).scale;
    for (int chunk : {1, 3, 7, kSeqLen}) {
      Transformer transformer(*l.model, 2);
      transformer.set_exact_math(mode.exact);
      KVCache cache = transformer.make_cache();
      std::vector<float> logits, part;
      for (int begin = 0; begin < kSeqLen; begin += chunk) {
        const int end = std::min(kSeqLen, begin + chunk);
        const std::vector<int32_t> ids(l.tokens.begin() + begin, l.tokens.begin() + end);
        transformer.forward(Batch::from_tokens(ids, begin, /*all_logits=*/true), cache, &part);
        logits.insert(logits.end(), part.begin(), part.end());
      }
      EXPECT_LE(max_abs_diff(logits, whole), mode.tolerance * scale) << mode.label << ", chunk " << chunk;
    }
  }
}

TEST_P(ModelSyntheticBatching, DecodeMatchesBatch) {
  // Prefill half the sequence, then decode the rest one token at a time, asking only for the last
  // row's logits as generation does.
  for (const BatchingMode& mode : kBatchingModes) {
    const Loaded& l = loaded(GetParam(), mode.type);
    const std::vector<float> whole = engine_logits(l, mode.exact);
    const double scale = compare(whole, l.reference).scale;
    const size_t n_vocab = static_cast<size_t>(l.model->hparams.n_vocab);
    const int n_prefill = kSeqLen / 2;
    Transformer transformer(*l.model, 2);
    transformer.set_exact_math(mode.exact);
    KVCache cache = transformer.make_cache();
    std::vector<float> logits;
    transformer.forward(Batch::from_tokens({l.tokens.begin(), l.tokens.begin() + n_prefill}, 0), cache, &logits);
    double max_diff = max_abs_diff(logits, rows(whole, n_vocab, n_prefill - 1, n_prefill));
    for (int t = n_prefill; t < kSeqLen; ++t) {
      transformer.forward(Batch::from_tokens({l.tokens[static_cast<size_t>(t)]}, t), cache, &logits);
      max_diff = std::max(max_diff, max_abs_diff(logits, rows(whole, n_vocab, t, t + 1)));
    }
    EXPECT_EQ(cache.next_position(), kSeqLen) << mode.label;
    EXPECT_LE(max_diff, mode.tolerance * scale) << mode.label;
  }
}

INSTANTIATE_TEST_SUITE_P(ModelSynthetic, ModelSyntheticBatching, ::testing::Values("gemma3", "llama", "qwen2", "qwen3"),
                         [](const auto& info) { return std::string(info.param); });

TEST(ModelSyntheticCache, SlidingWindowLayersKeepOnlyVisibleEntries) {
  // After a pass ending at position 39, the next query (position 40) attends to keys 33..40 in a
  // local layer with window 8, so the cache keeps positions 33..39: window − 1 entries. The global layer
  // (5) keeps all 40. Chunked prefill must end in the same state.
  const Loaded& l = loaded("gemma3", GgmlType::Q8_0);
  const HParams& hp = l.model->hparams;
  ASSERT_EQ(hp.sliding_window, 8);
  for (int chunk : {3, kSeqLen}) {
    Transformer transformer(*l.model, 2);
    KVCache cache = transformer.make_cache();
    std::vector<float> logits;
    for (int begin = 0; begin < kSeqLen; begin += chunk) {
      const int end = std::min(kSeqLen, begin + chunk);
      transformer.forward(Batch::from_tokens({l.tokens.begin() + begin, l.tokens.begin() + end}, begin), cache, &logits);
    }
    for (int il = 0; il < hp.n_layer; ++il) {
      const bool local = il % 6 < 5;
      EXPECT_EQ(cache.is_swa(il), local) << "layer " << il;
      const int expected = local ? hp.sliding_window - 1 : kSeqLen;
      ASSERT_EQ(cache.n_entries(il), expected) << "layer " << il << ", chunk " << chunk;
      for (int h = 0; h < hp.n_head_kv; ++h) {
        EXPECT_EQ(cache.positions(il, h)[0], kSeqLen - expected) << "layer " << il;
        EXPECT_EQ(cache.positions(il, h)[expected - 1], kSeqLen - 1) << "layer " << il;
      }
    }
    EXPECT_EQ(cache.bytes_global_layers(), size_t{1} * kSeqLen * hp.n_head_kv * hp.head_dim * 2 * sizeof(float));
    EXPECT_EQ(cache.bytes_swa_layers(),
              size_t{6} * (hp.sliding_window - 1) * hp.n_head_kv * hp.head_dim * 2 * sizeof(float));
  }
}

TEST(ModelSyntheticCache, GlobalOnlyModelsKeepEveryEntry) {
  for (const char* arch : {"llama", "qwen2", "qwen3"}) {
    const Loaded& l = loaded(arch, GgmlType::Q8_0);
    KVCache cache = empty_cache(l);
    engine_logits(l, /*exact=*/false, cache);
    for (int il = 0; il < l.model->hparams.n_layer; ++il) {
      EXPECT_FALSE(cache.is_swa(il)) << arch;
      EXPECT_EQ(cache.n_entries(il), kSeqLen) << arch << " layer " << il;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The reference itself: each deliberate mistake must move its logits far beyond the tolerance,
// or agreement with the engine would not show that the engine avoids that mistake.

TEST(ModelSyntheticReference, DeliberateMistakesMoveLogits) {
  struct Mutation {
    const char* arch;
    test::NaiveMutation mutation;
    const char* description;
  };
  const Mutation mutations[] = {
      {"gemma3", {.ignore_sliding_window = true}, "no sliding window"},
      {"gemma3", {.swap_rope_pairing = true}, "NORM RoPE on gemma3"},
      {"gemma3", {.global_rope_base_everywhere = true}, "RoPE base 1e6 in local layers"},
      {"llama", {.swap_rope_pairing = true}, "NEOX RoPE on llama"},
      {"qwen2", {.swap_rope_pairing = true}, "NORM RoPE on qwen2"},
      {"qwen3", {.swap_rope_pairing = true}, "NORM RoPE on qwen3"},
  };
  for (const Mutation& m : mutations) {
    const Loaded& l = loaded(m.arch, GgmlType::Q8_0);
    const NaiveLogits wrong = test::naive_forward(*l.model->file, l.tokens, m.mutation);
    std::vector<float> as_float(wrong.values.begin(), wrong.values.end());
    const Comparison c = compare(as_float, l.reference);
    EXPECT_GT(c.max_diff, 5 * kFastQuantTolerance * c.scale) << m.description;
  }
}

// ---------------------------------------------------------------------------------------------
// Files the loader must reject, each with an error that names the key or tensor at fault.

std::string load_error(const SyntheticModel& synthetic, const std::string& name) {
  TempFile file(name);
  synthetic.write(file.path());
  try {
    Model::load(file.path());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelSyntheticLoad, WellFormedModelsLoad) {
  for (const char* arch : {"gemma3", "llama", "qwen2", "qwen3"}) {
    EXPECT_EQ(load_error(SyntheticModel(test::synthetic_spec(arch, GgmlType::F32)), "ok.gguf"), "") << arch;
  }
}

TEST(ModelSyntheticLoad, RejectsUnknownArchitecture) {
  SyntheticModel m(test::synthetic_spec("llama", GgmlType::F32));
  m.spec().arch = "mamba9";
  const std::string error = load_error(m, "arch.gguf");
  EXPECT_NE(error.find("'mamba9'"), std::string::npos) << error;
}

TEST(ModelSyntheticLoad, RejectsMissingTensor) {
  SyntheticModel m(test::synthetic_spec("qwen2", GgmlType::F32));
  m.remove_tensor("blk.1.ffn_up.weight");
  const std::string error = load_error(m, "missing.gguf");
  EXPECT_NE(error.find("blk.1.ffn_up.weight"), std::string::npos) << error;
}

TEST(ModelSyntheticLoad, RejectsMissingGemmaNorm) {
  SyntheticModel m(test::synthetic_spec("gemma3", GgmlType::F32));
  m.remove_tensor("blk.2.attn_k_norm.weight");
  const std::string error = load_error(m, "missing_norm.gguf");
  EXPECT_NE(error.find("attn_k_norm"), std::string::npos) << error;
  EXPECT_NE(error.find("layer 2"), std::string::npos) << error;
}

TEST(ModelSyntheticLoad, RejectsWrongTensorShape) {
  // Transposed: the element count still matches, only the orientation is wrong.
  SyntheticModel m(test::synthetic_spec("llama", GgmlType::F32));
  test::SyntheticTensor& t = m.tensor("blk.0.attn_k.weight");
  ASSERT_EQ(t.shape, (std::vector<int64_t>{64, 32}));
  t.shape = {32, 64};
  const std::string error = load_error(m, "shape.gguf");
  EXPECT_NE(error.find("blk.0.attn_k.weight"), std::string::npos) << error;
  EXPECT_NE(error.find("[32, 64]"), std::string::npos) << error;
  EXPECT_NE(error.find("[64, 32]"), std::string::npos) << error;
}

TEST(ModelSyntheticLoad, RejectsWrongNormLength) {
  SyntheticModel m(test::synthetic_spec("qwen3", GgmlType::F32));
  test::SyntheticTensor& t = m.tensor("blk.1.attn_q_norm.weight");
  t.shape = {16};
  t.values.resize(16);
  const std::string error = load_error(m, "norm_shape.gguf");
  EXPECT_NE(error.find("blk.1.attn_q_norm.weight"), std::string::npos) << error;
}

TEST(ModelSyntheticLoad, RejectsUnsupportedTensorType) {
  // Q2_K has known geometry (the reader accepts the file) but no kernels. The wider K-quant
  // variant is used because Q2_K rows must be multiples of 256 elements.
  SyntheticModel m(test::synthetic_spec("llama", GgmlType::Q4_K));
  test::SyntheticTensor& t = m.tensor("blk.1.ffn_gate.weight");
  t.type = GgmlType::Q2_K;
  t.raw.assign(row_size(GgmlType::Q2_K, t.shape[0]) * static_cast<size_t>(t.shape[1]), 0);
  const std::string error = load_error(m, "q2k.gguf");
  EXPECT_NE(error.find("blk.1.ffn_gate.weight"), std::string::npos) << error;
  EXPECT_NE(error.find("Q2_K"), std::string::npos) << error;
}

TEST(ModelSyntheticLoad, RejectsIndivisibleHeadCounts) {
  SyntheticModel m(test::synthetic_spec("llama", GgmlType::F32));
  m.set_u32_override("llama.attention.head_count_kv", 3);
  const std::string error = load_error(m, "heads.gguf");
  EXPECT_NE(error.find("llama.attention.head_count_kv"), std::string::npos) << error;
}

TEST(ModelSyntheticLoad, RejectsGemmaWithoutSlidingWindow) {
  SyntheticModel m(test::synthetic_spec("gemma3", GgmlType::F32));
  m.spec().sliding_window = 0;
  const std::string error = load_error(m, "no_window.gguf");
  EXPECT_NE(error.find("gemma3.attention.sliding_window"), std::string::npos) << error;
}

}  // namespace
}  // namespace lkv
