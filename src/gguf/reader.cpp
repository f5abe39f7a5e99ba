// GGUF reader: mapping, parsing and validation. See reader.h for the contract.
//
// Parsing is one forward pass over the header, the metadata and the tensor infos. Every read goes
// through Parser, which checks the remaining length first, so no size taken from the file is used
// before it has been compared with the bytes that are actually there.
#include "gguf/reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

#include <fmt/ranges.h>

#include "util/error.h"

namespace lkv::gguf {

static_assert(std::endian::native == std::endian::little,
              "the reader copies little-endian fields straight into host integers");

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kMaxDims = 4;
constexpr size_t kDefaultAlignment = 32;
constexpr const char* kAlignmentKey = "general.alignment";

// Smallest possible encodings, used to cap counts from the file before anything is allocated.
// A kv pair is a key length (8), at least one key byte, a value type (4) and at least one value
// byte. A tensor info is a name length (8), at least one name byte, n_dims (4), one dimension (8),
// a type (4) and an offset (8).
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;

bool is_known_value_type(uint32_t id) { return id <= static_cast<uint32_t>(ValueType::FLOAT64); }

// Bytes of a fixed-size value, 0 for STRING and ARRAY.
size_t fixed_size(ValueType type) {
  switch (type) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL:
      return 1;
    case ValueType::UINT16:
    case ValueType::INT16:
      return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32:
      return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64:
      return 8;
    case ValueType::STRING:
    case ValueType::ARRAY:
      return 0;
  }
  return 0;
}

bool is_unsigned(ValueType t) {
  return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 ||
         t == ValueType::UINT64;
}
bool is_signed(ValueType t) {
  return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 ||
         t == ValueType::INT64;
}

// Quotes a name taken from the file for an error message: at most 96 bytes, control and non-ASCII
// bytes as \xNN, so a corrupt file cannot flood the terminal.
std::string quote(std::string_view s) {
  constexpr size_t kMaxShown = 96;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  out += '\'';
  if (s.size() > kMaxShown) out += fmt::format(" (name of {} bytes, cut)", s.size());
  return out;
}

// Forward reader over the file image. `where` names the entry being parsed, so every error names
// the key or tensor it is about.
class Parser {
 public:
  Parser(const std::string& label, const uint8_t* data, size_t size)
      : label_(label), data_(data), size_(size) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  void set_where(std::string where) { where_ = std::move(where); }
  // Array element being read, or -1. Kept apart from `where` because arrays have many elements.
  void set_element(int64_t index) { element_ = index; }

  template <typename T>
  T read(const char* field) {
    need(sizeof(T), field);
    T value;
    std::memcpy(&value, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  std::string read_string(const char* field) {
    const auto length = read<uint64_t>(field);
    if (length > remaining()) {
      error("{} is {} bytes, but only {} bytes remain in the file (size {}) at offset {}; the file "
            "is truncated or corrupt",
            field, length, remaining(), size_, pos_);
    }
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(length));
    pos_ += static_cast<size_t>(length);
    return s;
  }

  void need(size_t n, const char* field) {
    if (n > remaining()) {
      error("truncated file: {} needs {} bytes at offset {}, but only {} remain before the end of "
            "the file (size {}); the file is incomplete, download it again",
            field, n, pos_, remaining(), size_);
    }
  }

  template <typename... Args>
  [[noreturn]] void error(fmt::format_string<Args...> format, Args&&... args) const {
    std::string context = where_;
    if (element_ >= 0) context += fmt::format(" (array element {})", element_);
    fail("{}: {}: {}", label_, context, fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  const std::string& label_;
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string where_ = "header";
  int64_t element_ = -1;
};

// Reads one scalar of a fixed-size type into the field that reader.h assigns to it.
void read_scalar(Parser& p, ValueType type, Value& v) {
  switch (type) {
    case ValueType::UINT8: v.u64 = p.read<uint8_t>("UINT8 value"); break;
    case ValueType::UINT16: v.u64 = p.read<uint16_t>("UINT16 value"); break;
    case ValueType::UINT32: v.u64 = p.read<uint32_t>("UINT32 value"); break;
    case ValueType::UINT64: v.u64 = p.read<uint64_t>("UINT64 value"); break;
    case ValueType::INT8: v.i64 = p.read<int8_t>("INT8 value"); break;
    case ValueType::INT16: v.i64 = p.read<int16_t>("INT16 value"); break;
    case ValueType::INT32: v.i64 = p.read<int32_t>("INT32 value"); break;
    case ValueType::INT64: v.i64 = p.read<int64_t>("INT64 value"); break;
    case ValueType::FLOAT32: v.f64 = p.read<float>("FLOAT32 value"); break;
    case ValueType::FLOAT64: v.f64 = p.read<double>("FLOAT64 value"); break;
    case ValueType::BOOL: {
      const auto b = p.read<uint8_t>("BOOL value");
      if (b > 1) p.error("BOOL value is {}, expected 0 or 1", b);
      v.u64 = b;
      break;
    }
    case ValueType::STRING:
    case ValueType::ARRAY:
      LKV_CHECK(false);
  }
}

// Reads one array element of a numeric or BOOL type as a double.
double read_number(Parser& p, ValueType type) {
  Value v;
  read_scalar(p, type, v);
  if (is_unsigned(type) || type == ValueType::BOOL) return static_cast<double>(v.u64);
  if (is_signed(type)) return static_cast<double>(v.i64);
  return v.f64;
}

Value read_value(Parser& p, uint32_t type_id) {
  if (!is_known_value_type(type_id)) {
    p.error("unknown value type {}, expected 0 to 12", type_id);
  }
  Value v;
  v.type = static_cast<ValueType>(type_id);
  if (v.type == ValueType::STRING) {
    v.str = p.read_string("string length");
    return v;
  }
  if (v.type != ValueType::ARRAY) {
    read_scalar(p, v.type, v);
    return v;
  }

  const auto element_id = p.read<uint32_t>("array element type");
  if (element_id == static_cast<uint32_t>(ValueType::ARRAY)) {
    p.error("nested arrays (an ARRAY whose elements are ARRAYs) are not supported");
  }
  if (!is_known_value_type(element_id)) {
    p.error("array element type is {}, expected 0 to 12", element_id);
  }
  v.array_type = static_cast<ValueType>(element_id);
  v.array_size = p.read<uint64_t>("array length");
  // A string element takes at least its 8-byte length, so this bound caps the allocation by the
  // file size for every element type.
  const size_t element_min = v.array_type == ValueType::STRING ? 8 : fixed_size(v.array_type);
  if (v.array_size > p.remaining() / element_min) {
    p.error("array of {} {} elements needs at least {} bytes per element, but only {} bytes remain "
            "in the file; the length is corrupt or the file is truncated",
            v.array_size, value_type_name(v.array_type), element_min, p.remaining());
  }
  const auto count = static_cast<size_t>(v.array_size);
  if (v.array_type == ValueType::STRING) {
    v.strings.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      p.set_element(static_cast<int64_t>(i));
      v.strings.push_back(p.read_string("string length"));
    }
  } else {
    v.numbers.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      p.set_element(static_cast<int64_t>(i));
      v.numbers.push_back(read_number(p, v.array_type));
    }
  }
  p.set_element(-1);
  return v;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// Returns true for a type id without block geometry. types.h names such ids "unknown", and the
// size checks also guard against a zero divisor whatever the table contains.
bool is_unknown_type(const TypeTraits& traits) {
  return traits.block_size <= 0 || traits.type_size == 0 ||
         std::strcmp(traits.name, "unknown") == 0;
}

bool fits_u32(const Value& v) {
  if (is_unsigned(v.type)) return v.u64 <= std::numeric_limits<uint32_t>::max();
  if (is_signed(v.type)) return v.i64 >= 0 && v.i64 <= std::numeric_limits<uint32_t>::max();
  return false;
}

uint32_t as_u32(const Value& v) {
  return static_cast<uint32_t>(is_unsigned(v.type) ? v.u64 : static_cast<uint64_t>(v.i64));
}

}  // namespace

const char* value_type_name(ValueType type) {
  switch (type) {
    case ValueType::UINT8: return "UINT8";
    case ValueType::INT8: return "INT8";
    case ValueType::UINT16: return "UINT16";
    case ValueType::INT16: return "INT16";
    case ValueType::UINT32: return "UINT32";
    case ValueType::INT32: return "INT32";
    case ValueType::FLOAT32: return "FLOAT32";
    case ValueType::BOOL: return "BOOL";
    case ValueType::STRING: return "STRING";
    case ValueType::ARRAY: return "ARRAY";
    case ValueType::UINT64: return "UINT64";
    case ValueType::INT64: return "INT64";
    case ValueType::FLOAT64: return "FLOAT64";
  }
  return "unknown";
}

bool Value::is_integer() const { return is_unsigned(type) || is_signed(type); }
bool Value::is_float() const { return type == ValueType::FLOAT32 || type == ValueType::FLOAT64; }

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;  // the reader has checked that the product fits
  return n;
}

std::unique_ptr<File> File::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) fail("{}: not found; check the path (models are installed by scripts/fetch_models.sh)", path);
    fail("{}: cannot open: {}", path, std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail("{}: cannot stat: {}", path, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("{}: not a regular file, expected a GGUF model file", path);
  }
  if (st.st_size == 0) {
    ::close(fd);
    fail("{}: empty file (0 bytes), expected a GGUF model", path);
  }
  const auto size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_err = errno;
  ::close(fd);  // the mapping keeps its own reference to the file
  if (map == MAP_FAILED) fail("{}: cannot map {} bytes: {}", path, size, std::strerror(map_err));

  std::unique_ptr<File> file(new File());
  file->path_ = path;
  file->base_ = static_cast<const uint8_t*>(map);
  file->size_ = size;
  file->mapped_ = true;
  file->parse();  // on error the unique_ptr unmaps
  return file;
}

std::unique_ptr<File> File::from_memory(const uint8_t* data, size_t size, std::string label) {
  std::unique_ptr<File> file(new File());
  file->path_ = std::move(label);
  file->base_ = data;
  file->size_ = size;
  if (size == 0) fail("{}: empty file (0 bytes), expected a GGUF model", file->path_);
  file->parse();
  return file;
}

File::~File() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(base_), size_);
}

void File::parse() {
  Parser p(path_, base_, size_);

  const auto magic = p.read<uint32_t>("magic");
  if (magic != kMagic) {
    std::string printable;
    for (int i = 0; i < 4; ++i) {
      const auto c = static_cast<unsigned char>(magic >> (8 * i));
      printable += (c >= 0x20 && c < 0x7f) ? fmt::format("{}", static_cast<char>(c))
                                        : fmt::format("\\x{:02x}", c);
    }
    p.error("not a GGUF file: the first 4 bytes are '{}', expected 'GGUF'", printable);
  }
  version_ = p.read<uint32_t>("version");
  if (version_ == 1) {
    p.error("GGUF version 1 is no longer supported (counts were 32-bit); convert the model again "
            "with a current llama.cpp");
  }
  if (version_ != 2 && version_ != 3) {
    if (version_ >= 0x01000000 && (version_ & 0x00ffffff) == 0) {
      p.error("version field reads {:#010x}: this looks like a big-endian GGUF file, which is not "
              "supported", version_);
    }
    p.error("GGUF version {} is not supported, expected 2 or 3", version_);
  }

  const auto tensor_count = p.read<uint64_t>("tensor count");
  const auto kv_count = p.read<uint64_t>("metadata count");
  // Compare the counts with the bytes left before reserving anything.
  if (kv_count > p.remaining() / kMinKvBytes) {
    p.error("metadata count is {}, but {} remaining bytes hold at most {} entries; the file is "
            "corrupt",
            kv_count, p.remaining(), p.remaining() / kMinKvBytes);
  }
  if (tensor_count > p.remaining() / kMinTensorInfoBytes) {
    p.error("tensor count is {}, but {} remaining bytes hold at most {} tensor infos; the file is "
            "corrupt",
            tensor_count, p.remaining(), p.remaining() / kMinTensorInfoBytes);
  }

  keys_.reserve(static_cast<size_t>(kv_count));
  for (uint64_t i = 0; i < kv_count; ++i) {
    p.set_where(fmt::format("metadata entry {} of {}", i, kv_count));
    std::string key = p.read_string("key length");
    if (key.empty()) p.error("the key is empty");
    p.set_where(fmt::format("metadata key {}", quote(key)));
    if (metadata_.count(key) != 0) p.error("duplicate key; each key may appear once");
    const auto type_id = p.read<uint32_t>("value type");
    Value value = read_value(p, type_id);
    keys_.push_back(key);
    metadata_.emplace(std::move(key), std::move(value));
  }

  alignment_ = kDefaultAlignment;
  if (const Value* a = find(kAlignmentKey)) {
    p.set_where(fmt::format("metadata key '{}'", kAlignmentKey));
    if (a->type != ValueType::UINT32) {
      p.error("value has type {}, expected UINT32", value_type_name(a->type));
    }
    if (!std::has_single_bit(a->u64)) p.error("value is {}, expected a power of two", a->u64);
    alignment_ = static_cast<size_t>(a->u64);
  }

  // The header check above already bounds this reservation by the file size. A file cut inside
  // the tensor infos is reported by the read that runs out, which names the tensor.
  tensors_.reserve(static_cast<size_t>(tensor_count));
  for (uint64_t i = 0; i < tensor_count; ++i) {
    p.set_where(fmt::format("tensor info {} of {}", i, tensor_count));
    TensorInfo t;
    t.name = p.read_string("name length");
    if (t.name.empty()) p.error("the tensor name is empty");
    p.set_where(fmt::format("tensor {}", quote(t.name)));
    if (tensor_index_.count(t.name) != 0) p.error("duplicate tensor name; each name may appear once");

    const auto n_dims = p.read<uint32_t>("n_dims");
    if (n_dims < 1 || n_dims > kMaxDims) p.error("n_dims is {}, expected 1 to {}", n_dims, kMaxDims);
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto ne = p.read<uint64_t>("dimension");
      if (ne == 0) p.error("dimension {} is 0, expected at least 1", d);
      if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / ne) {
        p.error("dimension {} is {}, which makes the element count overflow 63 bits", d, ne);
      }
      n_elements *= ne;
      t.shape.push_back(static_cast<int64_t>(ne));
    }

    t.type_id = p.read<uint32_t>("type");
    const TypeTraits& traits = type_traits(t.type_id);
    if (is_unknown_type(traits)) {
      p.error("unknown tensor type id {}; the file is corrupt or uses a type this engine does not "
              "know",
              t.type_id);
    }
    t.type = static_cast<GgmlType>(t.type_id);
    if (t.shape[0] % traits.block_size != 0) {
      p.error("ne[0] = {} is not a multiple of the {} block size {} (shape {})", t.shape[0],
              traits.name, traits.block_size, shape_string(t.shape));
    }
    // Row bytes times the number of rows, each product checked against 64 bits.
    const auto blocks = static_cast<uint64_t>(t.shape[0] / traits.block_size);
    const uint64_t rows = n_elements / static_cast<uint64_t>(t.shape[0]);
    const uint64_t limit = std::numeric_limits<uint64_t>::max();
    if (blocks > limit / traits.type_size || blocks * traits.type_size > limit / rows) {
      p.error("shape {} of type {} has a byte size that overflows 64 bits", shape_string(t.shape),
              traits.name);
    }
    t.n_bytes = blocks * traits.type_size * rows;
    t.offset = p.read<uint64_t>("offset");

    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  if (tensors_.empty()) return;

  // The data section starts at the next multiple of the alignment after the tensor infos. The
  // padding itself is not required to exist when no data follows, but tensor data must.
  const size_t end_of_infos = p.pos();
  const size_t data_start = end_of_infos + (alignment_ - end_of_infos % alignment_) % alignment_;
  const uint64_t data_size = data_start <= size_ ? size_ - data_start : 0;
  for (TensorInfo& t : tensors_) {
    p.set_where(fmt::format("tensor {}", quote(t.name)));
    if (t.offset % alignment_ != 0) {
      p.error("data offset {} is not a multiple of the alignment {}", t.offset, alignment_);
    }
    if (t.offset > std::numeric_limits<uint64_t>::max() - t.n_bytes) {
      p.error("data [offset {}, {} bytes] overflows 64 bits; the offset is corrupt", t.offset,
              t.n_bytes);
    }
    if (data_start > size_ || t.offset > data_size || t.n_bytes > data_size - t.offset) {
      p.error("data [offset {}, {} bytes] extends past the end of the file (size {}, data section "
              "starts at {}); the file is truncated, download it again",
              t.offset, t.n_bytes, size_, data_start);
    }
    t.data = base_ + data_start + t.offset;
  }
}

const Value* File::find(const std::string& key) const {
  const auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

namespace {

[[noreturn]] void type_mismatch(const std::string& path, const std::string& key, const Value& v,
                                const char* expected) {
  std::string actual = value_type_name(v.type);
  if (v.type == ValueType::ARRAY) actual = fmt::format("ARRAY of {}", value_type_name(v.array_type));
  fail("{}: metadata key '{}' has type {}, expected {}", path, key, actual, expected);
}

}  // namespace

// Looks up a key that must exist.
static const Value& require(const File& f, const std::string& key) {
  const Value* v = f.find(key);
  if (v == nullptr) fail("{}: metadata key '{}' is missing", f.path(), key);
  return *v;
}

std::string File::get_string(const std::string& key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::STRING) type_mismatch(path_, key, v, "STRING");
  return v.str;
}

uint64_t File::get_u64(const std::string& key) const {
  const Value& v = require(*this, key);
  if (is_unsigned(v.type)) return v.u64;
  if (is_signed(v.type)) {
    if (v.i64 < 0) fail("{}: metadata key '{}' is {}, expected a non-negative value", path_, key, v.i64);
    return static_cast<uint64_t>(v.i64);
  }
  type_mismatch(path_, key, v, "an integer");
}

uint32_t File::get_u32(const std::string& key) const {
  const uint64_t value = get_u64(key);
  if (value > std::numeric_limits<uint32_t>::max()) {
    fail("{}: metadata key '{}' is {}, which does not fit in 32 bits", path_, key, value);
  }
  return static_cast<uint32_t>(value);
}

int64_t File::get_i64(const std::string& key) const {
  const Value& v = require(*this, key);
  if (is_signed(v.type)) return v.i64;
  if (is_unsigned(v.type)) {
    if (v.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail("{}: metadata key '{}' is {}, which does not fit in a signed 64-bit integer", path_, key,
           v.u64);
    }
    return static_cast<int64_t>(v.u64);
  }
  type_mismatch(path_, key, v, "an integer");
}

float File::get_f32(const std::string& key) const {
  const Value& v = require(*this, key);
  if (v.is_float()) return static_cast<float>(v.f64);
  if (is_unsigned(v.type)) return static_cast<float>(v.u64);
  if (is_signed(v.type)) return static_cast<float>(v.i64);
  type_mismatch(path_, key, v, "a number");
}

bool File::get_bool(const std::string& key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::BOOL) type_mismatch(path_, key, v, "BOOL");
  return v.u64 != 0;
}

const std::vector<std::string>& File::get_string_array(const std::string& key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::ARRAY || v.array_type != ValueType::STRING) {
    type_mismatch(path_, key, v, "ARRAY of STRING");
  }
  return v.strings;
}

const std::vector<double>& File::get_number_array(const std::string& key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::ARRAY || v.array_type == ValueType::STRING) {
    type_mismatch(path_, key, v, "ARRAY of numbers");
  }
  return v.numbers;
}

std::optional<std::string> File::get_string_opt(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_string(key);
}

std::optional<uint32_t> File::get_u32_opt(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_u32(key);
}

std::optional<float> File::get_f32_opt(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_f32(key);
}

std::optional<bool> File::get_bool_opt(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_bool(key);
}

std::vector<uint32_t> File::get_u32_per_layer(const std::string& key, size_t n_layer) const {
  const Value& v = require(*this, key);
  if (v.is_integer()) {
    if (!fits_u32(v)) {
      fail("{}: metadata key '{}' is {}, expected a value from 0 to 2^32-1", path_, key,
           is_signed(v.type) ? fmt::format("{}", v.i64) : fmt::format("{}", v.u64));
    }
    return std::vector<uint32_t>(n_layer, as_u32(v));
  }
  if (v.type != ValueType::ARRAY || !(is_unsigned(v.array_type) || is_signed(v.array_type))) {
    type_mismatch(path_, key, v, "an integer or an ARRAY of integers with one entry per layer");
  }
  if (v.numbers.size() != n_layer) {
    fail("{}: metadata key '{}' has {} entries, expected one per layer ({})", path_, key,
         v.numbers.size(), n_layer);
  }
  std::vector<uint32_t> out;
  out.reserve(n_layer);
  for (size_t i = 0; i < n_layer; ++i) {
    const double x = v.numbers[i];
    // Elements were widened to double; values above 2^32 or negative are rejected, so no integer
    // that matters here lost precision.
    if (!(x >= 0.0 && x <= static_cast<double>(std::numeric_limits<uint32_t>::max()))) {
      fail("{}: metadata key '{}' entry {} is {}, expected a value from 0 to 2^32-1", path_, key,
           i, x);
    }
    out.push_back(static_cast<uint32_t>(x));
  }
  return out;
}

const TensorInfo* File::find_tensor(const std::string& name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::tensor(const std::string& name) const {
  const TensorInfo* t = find_tensor(name);
  if (t == nullptr) fail("{}: tensor '{}' is missing", path_, name);
  return *t;
}

}  // namespace lkv::gguf
