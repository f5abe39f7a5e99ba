// Optimizer for the LookaheadKV module: AdamW (Loshchilov and Hutter 2019, decoupled weight decay)
// on a flat f32 parameter vector, a learning-rate schedule with linear warm-up and cosine decay,
// and gradient clipping by global L2 norm.
//
// Non-goals: parameter groups beyond a per-parameter weight-decay mask, mixed precision.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lkv {

struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // decoupled: each step multiplies decayed parameters by 1 − lr·weight_decay
};

// Learning rate for step s (counted from 0): peak·(s+1)/warmup during warm-up, then a half cosine
// from peak at the first step after warm-up down to peak·min_ratio at step total − 1, and
// peak·min_ratio after that.
struct LrSchedule {
  double peak = 1e-3;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double min_ratio = 0.1;

  double at(int64_t step) const;
  // Throws lkv::Error naming the field out of range.
  void validate() const;
};

// Scales grad so its global L2 norm is at most max_norm (max_norm <= 0: no clipping). Returns the
// norm before clipping.
double clip_grad_norm(float* grad, size_t n, double max_norm);

class AdamW {
 public:
  AdamW(size_t n, AdamWConfig config);

  // Weight decay applies only where mask[i] != 0 (default: everywhere). mask has n entries.
  void set_decay_mask(std::vector<uint8_t> mask);

  // One update of params (n values) from grad with learning rate lr.
  void step(float* params, const float* grad, double lr);

  int64_t steps() const { return t_; }
  size_t size() const { return m_.size(); }

  // Moments and step count, for checkpoints; restore() takes what these returned.
  const std::vector<float>& first_moment() const { return m_; }
  const std::vector<float>& second_moment() const { return v_; }
  void restore(int64_t steps, std::vector<float> first, std::vector<float> second);

 private:
  AdamWConfig config_;
  std::vector<float> m_, v_;
  std::vector<uint8_t> decay_;
  int64_t t_ = 0;
};

}  // namespace lkv
