// Replaces global operator new/delete in the test binary to count allocations. Kept in its own
// file so the compiler never sees the replacement inlined next to the code it measures.
#include "alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> gAllocations{0};
}  // namespace

void* operator new(std::size_t size) {
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace brindle::testutil {
long allocationCount() { return gAllocations.load(std::memory_order_relaxed); }
}  // namespace brindle::testutil
