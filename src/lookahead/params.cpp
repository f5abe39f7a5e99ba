#include "lookahead/params.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/error.h"

namespace lkv {

ParamLayout::ParamLayout(const HParams& hp, const LookaheadConfig& config) : hp_(hp), config_(config) {
  config_.validate();
  Tensor e;
  e.name = "lookahead.embd";
  e.rows = config_.n_lookahead;
  e.cols = hp.n_embd;
  tensors_.push_back(e);
  size_ = e.size();
  offsets_.resize(static_cast<size_t>(hp.n_layer));
  for (int il = 0; il < hp.n_layer; ++il) {
    for (int p = 0; p < kProjectionCount; ++p) {
      auto& slot = offsets_[static_cast<size_t>(il)][static_cast<size_t>(p)];
      slot = {kAbsent, kAbsent};
      if (!config_.targets[static_cast<size_t>(p)]) continue;
      const Projection proj = static_cast<Projection>(p);
      for (int which = 0; which < 2; ++which) {
        Tensor t;
        t.layer = il;
        t.proj = proj;
        t.is_b = which == 1;
        t.name = fmt::format("blk.{}.{}.lora_{}", il, projection_tensor_stem(proj), t.is_b ? "b" : "a");
        t.rows = t.is_b ? projection_n_out(hp, proj) : config_.rank;
        t.cols = t.is_b ? config_.rank : projection_n_in(hp, proj);
        t.offset = size_;
        slot[static_cast<size_t>(which)] = size_;
        size_ += t.size();
        tensors_.push_back(t);
      }
    }
  }
}

std::vector<float> ParamLayout::pack(const LookaheadAdapter& adapter) const {
  const LookaheadConfig& c = adapter.config;
  if (c.n_lookahead != config_.n_lookahead || c.rank != config_.rank || c.targets != config_.targets) {
    fail("adapter has {} lookahead tokens, rank {} and targets {}, but the training layout expects {}, {} and {}; "
         "resume from an adapter made with the same options or drop the resume",
         c.n_lookahead, c.rank, lora_targets_text(c.targets), config_.n_lookahead, config_.rank,
         lora_targets_text(config_.targets));
  }
  std::vector<float> flat(size_);
  for (const Tensor& t : tensors_) {
    const std::vector<float>* src = nullptr;
    if (t.layer < 0) {
      src = &adapter.embeddings;
    } else {
      const LoraMatrix& mat = adapter.lora.layers.at(static_cast<size_t>(t.layer))[static_cast<size_t>(t.proj)];
      src = t.is_b ? &mat.b : &mat.a;
    }
    if (src->size() != t.size()) {
      fail("adapter tensor {} contains {} values, but the model needs {}; the adapter belongs to another model", t.name,
           src->size(), t.size());
    }
    std::copy(src->begin(), src->end(), flat.begin() + static_cast<std::ptrdiff_t>(t.offset));
  }
  return flat;
}

void ParamLayout::unpack(const float* flat, LookaheadAdapter& adapter) const {
  LKV_CHECK(adapter.config.n_lookahead == config_.n_lookahead && adapter.config.rank == config_.rank);
  adapter.lora.layers.resize(static_cast<size_t>(hp_.n_layer));
  adapter.lora.rank = config_.rank;
  adapter.lora.scale = config_.lora_scale();
  for (const Tensor& t : tensors_) {
    std::vector<float>* dst = nullptr;
    if (t.layer < 0) {
      dst = &adapter.embeddings;
    } else {
      LoraMatrix& mat = adapter.lora.layers[static_cast<size_t>(t.layer)][static_cast<size_t>(t.proj)];
      dst = t.is_b ? &mat.b : &mat.a;
    }
    dst->assign(flat + t.offset, flat + t.offset + t.size());
  }
}

}  // namespace lkv
