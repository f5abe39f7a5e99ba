// The LookaheadKV trainer on tiny synthetic models: the ground-truth store (round trip, an
// interrupted write, another model's file), prompt-file errors, and training itself: the loss
// falls, a seed gives the same module twice, and a run stopped and resumed from its checkpoint
// ends bit-identical to an uninterrupted one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lookahead/trainer.h"
#include "lookahead_test_util.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace lkv {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("lkv_trainer_" + name)).string();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

GroundTruthRecord record(const std::string& id, int n) {
  GroundTruthRecord r;
  r.id = id;
  r.prompt_hash = prompt_hash({1, 2, n});
  r.response = {5, 6, 7};
  r.stopped = true;
  r.target.layers = {0, 2};
  r.target.n_head_kv = 2;
  r.target.n_entries = {n, n};
  for (int k = 0; k < 2; ++k) {
    std::vector<float> g(static_cast<size_t>(2 * n), 1.0f / static_cast<float>(n));
    r.target.g.push_back(g);
  }
  return r;
}

TEST(GroundTruthStore, RoundTripAndPartialRecord) {
  const std::string path = temp_path("store.gt");
  std::filesystem::remove(path);
  {
    GroundTruthStore store(path, "fnv1a64:1", 64);
    store.add(record("a", 5));
    store.add(record("b", 7));
  }
  const auto size_two = std::filesystem::file_size(path);
  {
    GroundTruthStore store(path, "fnv1a64:1", 64);
    ASSERT_EQ(store.size(), 2u);
    const GroundTruthRecord* b = store.find("b", prompt_hash({1, 2, 7}));
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->response, (std::vector<int32_t>{5, 6, 7}));
    EXPECT_TRUE(b->stopped);
    EXPECT_EQ(b->target.n_entries, (std::vector<int>{7, 7}));
    EXPECT_EQ(b->target.g[1].size(), 14u);
    EXPECT_EQ(store.find("b", prompt_hash({1, 2, 8})), nullptr);  // another prompt under the same id
    store.add(record("c", 3));
  }
  // Cut the last record in half, as a killed run would leave it.
  std::filesystem::resize_file(path, size_two + 20);
  {
    GroundTruthStore store(path, "fnv1a64:1", 64);
    EXPECT_EQ(store.size(), 2u);
    EXPECT_EQ(store.find("c", prompt_hash({1, 2, 3})), nullptr);
    store.add(record("c", 3));
  }
  GroundTruthStore again(path, "fnv1a64:1", 64);
  EXPECT_EQ(again.size(), 3u);

  EXPECT_NE(error_of([&] { GroundTruthStore other(path, "fnv1a64:2", 64); }).find("delete it"), std::string::npos);
  EXPECT_NE(error_of([&] { GroundTruthStore other(path, "fnv1a64:1", 128); }).find("response limit 64"), std::string::npos);
  const std::string junk = temp_path("junk.gt");
  write_file(junk, "not a ground truth file");
  EXPECT_NE(error_of([&] { GroundTruthStore other(junk, "fnv1a64:1", 64); }).find("not a ground-truth file"),
            std::string::npos);
  std::filesystem::remove(path);
  std::filesystem::remove(junk);
}

TEST(TrainPrompts, FileErrors) {
  test::TinyModel tiny = test::tiny_model("llama", GgmlType::F32, "prompts");
  auto tok = Tokenizer::from_gguf(*tiny.model->file);
  const std::string path = temp_path("prompts.jsonl");
  const TrainPromptOptions opts;
  auto error_for = [&](const std::string& text) {
    write_file(path, text);
    return error_of([&] { load_train_prompts(path, *tiny.model, *tok, opts); });
  };
  const std::string good = R"({"id": "x", "context": "p3 p4", "input": "p5"})";
  EXPECT_NE(error_for(good + "\n{\"id\": \n").find("line 2: invalid JSON"), std::string::npos);
  EXPECT_NE(error_for(R"({"id": "x", "context": "p3"})").find("field \"input\" is missing"), std::string::npos);
  EXPECT_NE(error_for(R"({"id": 3, "context": "p3", "input": "p4"})").find("field \"id\" is not a string"),
            std::string::npos);
  EXPECT_NE(error_for(good + "\n" + good + "\n").find("appears twice"), std::string::npos);
  EXPECT_NE(error_for("\n\n").find("no usable prompts"), std::string::npos);
  EXPECT_NE(error_of([&] { load_train_prompts(temp_path("absent.jsonl"), *tiny.model, *tok, opts); })
                .find("make_train_data.py"),
            std::string::npos);
  write_file(path, good + "\n");
  const auto prompts = load_train_prompts(path, *tiny.model, *tok, opts);
  ASSERT_EQ(prompts.size(), 1u);
  EXPECT_EQ(prompts[0].tokens.front(), tok->bos());
  std::filesystem::remove(path);
}

// Six prompts of 12-30 placeholder words.
std::string tiny_prompt_file(const std::string& name) {
  const std::string path = temp_path(name);
  std::ofstream out(path);
  Rng rng(7);
  for (int i = 0; i < 6; ++i) {
    std::string context;
    const int n = 12 + static_cast<int>(rng.below(19));
    for (int w = 0; w < n; ++w) context += fmt::format("p{} ", 3 + rng.below(70));
    out << fmt::format(R"({{"id": "t{}", "context": "{}", "input": "p{}"}})", i, context, 3 + rng.below(70)) << "\n";
  }
  return path;
}

TrainOptions tiny_options(const std::string& data, const std::string& out) {
  TrainOptions o;
  o.data = data;
  o.out = out;
  o.ground_truth = out + ".gt";
  o.max_response = 6;
  o.config.n_lookahead = 4;
  o.config.rank = 2;
  o.config.alpha = 4.0f;
  o.epochs = 3;
  o.batch = 2;
  o.lr = 2e-2;
  o.val_fraction = 0.34;
  o.threads = 1;
  o.seed = 11;
  return o;
}

void remove_outputs(const std::string& out) {
  for (const char* suffix : {"", ".gt", ".ckpt.gguf", ".ckpt.state"}) std::filesystem::remove(out + suffix);
}

class TrainerArch : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainerArch, LearnsDeterministicallyAndResumes) {
  test::TinyModel tiny = test::tiny_model(GetParam(), GgmlType::F32, "trainer");
  auto tok = Tokenizer::from_gguf(*tiny.model->file);
  const std::string data = tiny_prompt_file("data_" + GetParam() + ".jsonl");
  const std::string out_a = temp_path("a_" + GetParam() + ".gguf");
  const std::string out_b = temp_path("b_" + GetParam() + ".gguf");
  remove_outputs(out_a);
  remove_outputs(out_b);

  const TrainResult a = train_lookahead(*tiny.model, *tok, tiny_options(data, out_a));
  EXPECT_EQ(a.n_val, 2);
  EXPECT_GT(a.n_train, 0);
  EXPECT_LT(a.summary.val_loss, a.initial_val_loss);
  EXPECT_GT(a.summary.steps, 0);

  // Interrupted after two steps, then resumed: the same module, bit for bit.
  TrainOptions stopped = tiny_options(data, out_b);
  stopped.stop_after = 2;
  stopped.checkpoint_every = 100;  // the stop itself writes the checkpoint
  train_lookahead(*tiny.model, *tok, stopped);
  EXPECT_TRUE(std::filesystem::exists(out_b + ".ckpt.gguf"));
  EXPECT_FALSE(std::filesystem::exists(out_b));
  TrainOptions resumed = tiny_options(data, out_b);
  resumed.resume = true;
  const TrainResult b = train_lookahead(*tiny.model, *tok, resumed);
  const LookaheadAdapter ma = LookaheadAdapter::load(out_a);
  const LookaheadAdapter mb = LookaheadAdapter::load(out_b);
  EXPECT_EQ(ma.embeddings, mb.embeddings);
  for (size_t l = 0; l < ma.lora.layers.size(); ++l) {
    for (size_t p = 0; p < ma.lora.layers[l].size(); ++p) {
      EXPECT_EQ(ma.lora.layers[l][p].a, mb.lora.layers[l][p].a) << "layer " << l;
      EXPECT_EQ(ma.lora.layers[l][p].b, mb.lora.layers[l][p].b) << "layer " << l;
    }
  }
  EXPECT_EQ(a.summary.val_loss, b.summary.val_loss);
  EXPECT_EQ(ma.training.steps, a.summary.steps);

  // A different seed gives a different module.
  remove_outputs(out_b);
  TrainOptions other = tiny_options(data, out_b);
  other.seed = 12;
  train_lookahead(*tiny.model, *tok, other);
  EXPECT_NE(LookaheadAdapter::load(out_b).embeddings, ma.embeddings);

  remove_outputs(out_a);
  remove_outputs(out_b);
  std::filesystem::remove(data);
}

INSTANTIATE_TEST_SUITE_P(Archs, TrainerArch, ::testing::Values("llama", "gemma3"));

TEST(Trainer, OptionErrors) {
  test::TinyModel tiny = test::tiny_model("llama", GgmlType::F32, "trainer_opts");
  auto tok = Tokenizer::from_gguf(*tiny.model->file);
  TrainOptions o = tiny_options(temp_path("unused.jsonl"), temp_path("unused.gguf"));
  o.epochs = 0;
  EXPECT_NE(error_of([&] { train_lookahead(*tiny.model, *tok, o); }).find("--epochs 0"), std::string::npos);
  o = tiny_options(temp_path("unused.jsonl"), temp_path("unused.gguf"));
  o.val_fraction = 1.0;
  EXPECT_NE(error_of([&] { train_lookahead(*tiny.model, *tok, o); }).find("--val-fraction"), std::string::npos);
}

}  // namespace
}  // namespace lkv
