// Helper process for multiprocess_test.cc: one of several writers hammering the same store file.
// Usage: store_worker <store path> <worker id> <start fd> <keys>
//   Waits for EOF on <start fd> (so all workers start together), then, on its own keys
//   /mp/w<id>/k<i>: creates each, CAS-updates it, later updates it again and deletes the first
//   half; every second key it also CAS-increments the shared /mp/counter, retrying on kConflict.
//   Exits 0 when every operation succeeded as expected; prints what went wrong otherwise.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "datastore/local/local_store.h"

using brindle::ErrorCode;
using brindle::datastore::Client;

namespace {

int fail(const std::string& what, const std::string& message) {
  std::fprintf(stderr, "store_worker: %s: %s\n", what.c_str(), message.c_str());
  return 1;
}

bool incrementCounter(Client& client, std::string* error) {
  for (int attempt = 0; attempt < 10000; ++attempt) {
    auto kv = client.get("/mp/counter");
    if (!kv) {
      *error = kv.message();
      return false;
    }
    auto r =
        client.update("/mp/counter", std::to_string(std::stoll(kv->value) + 1), kv->modRevision);
    if (r) return true;
    if (r.code() != ErrorCode::kConflict) {
      *error = r.message();
      return false;
    }
  }
  *error = "counter: too many conflicts";
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: store_worker <store path> <worker id> <start fd> <keys>\n");
    return 2;
  }
  const std::string path = argv[1];
  const std::string id = argv[2];
  const int startFd = std::atoi(argv[3]);
  const int keys = std::atoi(argv[4]);

  auto opened = brindle::datastore::openLocalStore(path);
  if (!opened) return fail("open", opened.message());
  Client& client = **opened;

  char byte;
  while (::read(startFd, &byte, 1) > 0) {
  }
  ::close(startFd);

  // fmt rather than operator+ chains: GCC 12 raises a false -Wrestrict on the latter.
  auto key = [&](int i) { return fmt::format("/mp/w{}/k{}", id, i); };
  auto value = [&](int phase, int i) { return fmt::format("v{}-{}-{}", phase, id, i); };
  std::string error;
  for (int i = 0; i < keys; ++i) {
    auto created = client.create(key(i), value(0, i));
    if (!created) return fail("create " + key(i), created.message());
    auto updated = client.update(key(i), value(1, i), *created);
    if (!updated) return fail("update " + key(i), updated.message());
    if (i % 2 == 1 && !incrementCounter(client, &error)) return fail("increment", error);
  }
  for (int i = 0; i < keys; ++i) {
    auto updated = client.update(key(i), value(2, i), 0);
    if (!updated) return fail("update " + key(i), updated.message());
    if (i < keys / 2) {
      auto removed = client.remove(key(i), *updated);
      if (!removed) return fail("remove " + key(i), removed.message());
    }
  }
  return 0;
}
