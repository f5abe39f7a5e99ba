#include "eval/haystack.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lookahead/rng.h"
#include "util/error.h"

namespace lkv::eval {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFetchHint = "run scripts/fetch_haystacks.sh to download the haystack texts";

// Plain descriptive sentences written for this project, used as prose when no source text is
// given (tests, quick runs). They mention no numbers, so a planted number stays unique.
const std::vector<std::string>& builtin_sentences() {
  static const std::vector<std::string> sentences = {
      "The village sits at the bend of a slow river, where the water turns brown after the spring rains.",
      "Every morning the baker opens her shutters before the church bell rings.",
      "A narrow road climbs from the square to the old mill, and carts use it when the weather is dry.",
      "Most of the houses are built of grey stone taken from the quarry on the far side of the hill.",
      "In winter the fields lie under a thin crust of frost that melts by noon.",
      "The schoolteacher keeps a garden of herbs behind the schoolhouse and gives cuttings to anyone who asks.",
      "Travellers often stop at the inn to rest their horses and ask for news of the roads ahead.",
      "The market is busiest in autumn, when farmers bring apples, pears and sacks of grain.",
      "Along the river bank the willows lean so low that their branches brush the water.",
      "A carpenter in the lane makes chairs and tables from oak felled in the northern woods.",
      "On clear evenings the children climb the hill to watch the sun go down behind the forest.",
      "The library holds a few hundred books, most of them donated by families who moved away.",
      "Fishermen mend their nets on the quay while gulls wait for scraps.",
      "The old bridge was rebuilt twice after floods carried away its wooden arches.",
      "Wool from the hill farms is spun in the long shed near the station.",
      "When the wind comes from the west it carries the smell of the sea across the marshes.",
      "A doctor visits the village once a week and sees patients in a room above the post office.",
      "The blacksmith still shoes horses, though he spends more of his time repairing tools.",
      "Beekeepers set their hives along the edge of the heather, where the flowers last longest.",
      "The chapel has a painted ceiling that few visitors notice until someone points it out.",
      "In the long summer evenings people sit outside their doors and talk until it grows dark.",
      "The canal was dug to carry coal, but now only pleasure boats use it.",
      "A path follows the old wall around the edge of the town and makes a pleasant walk.",
      "Snow closes the mountain pass for weeks at a time, and the village then relies on its stores.",
      "The potter fires her kiln at night because the air is cooler and the draught steadier.",
      "Farmers cut hay in early summer and stack it in barns before the storms arrive.",
      "The station master keeps a log of every train that passes, even the ones that do not stop.",
      "Near the mill pond there is a meadow where wild orchids grow in late spring.",
      "The tailor learned his trade from his uncle and has worked in the same shop ever since.",
      "During the fair the square fills with stalls selling ribbons, cheese and painted toys.",
      "Rain falls often in the valley, so every house has a deep porch and a rack for boots.",
      "The lighthouse on the point was automated long ago, but its keeper's cottage is still lived in.",
      "Walkers who cross the moor are advised to carry a map, because the mist can fall quickly.",
      "The orchard behind the manor house produces more plums than the family can eat.",
      "An old ferry crosses the estuary at high tide and waits on the far bank when the water is low.",
      "The council meets in the hall on the first evening of each month to discuss repairs and roads.",
      "Children learn to swim in the shallow bay where the sand slopes gently into the sea.",
      "The weaver sells her blankets at the market and ships a few to shops in the city.",
      "Owls nest in the ruined tower, and their calls can be heard across the fields at night.",
      "The road to the city was paved only recently, and before that the journey took a full day.",
      "At harvest time the whole village helps to bring in the crops before the weather turns.",
      "The museum displays tools, maps and photographs that show how the valley used to look.",
      "A stream runs under the main street through a stone culvert built long ago.",
      "In spring the lambs are brought down from the hills to the pens beside the farmhouse.",
      "The grocer knows the name of every customer and what each of them usually buys.",
      "A gardener tends the flower beds in the park and waters them by hand in dry weeks.",
      "The clock on the town hall runs a few minutes slow, and nobody has tried to fix it.",
      "Boats painted in bright colours line the harbour wall when the fleet is in.",
  };
  return sentences;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open haystack file {}", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v'; }

}  // namespace

void Haystack::add_text(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t begin = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i == begin) continue;
    LKV_CHECK(buffer_.size() + (i - begin) < UINT32_MAX);
    words_.push_back({static_cast<uint32_t>(buffer_.size()), static_cast<uint32_t>(i - begin)});
    buffer_.append(text.substr(begin, i - begin));
  }
}

Haystack Haystack::builtin() {
  // Twenty rounds of the sentences, each round in its own fixed order, so the prose does not
  // repeat with a short period.
  Haystack haystack;
  haystack.builtin_ = true;
  std::vector<size_t> order(builtin_sentences().size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(0x68617973ULL);
  for (int round = 0; round < 20; ++round) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    for (const size_t index : order) haystack.add_text(builtin_sentences()[index]);
  }
  return haystack;
}

Haystack Haystack::load(const HaystackSources& sources) {
  if (sources.essays_dir.empty() && sources.book_paths.empty()) return builtin();
  check_haystack_sources(sources);

  Haystack haystack;
  if (!sources.essays_dir.empty()) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(sources.essays_dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".txt") files.push_back(entry.path());
    }
    if (files.empty()) fail("haystack folder {} contains no .txt files; {}", sources.essays_dir, kFetchHint);
    std::sort(files.begin(), files.end());
    for (const auto& file : files) haystack.add_text(read_file(file));
  }
  for (const auto& path : sources.book_paths) haystack.add_text(read_file(path));
  if (haystack.words_.empty()) fail("the haystack sources contain no text; {}", kFetchHint);
  return haystack;
}

std::string_view Haystack::word(uint64_t index) const {
  const Span& span = words_[index % words_.size()];
  return std::string_view(buffer_).substr(span.begin, span.length);
}

bool Haystack::ends_sentence(uint64_t index) const {
  std::string_view w = word(index);
  while (!w.empty() && (w.back() == '"' || w.back() == '\'' || w.back() == ')' || w.back() == ']')) {
    w.remove_suffix(1);
  }
  return !w.empty() && (w.back() == '.' || w.back() == '!' || w.back() == '?');
}

uint64_t Haystack::next_sentence_start(uint64_t index, uint64_t max_scan) const {
  if (index == 0) return 0;
  for (uint64_t i = index; i < index + max_scan; ++i) {
    if (ends_sentence(i - 1)) return i;
  }
  return index;
}

uint64_t Haystack::sentence_start_near(uint64_t index, uint64_t lowest, uint64_t highest, uint64_t max_scan) const {
  auto starts_sentence = [&](uint64_t i) { return i == lowest || ends_sentence(i - 1); };
  for (uint64_t i = index; i <= highest && i <= index + max_scan; ++i) {
    if (starts_sentence(i)) return i;
  }
  for (uint64_t i = index; i > lowest && i + max_scan > index; --i) {
    if (starts_sentence(i - 1)) return i - 1;
  }
  return index;
}

std::string Haystack::text(uint64_t start, uint64_t count) const {
  std::string out;
  out.reserve(count * 7);
  for (uint64_t i = 0; i < count; ++i) {
    if (i > 0) out += ' ';
    out += word(start + i);
  }
  return out;
}

HaystackSources haystack_sources_in(const std::string& dir) {
  HaystackSources sources;
  sources.essays_dir = (fs::path(dir) / "essays").string();
  sources.book_paths = {(fs::path(dir) / "opticks.txt").string(), (fs::path(dir) / "kjv.txt").string()};
  return sources;
}

void check_haystack_sources(const HaystackSources& sources) {
  if (!sources.essays_dir.empty() && !fs::is_directory(sources.essays_dir)) {
    fail("haystack folder {} not found; {}", sources.essays_dir, kFetchHint);
  }
  for (const auto& path : sources.book_paths) {
    if (!fs::is_regular_file(path)) fail("haystack file {} not found; {}", path, kFetchHint);
  }
}

const std::vector<std::string>& filler_sentences() {
  static const std::vector<std::string> sentences = {
      "The river is wide.", "The hills are quiet.", "The road is long.", "Here we are again.", "On and on it goes.",
  };
  return sentences;
}

}  // namespace lkv::eval
