// Persistent worker threads with a spin-then-sleep wait.
//
// A job (function, task count) is published by bumping a generation number. Tasks are claimed from
// one 64-bit atomic that contains the generation in its high half and the next task index in its low
// half. A worker that wakes late therefore cannot claim a task of a newer job. The caller waits only
// for tasks that were actually claimed, never for workers that did not start (on an oversubscribed
// machine the caller may run every task itself). Workers that recently finished spin on the
// generation for a short time, so back-to-back calls (hundreds per decoded token) cost a few
// microseconds; idle workers sleep on a condition variable that is signalled only when someone sleeps.
// Non-goals: nested parallelism (a run() from inside a task executes inline) and fairness between
// concurrent callers (they are serialized).
#include "tensor/thread_pool.h"

#include <atomic>
#include <cstdint>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "util/error.h"

namespace lkv {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// How long a thread polls before it sleeps. Long enough to cover the single-threaded gaps between
// the matmuls of one decode step, short enough not to burn a core while the engine is idle.
constexpr auto kSpinDuration = std::chrono::microseconds(200);

// Task indices live in the low 32 bits of the claim word.
constexpr int64_t kMaxTasks = (int64_t{1} << 31) - 1;

constexpr uint64_t claim_word(uint32_t generation, uint32_t task) {
  return (static_cast<uint64_t>(generation) << 32) | task;
}
constexpr uint32_t generation_of(uint64_t word) { return static_cast<uint32_t>(word >> 32); }
constexpr uint32_t task_of(uint64_t word) { return static_cast<uint32_t>(word); }

// Set while a thread executes tasks of some pool, so nested run() calls fall back to inline.
thread_local bool t_inside_task = false;

}  // namespace

struct ThreadPool::Impl {
  int n_threads = 1;
  std::vector<std::thread> workers;

  // Current job, written by the caller before the claim word publishes the new generation. They are
  // atomics because a late worker may read them while the next job is set up (its claim then fails).
  std::atomic<const std::function<void(int64_t, int)>*> fn{nullptr};
  std::atomic<int64_t> n_tasks{0};

  alignas(64) std::atomic<uint64_t> claim{0};  // generation << 32 | next task
  alignas(64) std::atomic<int64_t> tasks_done{0};
  alignas(64) std::atomic<int> sleepers{0};
  alignas(64) std::atomic<bool> caller_waiting{false};
  std::atomic<bool> failed{false};
  std::atomic<bool> stopping{false};

  std::mutex sleep_mutex;
  std::condition_variable wake;
  std::mutex done_mutex;
  std::condition_variable done;
  std::mutex error_mutex;
  std::exception_ptr first_error;
  std::mutex run_mutex;  // serializes concurrent callers

  // Claims and runs tasks of job `generation` until none are left.
  void execute_tasks(uint32_t generation, int thread) {
    const bool was_inside = t_inside_task;
    t_inside_task = true;
    uint64_t word = claim.load(std::memory_order_acquire);
    for (;;) {
      if (generation_of(word) != generation) break;
      const int64_t count = n_tasks.load(std::memory_order_relaxed);
      if (task_of(word) >= count) break;
      if (!claim.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        continue;  // word now contains the current value
      }
      // The job cannot change until this task is counted as done, so fn is this job's.
      if (!failed.load(std::memory_order_relaxed)) {
        try {
          (*fn.load(std::memory_order_relaxed))(task_of(word), thread);
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!first_error) first_error = std::current_exception();
          failed.store(true, std::memory_order_relaxed);
        }
      }
      // Same store-then-check pairing as publish(): the finisher of the last task either sees the
      // sleeping caller or the caller sees all tasks done before it sleeps.
      if (tasks_done.fetch_add(1, std::memory_order_seq_cst) + 1 == count &&
          caller_waiting.load(std::memory_order_seq_cst)) {
        std::lock_guard<std::mutex> lock(done_mutex);
        done.notify_one();
      }
      word = claim.load(std::memory_order_acquire);
    }
    t_inside_task = was_inside;
  }

  // Returns true with the new generation in *generation, or false when the pool is stopping.
  bool wait_for_job(uint32_t seen, uint32_t* generation) {
    const auto spin_until = std::chrono::steady_clock::now() + kSpinDuration;
    for (int i = 0;; ++i) {
      const uint32_t g = generation_of(claim.load(std::memory_order_acquire));
      if (g != seen) {
        *generation = g;
        return true;
      }
      if (stopping.load(std::memory_order_acquire)) return false;
      cpu_relax();
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > spin_until) break;
    }
    std::unique_lock<std::mutex> lock(sleep_mutex);
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    wake.wait(lock, [&] {
      return generation_of(claim.load(std::memory_order_seq_cst)) != seen || stopping.load(std::memory_order_seq_cst);
    });
    sleepers.fetch_sub(1, std::memory_order_relaxed);
    if (stopping.load(std::memory_order_acquire)) return false;
    *generation = generation_of(claim.load(std::memory_order_acquire));
    return true;
  }

  void worker_main(int thread) {
    uint32_t seen = 0;
    uint32_t generation = 0;
    while (wait_for_job(seen, &generation)) {
      seen = generation;
      execute_tasks(generation, thread);
    }
  }

  // Publishes job `generation` and wakes sleepers. The seq_cst store / load pairs with the sleeper's
  // increment-then-check, so either the caller sees the sleeper or the sleeper sees the new job.
  void publish(uint32_t generation) {
    claim.store(claim_word(generation, 0), std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(sleep_mutex);
      wake.notify_all();
    }
  }

  void wait_for_tasks(int64_t count) {
    const auto spin_until = std::chrono::steady_clock::now() + kSpinDuration;
    for (int i = 0; tasks_done.load(std::memory_order_acquire) != count; ++i) {
      cpu_relax();
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > spin_until) {
        std::unique_lock<std::mutex> lock(done_mutex);
        caller_waiting.store(true, std::memory_order_seq_cst);
        done.wait(lock, [&] { return tasks_done.load(std::memory_order_seq_cst) == count; });
        caller_waiting.store(false, std::memory_order_relaxed);
        return;
      }
    }
  }
};

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads < 1) fail("thread pool size must be at least 1, got {}", n_threads);
  impl_ = new Impl;
  impl_->n_threads = n_threads;
  impl_->workers.reserve(static_cast<size_t>(n_threads - 1));
  for (int t = 1; t < n_threads; ++t) {
    impl_->workers.emplace_back([this, t] { impl_->worker_main(t); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->sleep_mutex);
    impl_->stopping.store(true, std::memory_order_seq_cst);
    impl_->wake.notify_all();
  }
  for (std::thread& worker : impl_->workers) worker.join();
  delete impl_;
}

int ThreadPool::size() const { return impl_->n_threads; }

void ThreadPool::run(int64_t n_tasks, const std::function<void(int64_t task, int thread)>& fn) {
  if (n_tasks <= 0) return;
  if (n_tasks > kMaxTasks) fail("ThreadPool::run: {} tasks exceed the limit of {}", n_tasks, kMaxTasks);
  Impl& p = *impl_;

  // Inline when there is nothing to share or when called from inside a task (workers are busy).
  if (p.n_threads == 1 || n_tasks == 1 || t_inside_task) {
    const bool was_inside = t_inside_task;
    t_inside_task = true;
    try {
      for (int64_t task = 0; task < n_tasks; ++task) fn(task, 0);
    } catch (...) {
      t_inside_task = was_inside;
      throw;
    }
    t_inside_task = was_inside;
    return;
  }

  std::lock_guard<std::mutex> run_lock(p.run_mutex);
  auto next_generation = [](uint32_t g) { return g + 1 == 0 ? 1u : g + 1; };  // 0 means "no job yet"
  // Close the previous job before touching fn and n_tasks. Otherwise a worker that still has the
  // previous claim word could read the new, larger n_tasks and win its compare-exchange on the
  // unchanged word. It would run an extra task with the new fn, tasks_done would overshoot, and
  // the caller could wait forever. The closing word has a new generation and a task index that no
  // job reaches, so such a compare-exchange fails and a worker that loads it claims nothing.
  const uint32_t closing = next_generation(generation_of(p.claim.load(std::memory_order_relaxed)));
  p.claim.store(claim_word(closing, UINT32_MAX), std::memory_order_seq_cst);
  const uint32_t generation = next_generation(closing);
  p.fn.store(&fn, std::memory_order_relaxed);
  p.n_tasks.store(n_tasks, std::memory_order_relaxed);
  p.tasks_done.store(0, std::memory_order_relaxed);
  p.failed.store(false, std::memory_order_relaxed);
  p.first_error = nullptr;
  p.publish(generation);

  p.execute_tasks(generation, 0);
  p.wait_for_tasks(n_tasks);
  if (p.first_error) std::rethrow_exception(p.first_error);
}

}  // namespace lkv
