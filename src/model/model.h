// A loaded model: the mapped GGUF file, its hyperparameters and weight views.
#pragma once

#include <memory>
#include <string>

#include "gguf/reader.h"
#include "model/hparams.h"
#include "model/weights.h"

namespace lkv {

struct Model {
  std::unique_ptr<gguf::File> file;
  HParams hparams;
  ModelWeights weights;

  // Opens, validates and binds a GGUF model. Errors name the path and the fix.
  static std::unique_ptr<Model> load(const std::string& path);
};

}  // namespace lkv
