// Haystack text for the synthetic tasks: the prose that hides needles and question-answering
// passages, and the repeated filler sentences of the noise-only tasks.
//
// Prose comes from public texts fetched by scripts/fetch_haystacks.sh (Paul Graham's essays, Newton's
// Opticks, the King James Bible) or, when no source is given, from built-in sentences. It is held as
// one sequence of whitespace-separated words read as a cycle, so a sample can start anywhere and
// take any number of words.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/ruler.h"

namespace lkv::eval {

class Haystack {
 public:
  // Loads *.txt in sources.essays_dir (sorted by file name), then each of sources.book_paths in
  // order. With both empty, uses the built-in prose. Throws lkv::Error naming a missing path and
  // the fix (run scripts/fetch_haystacks.sh), or a source folder without text.
  static Haystack load(const HaystackSources& sources);

  // Built-in prose only.
  static Haystack builtin();

  size_t size() const { return words_.size(); }  // words in one cycle
  bool is_builtin() const { return builtin_; }

  // Word `index` modulo size().
  std::string_view word(uint64_t index) const;
  // True when word `index` ends a sentence (ends with '.', '!' or '?', maybe followed by quotes
  // or brackets).
  bool ends_sentence(uint64_t index) const;
  // The first index >= `index` where a sentence starts, looking at most max_scan words ahead;
  // `index` itself when none is found.
  uint64_t next_sentence_start(uint64_t index, uint64_t max_scan) const;
  // A sentence start near `index` in [lowest, highest], where `lowest` counts as one: the first
  // at most max_scan words ahead, else the last at most max_scan words back, else `index`.
  uint64_t sentence_start_near(uint64_t index, uint64_t lowest, uint64_t highest, uint64_t max_scan) const;
  // `count` words from `start`, wrapping at the end, joined by single spaces.
  std::string text(uint64_t start, uint64_t count) const;

 private:
  struct Span {
    uint32_t begin;
    uint32_t length;
  };
  void add_text(std::string_view text);

  std::string buffer_;  // the words back to back
  std::vector<Span> words_;
  bool builtin_ = false;
};

// Sources in the layout scripts/fetch_haystacks.sh writes: DIR/essays/*.txt, DIR/opticks.txt and
// DIR/kjv.txt.
HaystackSources haystack_sources_in(const std::string& dir);

// Throws lkv::Error when a path in `sources` does not exist, naming it and the fix.
void check_haystack_sources(const HaystackSources& sources);

// Short plain sentences repeated as noise around needles (niah_single_1) and variable assignments
// (vt): they carry no information the question could depend on.
const std::vector<std::string>& filler_sentences();

}  // namespace lkv::eval
