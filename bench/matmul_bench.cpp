// Micro-benchmarks of the tensor kernels on the matmul shapes of Gemma 3 270M and SmolLM2-135M.
//
// GEMV (one activation row, the decode step) reports GB/s of weight bytes read; GEMM (512 rows, a
// prefill chunk) reports GFLOP/s counting 2 · m · n_in · n_out. Weights are a few random rows
// quantized with the reference quantizers and repeated to the full matrix, which is enough for
// timing. Run with --benchmark_repetitions=N --benchmark_format=json for medians and spread.
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "tensor/matmul.h"
#include "tensor/quantize.h"
#include "tensor/thread_pool.h"

namespace lkv {
namespace {

struct Matrix {
  std::vector<uint8_t> bytes;
  WeightView view;
};

// Matrices are cached so that the 178 MB output head is built once per process.
const Matrix& matrix(GgmlType type, int64_t n_in, int64_t n_out) {
  static std::map<std::tuple<int, int64_t, int64_t>, std::unique_ptr<Matrix>> cache;
  auto& slot = cache[{static_cast<int>(type), n_in, n_out}];
  if (slot) return *slot;

  slot = std::make_unique<Matrix>();
  const size_t row_bytes = row_size(type, n_in);
  constexpr int64_t kDistinctRows = 64;
  std::vector<uint8_t> distinct(row_bytes * kDistinctRows);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> row(static_cast<size_t>(n_in));
  for (int64_t r = 0; r < kDistinctRows; ++r) {
    for (float& v : row) v = normal(rng);
    quantize_row(type, row.data(), distinct.data() + r * row_bytes, n_in);
  }
  slot->bytes.resize(row_bytes * static_cast<size_t>(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    std::memcpy(slot->bytes.data() + r * row_bytes, distinct.data() + (r % kDistinctRows) * row_bytes, row_bytes);
  }
  slot->view = WeightView{type, slot->bytes.data(), n_in, n_out, row_bytes};
  return *slot;
}

ThreadPool& pool(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& slot = pools[threads];
  if (!slot) slot = std::make_unique<ThreadPool>(threads);
  return *slot;
}

// Arguments: type id, n_in, n_out, m, threads.
void BM_Matmul(benchmark::State& state) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const int64_t n_in = state.range(1);
  const int64_t n_out = state.range(2);
  const int64_t m = state.range(3);
  const int threads = static_cast<int>(state.range(4));
  const Matrix& w = matrix(type, n_in, n_out);

  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(m * n_in));
  for (float& v : x) v = normal(rng);
  std::vector<float> y(static_cast<size_t>(m * n_out));

  ThreadPool& p = pool(threads);
  for (auto _ : state) {
    matmul(w.view, x.data(), m, y.data(), p);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(type_name(static_cast<uint32_t>(type)));
  if (m == 1) {
    state.counters["GB/s"] =
        benchmark::Counter(static_cast<double>(w.bytes.size()) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(m * n_in * n_out) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

struct Shape {
  GgmlType type;
  int64_t n_in;
  int64_t n_out;
};

// Gemma 3 270M (Q4_K_M mix) and SmolLM2-135M (Q4_1) projections.
const Shape kLayerShapes[] = {
    {GgmlType::Q5_0, 640, 1024},   // gemma attn_q
    {GgmlType::Q5_0, 640, 2048},   // gemma ffn_gate / ffn_up
    {GgmlType::Q4_K, 2048, 640},   // gemma ffn_down
    {GgmlType::Q6_K, 2048, 640},   // gemma ffn_down on "more bits" layers
    {GgmlType::Q4_K, 1024, 640},   // gemma attn_output
    {GgmlType::Q8_0, 640, 256},    // gemma attn_v on "more bits" layers
    {GgmlType::Q4_1, 576, 1536},   // smollm2 ffn_gate / ffn_up
    {GgmlType::Q4_1, 1536, 576},   // smollm2 ffn_down
    {GgmlType::Q4_1, 576, 576},    // smollm2 attn_q / attn_output
    {GgmlType::Q4_0, 640, 2048},
    {GgmlType::Q8_0, 640, 2048},
    {GgmlType::F16, 640, 2048},
};

void register_all() {
  for (const Shape& s : kLayerShapes) {
    for (int64_t m : {1, 512}) {
      for (int threads : {1, 2}) {
        benchmark::RegisterBenchmark("matmul", BM_Matmul)
            ->Args({static_cast<int64_t>(s.type), s.n_in, s.n_out, m, threads})
            ->ArgNames({"type", "n_in", "n_out", "m", "threads"})
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  // Tied output heads: Gemma 262144 × 640 Q8_0 (178 MB) and SmolLM2 49152 × 576 Q4_1, decode only.
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark("matmul_head", BM_Matmul)
        ->Args({static_cast<int64_t>(GgmlType::Q8_0), 640, 262144, 1, threads})
        ->ArgNames({"type", "n_in", "n_out", "m", "threads"})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("matmul_head", BM_Matmul)
        ->Args({static_cast<int64_t>(GgmlType::Q4_1), 576, 49152, 1, threads})
        ->ArgNames({"type", "n_in", "n_out", "m", "threads"})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

// Cost of one ThreadPool::run with as many trivial tasks as threads: the dispatch overhead paid by
// every matmul of a decode step.
void BM_ThreadPoolDispatch(benchmark::State& state) {
  ThreadPool& p = pool(static_cast<int>(state.range(0)));
  std::vector<int64_t> sink(64);
  for (auto _ : state) {
    p.run(p.size(), [&](int64_t task, int thread) { sink[static_cast<size_t>(thread) * 8] += task; });
  }
  benchmark::DoNotOptimize(sink.data());
}
BENCHMARK(BM_ThreadPoolDispatch)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace lkv

int main(int argc, char** argv) {
  lkv::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
