// Training examples for the LookaheadKV module: prompts read from JSON Lines, and their ground
// truth stored in a file so that later runs and resumed runs reuse it.
//
// Prompt file: one JSON object per line with `id`, `context` and `input` (and optional `kind`),
// as scripts/make_train_data.py writes. The prompt is the context, a blank line and the input,
// either as one user turn of the model's chat template or as plain text after BOS.
//
// Ground-truth file: binary, little-endian. A header ("LKVGT001", the model fingerprint and the
// response limit T), then one record per example: its id, a hash of its prompt tokens, the
// response, and the target (per evicted layer, n_head_kv rows over the prompt entries). Records
// are appended and flushed one at a time, so an interrupted run keeps what it computed and a
// truncated last record is dropped on reading.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "lookahead/loss.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace lkv {

struct TrainPrompt {
  std::string id;
  std::string kind;
  std::vector<int32_t> tokens;
};

struct TrainPromptOptions {
  bool chat = false;            // render as a user turn of the model's chat template
  int max_prompt_tokens = 2560; // longer prompts are dropped (counted and logged)
};

// Reads, renders and tokenizes the prompts. Throws lkv::Error naming the file and line for
// malformed JSON, a missing or non-string field, a duplicate id, or a file without prompts.
std::vector<TrainPrompt> load_train_prompts(const std::string& path, const Model& model, const Tokenizer& tokenizer,
                                            const TrainPromptOptions& options);

// FNV-1a over the token ids; identifies the prompt a stored record belongs to.
uint64_t prompt_hash(const std::vector<int32_t>& tokens);

struct GroundTruthRecord {
  std::string id;
  uint64_t prompt_hash = 0;
  std::vector<int32_t> response;
  bool stopped = false;
  ImportanceTarget target;
};

class GroundTruthStore {
 public:
  // Opens (creating when absent) the store at path for this model fingerprint and response
  // limit. Throws lkv::Error when an existing file belongs to another model or limit, naming both
  // and the fix (delete the file or pass another --ground-truth path).
  GroundTruthStore(const std::string& path, const std::string& fingerprint, int max_response);
  ~GroundTruthStore();
  GroundTruthStore(const GroundTruthStore&) = delete;
  GroundTruthStore& operator=(const GroundTruthStore&) = delete;

  // The stored record for id when its prompt hash matches, else nullptr. The pointer is valid
  // until the next add().
  const GroundTruthRecord* find(const std::string& id, uint64_t hash) const;
  // Appends a record and flushes it to disk.
  void add(GroundTruthRecord record);
  size_t size() const { return records_.size(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* out_ = nullptr;
  std::vector<GroundTruthRecord> records_;
  std::unordered_map<std::string, size_t> by_id_;
};

}  // namespace lkv
