#include <gtest/gtest.h>

#include "util/error.h"

TEST(Error, FailFormatsMessage) {
  try {
    lkv::fail("value {} is invalid", 42);
    FAIL() << "fail() returned";
  } catch (const lkv::Error& e) {
    EXPECT_STREQ(e.what(), "value 42 is invalid");
  }
}
