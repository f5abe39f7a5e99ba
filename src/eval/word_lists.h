// Built-in vocabularies for the synthetic tasks: needle keys, common-word lists and the names and
// facts planted in question-answering passages. Compiled in, so generation needs no data files.
#pragma once

#include <string_view>
#include <vector>

namespace lkv::eval {

// Common English nouns, adjectives and verbs. No word appears in more than one list, so their
// concatenation has no duplicates.
const std::vector<std::string_view>& common_nouns();
const std::vector<std::string_view>& common_adjectives();
const std::vector<std::string_view>& common_verbs();

const std::vector<std::string_view>& first_names();
const std::vector<std::string_view>& surnames();

// A property that a planted fact gives a person ("The hometown of Ada Quint is Lisbon."), with the
// values it may take. Values of one attribute are distinct.
struct FactAttribute {
  std::string_view object;  // "hometown"
  std::vector<std::string_view> values;
};
const std::vector<FactAttribute>& fact_attributes();

}  // namespace lkv::eval
