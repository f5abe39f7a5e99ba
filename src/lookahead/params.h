// The LookaheadKV module's trainable parameters as one flat vector, the form the training step,
// the optimizer and the finite-difference checks work on.
//
// Layout: the lookahead embeddings [m × n_embd] first, then for every layer in order and every
// targeted projection in Projection order, LoRA A [rank × n_in] and then B [n_out × rank], all
// row-major. pack() and unpack() convert between this vector and a LookaheadAdapter exactly.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "lookahead/adapter.h"
#include "lookahead/backward.h"

namespace lkv {

class ParamLayout {
 public:
  static constexpr size_t kAbsent = static_cast<size_t>(-1);

  struct Tensor {
    std::string name;       // the adapter file's tensor name
    int layer = -1;         // −1 for the embeddings
    Projection proj = Projection::Q;
    bool is_b = false;
    int64_t rows = 0, cols = 0;
    size_t offset = 0;      // into the flat vector
    size_t size() const { return static_cast<size_t>(rows * cols); }
  };

  ParamLayout(const HParams& hp, const LookaheadConfig& config);

  const LookaheadConfig& config() const { return config_; }
  const HParams& hparams() const { return hp_; }
  size_t size() const { return size_; }
  // Every tensor in layout order; tensors()[0] is the embeddings.
  const std::vector<Tensor>& tensors() const { return tensors_; }

  // Offsets of a layer's LoRA A and B for a projection, or kAbsent when it is not targeted.
  size_t a_offset(int layer, Projection p) const { return offsets_[static_cast<size_t>(layer)][static_cast<size_t>(p)][0]; }
  size_t b_offset(int layer, Projection p) const { return offsets_[static_cast<size_t>(layer)][static_cast<size_t>(p)][1]; }

  // The LoRA matrices of one projection inside a flat parameter vector (a == nullptr when absent).
  template <typename T>
  grad::LoraRef<T> lora(const T* flat, int layer, Projection p) const {
    grad::LoraRef<T> r;
    const size_t oa = a_offset(layer, p);
    if (oa == kAbsent) return r;
    r.a = flat + oa;
    r.b = flat + b_offset(layer, p);
    r.rank = config_.rank;
    r.scale = static_cast<T>(config_.lora_scale());
    return r;
  }
  template <typename T>
  grad::LoraGrad<T> lora_grad(T* flat, int layer, Projection p) const {
    grad::LoraGrad<T> g;
    const size_t oa = a_offset(layer, p);
    if (oa == kAbsent) return g;
    g.a = flat + oa;
    g.b = flat + b_offset(layer, p);
    return g;
  }

  // Adapter → flat vector. Throws lkv::Error when the adapter's m, rank, targets or sizes differ
  // from the layout's.
  std::vector<float> pack(const LookaheadAdapter& adapter) const;
  // Flat vector (size()) → the adapter's embeddings and LoRA matrices (which must have this layout).
  void unpack(const float* flat, LookaheadAdapter& adapter) const;

 private:
  HParams hp_;
  LookaheadConfig config_;
  std::vector<Tensor> tensors_;
  std::vector<std::array<std::array<size_t, 2>, kProjectionCount>> offsets_;  // [layer][proj][a/b]
  size_t size_ = 0;
};

}  // namespace lkv
