// Token sequences of an evaluation prompt: the task template filled in, the optional chat
// template applied, and the context cut in the middle when the prompt would not fit.
//
// The prompt is kept as two sequences, context and question, whose concatenation is the whole
// prompt. In split mode the runner evicts after the context and prefills the question afterwards;
// otherwise it prefills both before evicting. Both modes see the same tokens.
#pragma once

#include <string>
#include <vector>

#include "eval/sample.h"
#include "eval/tasks.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace lkv::eval {

struct PromptTokens {
  std::vector<TokenId> context;   // BOS or chat header, then the context part
  std::vector<TokenId> question;  // question part, chat generation prefix, answer prefix
  int truncated_tokens = 0;       // context tokens dropped by middle truncation

  size_t size() const { return context.size() + question.size(); }
  std::vector<TokenId> joined() const;
};

struct PromptOptions {
  const ChatTemplate* chat = nullptr;  // null: plain text
  // Upper bound on size(); 0 for none. Prompts above it get their context cut in the middle
  // (when truncate) or are an error.
  int max_tokens = 0;
  bool truncate = true;
};

// The first keep − keep/2 and the last keep/2 of `ids`, as LongBench truncates prompts.
std::vector<TokenId> keep_head_and_tail(const std::vector<TokenId>& ids, size_t keep);

// Builds the prompt of one sample. When it exceeds options.max_tokens, the sample's raw context
// (not the template's instructions or the question) is cut in the middle, in tokens: the kept head
// and tail are decoded back to text and the prompt rebuilt, repeating until it fits. Throws
// lkv::Error when the prompt does not fit and truncation is off, or when even an empty context
// leaves it too long.
PromptTokens build_prompt(const EvalSample& sample, const TaskSpec& spec, const Tokenizer& tokenizer,
                          const PromptOptions& options);

// Marks where rendered chat text is split between two token sequences. It starts and ends with
// characters that no template trims (Python's str.strip() also removes control characters such as
// \x1e), so it survives as a message of its own.
extern const char* const kChatSplitMark;

// Text before and after kChatSplitMark; throws lkv::Error when the template dropped it.
std::pair<std::string, std::string> split_at_chat_mark(const std::string& rendered);

}  // namespace lkv::eval
