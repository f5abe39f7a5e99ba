// Variable tracking (RULER's multi-hop tracing task): a chain of assignments "VAR B = VAR A"
// starting from "VAR A = 12345" is hidden in filler sentences. The expected answer is every
// variable that ends up holding the value. A short solved example with its own chain comes first.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "eval/ruler_tasks.h"

namespace lkv::eval {
namespace {

constexpr int kHops = 4;               // assignments after the first: kHops + 1 variables
constexpr int kNameLength = 5;         // letters per variable name
constexpr int kExampleSentences = 12;  // filler sentences in the solved example

std::string random_name(Rng& rng, std::set<std::string>& used) {
  for (;;) {
    std::string name;
    for (int i = 0; i < kNameLength; ++i) name += static_cast<char>('A' + rng.below(26));
    if (used.insert(name).second) return name;
  }
}

struct Chain {
  std::vector<std::string> names;  // names[0] gets the value, names[i] copies names[i - 1]
  std::string value;

  std::vector<std::string> statements() const {
    std::vector<std::string> out = {fmt::format("VAR {} = {}.", names[0], value)};
    for (size_t i = 1; i < names.size(); ++i) out.push_back(fmt::format("VAR {} = VAR {}.", names[i], names[i - 1]));
    return out;
  }
};

Chain random_chain(Rng& rng, std::set<std::string>& used_names, const std::string& avoid_value) {
  Chain chain;
  for (int i = 0; i <= kHops; ++i) chain.names.push_back(random_name(rng, used_names));
  do {
    chain.value = std::to_string(random_between(rng, 10000, 99999));
  } while (chain.value == avoid_value);
  return chain;
}

// Filler sentences with the chain's statements at sorted random positions, in chain order.
std::string hide_chain(const Chain& chain, int64_t sentences, Rng& rng) {
  std::vector<std::string> filler(static_cast<size_t>(sentences));
  for (size_t i = 0; i < filler.size(); ++i) filler[i] = filler_sentences()[i % filler_sentences().size()];
  std::vector<size_t> positions;
  for (size_t i = 0; i < chain.names.size(); ++i) positions.push_back(rng.below(filler.size() + 1));
  std::sort(positions.begin(), positions.end());
  std::vector<Insert> inserts;
  const std::vector<std::string> statements = chain.statements();
  for (size_t i = 0; i < statements.size(); ++i) inserts.push_back({positions[i], statements[i]});
  return join_with_inserts(filler, std::move(inserts), " ");
}

constexpr const char* kPreamble =
    "Follow the chains of variable assignments hidden in the text below and remember them.";

std::string question(const Chain& chain) {
  return fmt::format("Question: Which variables are assigned the value {} in the text above? Find all of them.",
                     chain.value);
}

std::string answer_prefix(const Chain& chain) {
  return fmt::format(
      "Answer: Following the chains of assignments in the text above, {} variables are assigned "
      "the value {}. They are:",
      chain.names.size(), chain.value);
}

BuiltSample build_vt(const TaskInput& input, int64_t units) {
  Rng rng(input.seed);
  std::set<std::string> used_names;
  const Chain chain = random_chain(rng, used_names, "");
  const Chain example = random_chain(rng, used_names, chain.value);
  Rng example_rng(mix_seed(input.seed, 1));
  Rng positions_rng(mix_seed(input.seed, 2));

  const std::string solved_example =
      fmt::format("{}\n\n{}\n{} {} {}", kPreamble, hide_chain(example, kExampleSentences, example_rng),
                  question(example), answer_prefix(example), join(example.names, " "));
  BuiltSample built;
  EvalSample& sample = built.sample;
  sample.context = solved_example + "\n\n" + kPreamble + "\n\n" + hide_chain(chain, units, positions_rng);
  sample.input = question(chain);
  sample.answer_prefix = answer_prefix(chain);
  sample.answers = chain.names;
  return built;
}

}  // namespace

RulerTask variable_tracking_task() {
  RulerTask task;
  task.name = "vt";
  task.max_new_tokens = 30;
  task.metric = "string_match_all";
  task.build = build_vt;
  return task;
}

}  // namespace lkv::eval
