#include "model/model.h"

#include <spdlog/spdlog.h>

#include "util/error.h"
#include "util/timer.h"

namespace lkv {

std::unique_ptr<Model> Model::load(const std::string& path) {
  Timer timer;
  auto model = std::make_unique<Model>();
  model->file = gguf::File::open(path);
  model->hparams = load_hparams(*model->file);
  model->weights = bind_weights(*model->file, model->hparams);
  spdlog::info("loaded {} in {:.0f} ms: {}", path, timer.elapsed_ms(), model->hparams.summary());
  return model;
}

}  // namespace lkv
