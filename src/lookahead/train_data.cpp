#include "lookahead/train_data.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstring>
#include <fstream>
#include <unordered_set>

#include "tokenizer/chat_template.h"
#include "util/error.h"

namespace lkv {

namespace {

constexpr char kMagic[8] = {'L', 'K', 'V', 'G', 'T', '0', '0', '1'};
constexpr uint32_t kRecordMark = 0x31434552;  // "REC1"
constexpr uint32_t kEndMark = 0x31444E45;     // "END1"

std::string string_field(const nlohmann::json& j, const char* key, const std::string& where, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) fail("{}: field \"{}\" is missing; each line needs id, context and input", where, key);
    return "";
  }
  if (!it->is_string()) fail("{}: field \"{}\" is not a string", where, key);
  return it->get<std::string>();
}

// Little-endian binary reader over a whole file; reads past the end set `ok` to false.
struct Reader {
  const std::vector<char>& data;
  size_t pos = 0;
  bool ok = true;

  template <typename T>
  T get() {
    T v{};
    if (pos + sizeof(T) > data.size()) {
      ok = false;
      return v;
    }
    std::memcpy(&v, data.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  template <typename T>
  void get_array(std::vector<T>& out, uint64_t n) {
    if (n > (data.size() - std::min(pos, data.size())) / sizeof(T)) {
      ok = false;
      return;
    }
    out.resize(static_cast<size_t>(n));
    if (n == 0) return;  // memcpy needs valid pointers even for zero bytes
    std::memcpy(out.data(), data.data() + pos, static_cast<size_t>(n) * sizeof(T));
    pos += static_cast<size_t>(n) * sizeof(T);
  }
  std::string get_string() {
    const uint32_t n = get<uint32_t>();
    std::vector<char> s;
    if (ok) get_array(s, n);
    return ok ? std::string(s.begin(), s.end()) : std::string();
  }
};

template <typename T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
void put_string(std::string& out, const std::string& s) {
  put(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

}  // namespace

uint64_t prompt_hash(const std::vector<int32_t>& tokens) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int32_t t : tokens) {
    for (int b = 0; b < 4; ++b) {
      h ^= static_cast<uint8_t>(static_cast<uint32_t>(t) >> (8 * b));
      h *= 0x100000001b3ull;
    }
  }
  return h;
}

std::vector<TrainPrompt> load_train_prompts(const std::string& path, const Model& model, const Tokenizer& tokenizer,
                                            const TrainPromptOptions& options) {
  std::ifstream in(path);
  if (!in) fail("training prompts {} not found; build them with scripts/make_train_data.py", path);
  std::optional<ChatTemplate> tmpl;
  if (options.chat) tmpl = detect_chat_template(*model.file);
  std::vector<TrainPrompt> prompts;
  std::unordered_set<std::string> ids;
  std::string line;
  int line_no = 0, too_long = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{} line {}", path, line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail("{}: invalid JSON ({}); each line must be one JSON object", where, e.what());
    }
    if (!j.is_object()) fail("{}: expected a JSON object", where);
    TrainPrompt p;
    p.id = string_field(j, "id", where, true);
    p.kind = string_field(j, "kind", where, false);
    const std::string context = string_field(j, "context", where, true);
    const std::string input = string_field(j, "input", where, true);
    if (!ids.insert(p.id).second) fail("{}: id \"{}\" appears twice; ids must be unique", where, p.id);
    const std::string text = context + "\n\n" + input;
    if (tmpl) {
      p.tokens = tokenizer.encode(render_chat(*tmpl, {{"user", text}}, true), false, true);
    } else {
      p.tokens = tokenizer.encode(text, true, false);
    }
    if (static_cast<int>(p.tokens.size()) > options.max_prompt_tokens) {
      ++too_long;
      continue;
    }
    prompts.push_back(std::move(p));
  }
  if (too_long > 0) {
    spdlog::info("dropped {} prompts longer than {} tokens (--max-prompt-tokens)", too_long, options.max_prompt_tokens);
  }
  if (prompts.empty()) fail("{} contains no usable prompts (lines read: {})", path, line_no);
  return prompts;
}

GroundTruthStore::GroundTruthStore(const std::string& path, const std::string& fingerprint, int max_response)
    : path_(path) {
  std::vector<char> data;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  size_t valid_end = 0;
  if (!data.empty()) {
    Reader r{data};
    char magic[8];
    for (char& c : magic) c = r.get<char>();
    if (!r.ok || std::memcmp(magic, kMagic, sizeof(magic)) != 0) {
      fail("{} is not a ground-truth file; delete it or pass another --ground-truth path", path);
    }
    const std::string fp = r.get_string();
    const int32_t t = r.get<int32_t>();
    if (!r.ok) fail("{}: truncated header; delete the file to recompute the ground truth", path);
    if (fp != fingerprint || t != max_response) {
      fail("{} holds ground truth for model {} with response limit {}, not {} with {}; delete it or pass another "
           "--ground-truth path",
           path, fp, t, fingerprint, max_response);
    }
    valid_end = r.pos;
    while (r.pos < data.size()) {
      GroundTruthRecord rec;
      if (r.get<uint32_t>() != kRecordMark) break;
      rec.id = r.get_string();
      rec.prompt_hash = r.get<uint64_t>();
      r.get_array(rec.response, r.get<uint32_t>());
      rec.stopped = r.get<uint8_t>() != 0;
      const uint32_t n_layers = r.get<uint32_t>();
      rec.target.n_head_kv = r.get<int32_t>();
      for (uint32_t k = 0; r.ok && k < n_layers; ++k) {
        rec.target.layers.push_back(r.get<int32_t>());
        const int32_t n = r.get<int32_t>();
        rec.target.n_entries.push_back(n);
        rec.target.g.emplace_back();
        if (n < 0 || rec.target.n_head_kv < 0) {
          r.ok = false;
          break;
        }
        r.get_array(rec.target.g.back(), static_cast<uint64_t>(n) * static_cast<uint64_t>(rec.target.n_head_kv));
      }
      if (!r.ok || r.get<uint32_t>() != kEndMark || !r.ok) break;
      valid_end = r.pos;
      by_id_[rec.id] = records_.size();
      records_.push_back(std::move(rec));
    }
    if (valid_end < data.size()) {
      spdlog::warn("{}: dropped an incomplete record at byte {} (an interrupted run); it will be recomputed", path,
                   valid_end);
    }
  }
  // Rewrite only when the file is new or ends in a partial record; otherwise append.
  if (data.empty() || valid_end < data.size()) {
    std::string head(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(valid_end));
    if (data.empty()) {
      head.append(kMagic, sizeof(kMagic));
      put_string(head, fingerprint);
      put(head, static_cast<int32_t>(max_response));
    }
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) fail("cannot write ground truth to {}: {}", path, std::strerror(errno));
    std::fwrite(head.data(), 1, head.size(), f);
    std::fclose(f);
  }
  out_ = std::fopen(path.c_str(), "ab");
  if (!out_) fail("cannot append ground truth to {}: {}", path, std::strerror(errno));
}

GroundTruthStore::~GroundTruthStore() {
  if (out_) std::fclose(out_);
}

const GroundTruthRecord* GroundTruthStore::find(const std::string& id, uint64_t hash) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end() || records_[it->second].prompt_hash != hash) return nullptr;
  return &records_[it->second];
}

void GroundTruthStore::add(GroundTruthRecord rec) {
  std::string buf;
  put(buf, kRecordMark);
  put_string(buf, rec.id);
  put(buf, rec.prompt_hash);
  put(buf, static_cast<uint32_t>(rec.response.size()));
  buf.append(reinterpret_cast<const char*>(rec.response.data()), rec.response.size() * sizeof(int32_t));
  put(buf, static_cast<uint8_t>(rec.stopped ? 1 : 0));
  put(buf, static_cast<uint32_t>(rec.target.layers.size()));
  put(buf, static_cast<int32_t>(rec.target.n_head_kv));
  for (size_t k = 0; k < rec.target.layers.size(); ++k) {
    put(buf, static_cast<int32_t>(rec.target.layers[k]));
    put(buf, static_cast<int32_t>(rec.target.n_entries[k]));
    buf.append(reinterpret_cast<const char*>(rec.target.g[k].data()), rec.target.g[k].size() * sizeof(float));
  }
  put(buf, kEndMark);
  if (std::fwrite(buf.data(), 1, buf.size(), out_) != buf.size() || std::fflush(out_) != 0) {
    fail("cannot append ground truth to {}: {}", path_, std::strerror(errno));
  }
  by_id_[rec.id] = records_.size();
  records_.push_back(std::move(rec));
}

}  // namespace lkv
