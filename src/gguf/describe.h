// Human-readable listing of a GGUF file, for `lookaheadkv inspect` and test logs.
#pragma once

#include <map>
#include <string>

#include "gguf/reader.h"

namespace lkv::gguf {

// Lists the header, every metadata entry in file order (strings longer than 120 bytes and arrays
// longer than 8 elements are cut, with their full size shown), every tensor (name, type, shape,
// bytes, offset) and the per-type tensor histogram. One item per line.
std::string describe(const File& file);

// Number of tensors of each type, keyed by type name ("Q8_0").
std::map<std::string, size_t> type_histogram(const File& file);

// Formats one metadata value the way describe() does.
std::string format_value(const Value& value);

}  // namespace lkv::gguf
