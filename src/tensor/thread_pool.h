// Fixed-size pool of worker threads for data-parallel loops.
#pragma once

#include <cstdint>
#include <functional>

namespace lkv {

class ThreadPool {
 public:
  // n_threads counts the calling thread, so ThreadPool(1) runs everything inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;

  // Runs fn(task, thread) for every task in [0, n_tasks), spread over the threads; returns when all
  // are done. thread is in [0, size()). The first exception thrown by a task is rethrown here.
  void run(int64_t n_tasks, const std::function<void(int64_t task, int thread)>& fn);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace lkv
