// `lookaheadkv train`: trains a LookaheadKV module on a prompt file (lookahead/trainer.h).
#include <spdlog/spdlog.h>

#include <memory>

#include "cli/commands.h"
#include "lookahead/trainer.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace lkv::cli {

namespace {

struct TrainArgs {
  std::string model;
  TrainOptions train;
  std::string targets = "all";
  std::string init = "token";
};

}  // namespace

Runner add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  TrainOptions& o = args->train;
  app.add_option("-m,--model", args->model, "GGUF model file")->required();
  app.add_option("--data", o.data, "Training prompts, JSON Lines with id, context and input (scripts/make_train_data.py)")
      ->required();
  app.add_option("--out", o.out, "Adapter file to write")->required();
  app.add_option("--ground-truth", o.ground_truth,
                 "Ground-truth store (default: next to --data, named after the model and --max-response)");

  app.add_flag("--chat", o.prompts.chat, "Render each prompt as a user turn of the model's chat template");
  app.add_option("--max-prompt-tokens", o.prompts.max_prompt_tokens, "Drop longer prompts")->capture_default_str();
  app.add_option("--max-response", o.max_response, "T: longest answer used for the ground truth")->capture_default_str();

  app.add_option("--lookahead", o.config.n_lookahead, "m: lookahead tokens")->capture_default_str();
  app.add_option("--rank", o.config.rank, "LoRA rank r")->capture_default_str();
  app.add_option("--alpha", o.config.alpha, "LoRA alpha (the update is scaled by alpha / rank)")->capture_default_str();
  app.add_option("--targets", args->targets, "Projections with LoRA: all, or a list of q,k,v,o,gate,up,down")
      ->capture_default_str();
  app.add_option("--init", args->init, "Lookahead embedding initialization: token (rows of the embedding table) or random")
      ->capture_default_str();

  app.add_option("--epochs", o.epochs, "Passes over the training prompts")->capture_default_str();
  app.add_option("--batch", o.batch, "Prompts per optimizer step")->capture_default_str();
  app.add_option("--lr", o.lr, "Peak learning rate (AdamW, warm-up then cosine decay)")->capture_default_str();
  app.add_option("--warmup", o.warmup, "Fraction of the steps spent warming up")->capture_default_str();
  app.add_option("--min-lr-ratio", o.min_lr_ratio, "Final learning rate as a fraction of the peak")->capture_default_str();
  app.add_option("--weight-decay", o.weight_decay, "AdamW decoupled weight decay")->capture_default_str();
  app.add_option("--clip", o.clip, "Global gradient-norm limit (0: no clipping)")->capture_default_str();
  app.add_option("--val-fraction", o.val_fraction, "Fraction of the prompts held out for validation")->capture_default_str();
  app.add_option("--checkpoint-every", o.checkpoint_every, "Optimizer steps between checkpoints")->capture_default_str();

  app.add_option("--stop-after", o.stop_after, "Stop after this many steps (a checkpoint is written); continue with --resume");
  app.add_flag("--resume", o.resume, "Continue from OUT.ckpt.gguf and OUT.ckpt.state when they exist");
  app.add_option("--seed", o.seed, "Seed of the split, the initialization and the order")->capture_default_str();
  app.add_option("--cache-memory", o.cache_memory_gib, "GiB of prompt KV caches kept between epochs")->capture_default_str();
  app.add_option("-t,--threads", o.threads, "Worker threads")->capture_default_str()->check(CLI::PositiveNumber);

  return [args] {
    TrainOptions o = args->train;
    o.config.targets = parse_lora_targets(args->targets);
    if (args->init == "token") {
      o.config.embedding_init = EmbeddingInit::TokenEmbeddings;
    } else if (args->init == "random") {
      o.config.embedding_init = EmbeddingInit::Random;
    } else {
      fail("--init {} is invalid; use token or random", args->init);
    }
    o.command = command_line();
    auto model = Model::load(args->model);
    auto tokenizer = Tokenizer::from_gguf(*model->file);
    train_lookahead(*model, *tokenizer, o);
    return 0;
  };
}

Runner add_adapter_info(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto model_path = std::make_shared<std::string>();
  app.add_option("file", *path, "LookaheadKV adapter file")->required();
  app.add_option("-m,--model", *model_path, "Also check that the adapter fits this model");
  return [path, model_path] {
    const LookaheadAdapter adapter = LookaheadAdapter::load(*path);
    std::fputs(adapter.describe().c_str(), stdout);
    if (!model_path->empty()) {
      auto model = Model::load(*model_path);
      adapter.check_compatible(*model, true, *path);
      std::printf("fits %s\n", model_path->c_str());
    }
    return 0;
  };
}

}  // namespace lkv::cli
