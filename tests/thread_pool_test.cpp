#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tensor/thread_pool.h"

namespace lkv {
namespace {

TEST(ThreadPool, RunsEveryTaskOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n_tasks : {0, 1, 2, 3, 17, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n_tasks));
      std::atomic<bool> bad_thread{false};
      pool.run(n_tasks, [&](int64_t task, int thread) {
        hits[static_cast<size_t>(task)].fetch_add(1);
        if (thread < 0 || thread >= threads) bad_thread = true;
      });
      for (int64_t t = 0; t < n_tasks; ++t) ASSERT_EQ(hits[static_cast<size_t>(t)].load(), 1) << threads << " " << t;
      EXPECT_FALSE(bad_thread.load());
    }
  }
}

TEST(ThreadPool, ManyBackToBackRuns) {
  ThreadPool pool(2);
  int64_t total = 0;
  std::vector<int64_t> partial(2);
  for (int round = 0; round < 5000; ++round) {
    partial[0] = partial[1] = 0;
    pool.run(4, [&](int64_t task, int thread) { partial[static_cast<size_t>(thread)] += task; });
    total += partial[0] + partial[1];
  }
  EXPECT_EQ(total, 5000 * 6);
}

TEST(ThreadPool, WorkersWakeAfterSleeping) {
  ThreadPool pool(3);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // longer than the spin period
    std::atomic<int> count{0};
    pool.run(64, [&](int64_t, int) { count.fetch_add(1); });
    EXPECT_EQ(count.load(), 64);
  }
}

TEST(ThreadPool, UsesSeveralThreads) {
  ThreadPool pool(2);
  std::atomic<int> seen_mask{0};
  pool.run(200, [&](int64_t, int thread) {
    seen_mask.fetch_or(1 << thread);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  });
  EXPECT_EQ(seen_mask.load(), 3);
}

TEST(ThreadPool, PropagatesException) {
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    std::atomic<int> ran{0};
    EXPECT_THROW(pool.run(100,
                          [&](int64_t task, int) {
                            ran.fetch_add(1);
                            if (task == 5) throw std::runtime_error("task 5 failed");
                          }),
                 std::runtime_error);
    // Inline execution stops at the failing task. With workers, tasks already claimed by another
    // thread may still run, so only the count's upper limit is certain.
    if (threads == 1) EXPECT_EQ(ran.load(), 6);
    EXPECT_LE(ran.load(), 100);

    // The pool stays usable.
    std::atomic<int> count{0};
    pool.run(10, [&](int64_t, int) { count.fetch_add(1); });
    EXPECT_EQ(count.load(), 10);
  }
}

TEST(ThreadPool, ExceptionMessageKept) {
  ThreadPool pool(2);
  try {
    pool.run(8, [](int64_t task, int) {
      if (task == 7) throw std::invalid_argument("bad task 7");
    });
    FAIL() << "run() returned normally";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "bad task 7");
  }
}

TEST(ThreadPool, NestedRunExecutesInline) {
  ThreadPool pool(2);
  std::atomic<int> inner{0};
  pool.run(4, [&](int64_t, int) { pool.run(3, [&](int64_t, int) { inner.fetch_add(1); }); });
  EXPECT_EQ(inner.load(), 12);
}

TEST(ThreadPool, ConcurrentCallersAreSerialized) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&] {
      for (int r = 0; r < 200; ++r) pool.run(10, [&](int64_t task, int) { sum.fetch_add(task); });
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(sum.load(), 3 * 200 * 45);
}

TEST(ThreadPool, RejectsZeroThreads) { EXPECT_THROW(ThreadPool pool(0), std::exception); }

}  // namespace
}  // namespace lkv

// Back-to-back jobs whose task counts grow and shrink: every task of every job runs exactly once.
// A worker that lagged behind one job used to be able to claim an extra task of the next one while
// the caller set it up, which ran a task twice and could leave the caller waiting forever.
TEST(ThreadPool, BackToBackJobsRunEachTaskOnce) {
  lkv::ThreadPool pool(2);
  std::vector<std::atomic<int>> hits(16);
  for (int job = 0; job < 20000; ++job) {
    const int n_tasks = 2 + (job * 7) % 14;
    for (int i = 0; i < n_tasks; ++i) hits[static_cast<size_t>(i)].store(0, std::memory_order_relaxed);
    pool.run(n_tasks, [&](int64_t task, int) { hits[static_cast<size_t>(task)].fetch_add(1, std::memory_order_relaxed); });
    for (int i = 0; i < n_tasks; ++i) {
      ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "job " << job << ", task " << i << " of " << n_tasks;
    }
  }
}
