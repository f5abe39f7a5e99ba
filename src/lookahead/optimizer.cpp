#include "lookahead/optimizer.h"

#include <cmath>

#include "util/error.h"

namespace lkv {

double LrSchedule::at(int64_t step) const {
  if (step < warmup_steps) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const double floor = peak * min_ratio;
  if (step >= total_steps) return floor;
  const int64_t span = total_steps - 1 - warmup_steps;  // decay steps after the first
  if (span <= 0) return peak;
  const double progress = static_cast<double>(step - warmup_steps) / static_cast<double>(span);
  return floor + (peak - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

void LrSchedule::validate() const {
  if (!(peak > 0.0) || !std::isfinite(peak)) fail("learning rate {} is invalid; use a positive number such as 1e-3", peak);
  if (total_steps < 1) fail("training steps {} is invalid; use at least 1", total_steps);
  if (warmup_steps < 0 || warmup_steps > total_steps) {
    fail("warm-up steps {} is out of range; use 0 to the number of training steps ({})", warmup_steps, total_steps);
  }
  if (!(min_ratio >= 0.0 && min_ratio <= 1.0)) fail("minimum learning-rate ratio {} is out of range; use 0 to 1", min_ratio);
}

double clip_grad_norm(float* grad, size_t n, double max_norm) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(grad[i]) * grad[i];
  const double norm = std::sqrt(sum);
  if (max_norm > 0.0 && norm > max_norm) {
    const float scale = static_cast<float>(max_norm / norm);
    for (size_t i = 0; i < n; ++i) grad[i] *= scale;
  }
  return norm;
}

AdamW::AdamW(size_t n, AdamWConfig config) : config_(config), m_(n, 0.0f), v_(n, 0.0f) {
  if (!(config.beta1 >= 0.0 && config.beta1 < 1.0) || !(config.beta2 >= 0.0 && config.beta2 < 1.0)) {
    fail("AdamW betas ({}, {}) are out of range; each must be in [0, 1)", config.beta1, config.beta2);
  }
  if (!(config.eps > 0.0)) fail("AdamW epsilon {} is invalid; use a small positive number such as 1e-8", config.eps);
  if (!(config.weight_decay >= 0.0)) fail("weight decay {} is invalid; use 0 or a positive number", config.weight_decay);
}

void AdamW::set_decay_mask(std::vector<uint8_t> mask) {
  LKV_CHECK(mask.size() == m_.size());
  decay_ = std::move(mask);
}

void AdamW::step(float* params, const float* grad, double lr) {
  ++t_;
  const double b1 = config_.beta1, b2 = config_.beta2;
  const double c1 = 1.0 - std::pow(b1, static_cast<double>(t_));  // bias corrections
  const double c2 = 1.0 - std::pow(b2, static_cast<double>(t_));
  const double decay = 1.0 - lr * config_.weight_decay;
  for (size_t i = 0; i < m_.size(); ++i) {
    const double g = grad[i];
    const double m = b1 * m_[i] + (1.0 - b1) * g;
    const double v = b2 * v_[i] + (1.0 - b2) * g * g;
    m_[i] = static_cast<float>(m);
    v_[i] = static_cast<float>(v);
    double p = params[i];
    if (config_.weight_decay > 0.0 && (decay_.empty() || decay_[i])) p *= decay;
    p -= lr * (m / c1) / (std::sqrt(v / c2) + config_.eps);
    params[i] = static_cast<float>(p);
  }
}

void AdamW::restore(int64_t steps, std::vector<float> first, std::vector<float> second) {
  if (first.size() != m_.size() || second.size() != v_.size() || steps < 0) {
    fail("optimizer checkpoint contains {} and {} moments at step {}, but the model has {} parameters; resume from a "
         "checkpoint of the same adapter configuration",
         first.size(), second.size(), steps, m_.size());
  }
  t_ = steps;
  m_ = std::move(first);
  v_ = std::move(second);
}

}  // namespace lkv
