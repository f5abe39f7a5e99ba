// MT-Bench: 80 two-turn questions (FastChat's question.jsonl, installed into data/mtbench/ by
// scripts/fetch_mtbench.sh), run on a chat model with the cache evicted after each user turn.
//
// There is no judge model here. A policy is scored by how closely its answers agree with the
// full-cache answers of the same conversation: ROUGE-L and exact token match per turn, where each
// policy's second turn continues its own first answer.
#pragma once

#include <string>
#include <vector>

#include "eval/dataset.h"
#include "eval/sample.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace lkv::eval {

// Where scripts/fetch_mtbench.sh puts the questions, relative to the repository root.
constexpr const char* kMtBenchDefaultPath = "data/mtbench/question.jsonl";

// Tokens generated per turn unless the user sets another limit. FastChat allows 1024; answers cut
// at 256 tokens still show whether a policy follows the full-cache answer, at a quarter of the
// decode time.
constexpr int kMtBenchMaxNewTokens = 256;

// Loads question.jsonl: objects with `question_id` (integer), `category` (string) and `turns` (a
// non-empty array of non-empty strings). Samples get task "mt_bench", id
// "mt_bench-<question_id>-<category>", the turns, and metric "full_cache_agreement". Throws
// lkv::Error for a missing file (naming scripts/fetch_mtbench.sh) and, under BadLineAction::Stop,
// for a bad line as "FILE:LINE: message".
std::vector<EvalSample> load_mtbench(const std::string& path, BadLineAction on_bad_line);

// The prompt tokens of each user turn. Turn 0 is the whole rendered conversation up to the
// assistant's generation prefix; turn k > 0 is what the chat template puts after the previous
// assistant answer: its end-of-turn text, the next user turn and the generation prefix.
std::vector<std::vector<TokenId>> mtbench_turn_tokens(const EvalSample& sample, const ChatTemplate& chat,
                                                      const Tokenizer& tokenizer);

}  // namespace lkv::eval
