// Text listing of a GGUF file. See describe.h.
#include "gguf/describe.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace lkv::gguf {
namespace {

constexpr size_t kMaxStringBytes = 120;
constexpr size_t kMaxArrayElements = 8;

// Quotes a string with C-style escapes for control bytes, so a chat template stays on one line.
std::string quote_string(const std::string& s) {
  std::string out = "\"";
  const size_t kept = std::min(s.size(), kMaxStringBytes);
  for (size_t i = 0; i < kept; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);  // UTF-8 bytes pass through; a cut may split a character
        }
    }
  }
  out += '"';
  if (s.size() > kept) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

// Prints integers stored as double without a fraction, so token ids read as ids.
std::string format_number(double x, ValueType type) {
  if (type == ValueType::FLOAT32) return fmt::format("{}", static_cast<float>(x));  // shortest float form
  if (type == ValueType::FLOAT64) return fmt::format("{}", x);
  if (type == ValueType::BOOL) return x != 0.0 ? "true" : "false";
  return fmt::format("{:.0f}", x);
}

}  // namespace

std::string format_value(const Value& v) {
  switch (v.type) {
    case ValueType::UINT8:
    case ValueType::UINT16:
    case ValueType::UINT32:
    case ValueType::UINT64:
      return fmt::format("{}", v.u64);
    case ValueType::INT8:
    case ValueType::INT16:
    case ValueType::INT32:
    case ValueType::INT64:
      return fmt::format("{}", v.i64);
    case ValueType::FLOAT32:
      return fmt::format("{}", static_cast<float>(v.f64));
    case ValueType::FLOAT64:
      return fmt::format("{}", v.f64);
    case ValueType::BOOL:
      return v.u64 != 0 ? "true" : "false";
    case ValueType::STRING:
      return quote_string(v.str);
    case ValueType::ARRAY:
      break;
  }
  std::vector<std::string> items;
  const size_t n = v.array_type == ValueType::STRING ? v.strings.size() : v.numbers.size();
  for (size_t i = 0; i < n && i < kMaxArrayElements; ++i) {
    items.push_back(v.array_type == ValueType::STRING ? quote_string(v.strings[i])
                                                      : format_number(v.numbers[i], v.array_type));
  }
  if (n > kMaxArrayElements) items.push_back(fmt::format("... {} more", n - kMaxArrayElements));
  return fmt::format("[{}]", fmt::join(items, ", "));
}

std::map<std::string, size_t> type_histogram(const File& file) {
  std::map<std::string, size_t> counts;
  for (const auto& t : file.tensors()) ++counts[type_name(t.type_id)];
  return counts;
}

std::string describe(const File& file) {
  std::string out = fmt::format("{}: GGUF v{}, {} bytes, alignment {}, {} metadata entries, {} tensors\n",
                                file.path(), file.version(), file.file_size(), file.alignment(),
                                file.keys().size(), file.tensors().size());
  out += "metadata:\n";
  for (const auto& key : file.keys()) {
    const Value& v = *file.find(key);
    std::string type = value_type_name(v.type);
    if (v.type == ValueType::ARRAY) {
      type = fmt::format("{}[{}]", value_type_name(v.array_type), v.array_size);
    }
    out += fmt::format("  {} ({}) = {}\n", key, type, format_value(v));
  }
  out += "tensors:\n";
  uint64_t total_bytes = 0;
  for (const auto& t : file.tensors()) {
    out += fmt::format("  {} {} [{}] {} bytes at +{}\n", t.name, type_name(t.type_id),
                       fmt::join(t.shape, ", "), t.n_bytes, t.offset);
    total_bytes += t.n_bytes;
  }
  std::vector<std::string> histogram;
  for (const auto& [name, count] : type_histogram(file)) {
    histogram.push_back(fmt::format("{} {}", name, count));
  }
  out += fmt::format("tensor types: {}; {} tensor bytes\n", fmt::join(histogram, ", "), total_bytes);
  return out;
}

}  // namespace lkv::gguf
