#include "eval/prompt.h"

#include "util/error.h"

namespace lkv::eval {
namespace {

// Retokenizing the decoded head and tail may give a few more tokens than were kept, so each retry
// cuts this many extra tokens on top of the measured excess.
constexpr size_t kRetrySlack = 8;
constexpr int kMaxTruncationRounds = 6;

PromptTokens encode_prompt(const PromptText& text, const Tokenizer& tokenizer, const ChatTemplate* chat) {
  PromptTokens tokens;
  if (!chat) {
    tokens.context = tokenizer.encode(text.context, true, false);
    tokens.question = tokenizer.encode(text.question + text.answer_prefix, false, false);
    return tokens;
  }
  const std::vector<ChatMessage> messages = {{"user", text.context + kChatSplitMark + text.question}};
  const auto [before, after] = split_at_chat_mark(render_chat(*chat, messages, true));
  // After the assistant's generation prefix the answer prefix starts a new line of its own.
  const size_t start = text.answer_prefix.find_first_not_of(" \n");
  const std::string prefix = start == std::string::npos ? "" : text.answer_prefix.substr(start);
  tokens.context = tokenizer.encode(before, false, true);
  tokens.question = tokenizer.encode(after + prefix, false, true);
  return tokens;
}

// Drops the bytes of a multi-byte UTF-8 character that a token cut split: an incomplete last
// character of `head` and continuation bytes at the start of `tail`.
std::string drop_split_character_end(std::string head) {
  size_t back = 0;
  for (size_t i = head.size(); i > 0 && back < 4; --i, ++back) {
    const auto c = static_cast<unsigned char>(head[i - 1]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead byte
    const size_t need = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (back + 1 < need) head.resize(i - 1);
    break;
  }
  return head;
}

std::string drop_split_character_start(const std::string& tail) {
  size_t start = 0;
  while (start < tail.size() && start < 3 && (static_cast<unsigned char>(tail[start]) & 0xC0) == 0x80) ++start;
  return tail.substr(start);
}

}  // namespace

const char* const kChatSplitMark = "<<LKV-SPLIT-6b1f>>";

std::pair<std::string, std::string> split_at_chat_mark(const std::string& rendered) {
  const size_t at = rendered.find(kChatSplitMark);
  if (at == std::string::npos) fail("the chat template dropped the split marker; this template cannot be split");
  return {rendered.substr(0, at), rendered.substr(at + std::string(kChatSplitMark).size())};
}

std::vector<TokenId> PromptTokens::joined() const {
  std::vector<TokenId> all = context;
  all.insert(all.end(), question.begin(), question.end());
  return all;
}

std::vector<TokenId> keep_head_and_tail(const std::vector<TokenId>& ids, size_t keep) {
  if (keep >= ids.size()) return ids;
  const size_t tail = keep / 2;
  const size_t head = keep - tail;
  std::vector<TokenId> out(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(head));
  out.insert(out.end(), ids.end() - static_cast<std::ptrdiff_t>(tail), ids.end());
  return out;
}

PromptTokens build_prompt(const EvalSample& sample, const TaskSpec& spec, const Tokenizer& tokenizer,
                          const PromptOptions& options) {
  PromptTokens tokens = encode_prompt(fill_prompt(spec, sample, sample.context), tokenizer, options.chat);
  const size_t limit = options.max_tokens > 0 ? static_cast<size_t>(options.max_tokens) : 0;
  if (limit == 0 || tokens.size() <= limit) return tokens;
  if (!options.truncate) {
    fail("sample {} has a prompt of {} tokens, above the limit of {}; raise -c or use a shorter task length", sample.id,
         tokens.size(), limit);
  }

  const std::vector<TokenId> context_ids = tokenizer.encode(sample.context, false, false);
  size_t keep = context_ids.size();
  for (int round = 0; round < kMaxTruncationRounds; ++round) {
    const size_t excess = tokens.size() - limit + (round > 0 ? kRetrySlack * round : 0);
    if (excess >= keep) {
      fail("sample {}: the template and question alone need about {} tokens, more than the limit of {}; raise -c",
           sample.id, tokens.size() - keep, limit);
    }
    keep -= excess;
    const std::vector<TokenId> kept = keep_head_and_tail(context_ids, keep);
    const size_t tail = keep / 2;
    const std::vector<TokenId> head_ids(kept.begin(), kept.end() - static_cast<std::ptrdiff_t>(tail));
    const std::vector<TokenId> tail_ids(kept.end() - static_cast<std::ptrdiff_t>(tail), kept.end());
    const std::string context =
        drop_split_character_end(tokenizer.decode(head_ids)) + drop_split_character_start(tokenizer.decode(tail_ids));
    tokens = encode_prompt(fill_prompt(spec, sample, context), tokenizer, options.chat);
    tokens.truncated_tokens = static_cast<int>(context_ids.size() - keep);
    if (tokens.size() <= limit) return tokens;
  }
  fail("sample {}: middle truncation did not bring the prompt under {} tokens after {} rounds", sample.id, limit,
       kMaxTruncationRounds);
}

}  // namespace lkv::eval
