// GoogleTest with infermem's assertions: a request handler's loop must not grow.
//
// Two handlers: one keeps 16 KiB of every request (a cache that never evicts), one does not.
// `LeakDemo.*` FAILS ON PURPOSE: it shows what a failure reads like, and tests/consumer checks
// that it fails. Run only the clean one in a real suite: --gtest_filter=Handler.*
//
// Build against an installed infermem:
//   find_package(infermem CONFIG REQUIRED)
//   find_package(GTest REQUIRED)
//   target_link_libraries(my_test PRIVATE infermem::infermem GTest::gtest_main)
#include <infermem/gtest.hpp>

#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

namespace {

// A stand-in for a request handler: decodes a 16 KiB payload and answers with its checksum.
class Handler {
 public:
  explicit Handler(bool keep_payloads) : keep_payloads_(keep_payloads) {}
  int handle(int request) {
    auto payload = std::make_unique<char[]>(16 << 10);
    std::memset(payload.get(), request & 0x7f, 16 << 10);
    int sum = std::accumulate(payload.get(), payload.get() + (16 << 10), 0);
    if (keep_payloads_) kept_.push_back(std::move(payload));  // the leak: nothing evicts
    return sum;
  }

 private:
  bool keep_payloads_;
  std::vector<std::unique_ptr<char[]>> kept_;
};

TEST(Handler, RequestsDoNotGrowMemory) {
  Handler handler(false);
  int request = 0;
  // Growth of 4 KiB per request or more fails; the loop runs until the verdict engine could see
  // half of that. The peak cap is the whole process's resident high-water mark.
  EXPECT_TRUE(infermem::testing::MemoryStaysFlat([&] { handler.handle(++request); },
                                                 infermem::testing::limits("4KiB", "1GiB")));
}

TEST(Handler, OneRequestPeaksUnderTheCap) {
  Handler handler(false);
  EXPECT_TRUE(infermem::testing::PeakStaysBelow("1GiB", [&] { handler.handle(1); }));
}

TEST(LeakDemo, KeepingEveryPayloadFails) {
  Handler handler(true);
  int request = 0;
  INFERMEM_EXPECT_FLAT(infermem::testing::limits("4KiB"), { handler.handle(++request); });
}

}  // namespace
