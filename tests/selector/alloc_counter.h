// Heap-allocation counter for tests that must prove a hot path allocates nothing.
#pragma once

namespace brindle::testutil {

// Number of global operator new calls so far in this process (counting starts at startup).
long allocationCount();

}  // namespace brindle::testutil
