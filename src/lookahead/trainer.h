// The LookaheadKV trainer (DESIGN.md §6): ground truth once per prompt, then AdamW on the mean KL
// loss of mini-batches, with a held-out validation split, checkpoints and resume.
//
// Data flow per prompt: a prefill with the base model (fast path), then the model's own greedy
// response and its attention over the prompt, which is the target stored in a GroundTruthStore.
// The prompt's KV cache stays in memory up to a limit and every epoch reuses it. Prompts beyond
// the limit are prefilled again when their turn comes.
// Determinism: the split, the initialization and each epoch's order derive from the seed, and
// gradients of a mini-batch are summed in a fixed order, so a seed gives the same module and a
// resumed run continues exactly where the checkpoint was written.
#pragma once

#include <cstdint>
#include <string>

#include "lookahead/adapter.h"
#include "lookahead/train_data.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace lkv {

struct TrainOptions {
  std::string data;             // prompts, JSON Lines (train_data.h)
  std::string out;              // adapter file written at the end
  std::string ground_truth;     // store path; empty: next to `data`, named after the model and T
  TrainPromptOptions prompts;
  int max_response = 128;       // T
  LookaheadConfig config;
  uint64_t seed = 1;
  int epochs = 4;
  int batch = 4;                // prompts per optimizer step
  double lr = 2e-3;             // peak learning rate
  double warmup = 0.05;         // fraction of the steps spent warming up
  double min_lr_ratio = 0.1;    // final learning rate / peak
  double weight_decay = 0.0;
  double clip = 1.0;            // global gradient norm limit; 0 turns clipping off
  double val_fraction = 0.15;   // prompts held out for validation
  int checkpoint_every = 20;    // optimizer steps between checkpoints (and at every epoch's end)
  bool resume = false;          // continue from out + ".ckpt" files when they exist
  int64_t stop_after = 0;       // stop (after a checkpoint) once this run made so many steps; 0: run to the end
  int threads = 2;
  int prefill_chunk = 512;
  double cache_memory_gib = 6.0;  // prompt KV caches kept in memory across epochs
  std::string command;          // recorded in the adapter's training summary
};

struct TrainResult {
  TrainingSummary summary;
  double initial_val_loss = 0.0;
  int n_train = 0, n_val = 0;
  double ground_truth_seconds = 0.0;
};

// Trains a module and writes it to options.out. Throws lkv::Error for invalid options (naming the
// flag), unreadable data, or a checkpoint that does not fit the model or configuration.
TrainResult train_lookahead(const Model& model, const Tokenizer& tokenizer, const TrainOptions& options);

}  // namespace lkv
