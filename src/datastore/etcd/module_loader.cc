// Finding and loading libbrindle-etcd.so with dlopen.
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "datastore/etcd/module.h"

namespace brindle::datastore::etcd {
namespace {

constexpr const char* kModuleName = "libbrindle-etcd.so";

// Set before main() when the backend is linked into this program.
OpenStoreFn linkedOpenStore = nullptr;

std::string programDirectory() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

std::vector<std::string> candidates() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("BRINDLE_ETCD_MODULE"); env != nullptr && *env != '\0') {
    paths.push_back(env);
  }
#ifdef BRINDLE_ETCD_MODULE_PATH
  paths.push_back(BRINDLE_ETCD_MODULE_PATH);  // the build tree's copy
#endif
  const std::string dir = programDirectory();
  if (!dir.empty()) {
    paths.push_back(dir + "/" + kModuleName);
    paths.push_back(dir + "/../lib/brindle/" + kModuleName);
  }
  return paths;
}

// Loaded once; the handle is kept for the life of the process (clients point into it).
Result<OpenStoreFn> loadModule() {
  static std::once_flag once;
  static OpenStoreFn fn = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    std::string tried;
    for (const auto& path : candidates()) {
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        tried += "\n  " + path + ": " + dlerror();
        continue;
      }
      fn = reinterpret_cast<OpenStoreFn>(dlsym(handle, kOpenStoreSymbol));
      if (fn != nullptr) return;
      tried += "\n  " + path + ": no symbol " + kOpenStoreSymbol;
    }
    failure = "the etcd backend module " + std::string(kModuleName) +
              " could not be loaded (set BRINDLE_ETCD_MODULE to its path); tried:" + tried;
  });
  if (fn == nullptr) return makeError(ErrorCode::kUnavailable, failure);
  return fn;
}

}  // namespace

void registerLinkedEtcdBackend(OpenStoreFn open) { linkedOpenStore = open; }

Result<ClientPtr> openEtcdStoreViaModule(const EtcdOptions& options) {
  if (linkedOpenStore != nullptr) return linkedOpenStore(options);
  BRINDLE_ASSIGN_OR_RETURN(auto fn, loadModule());
  return fn(options);
}

}  // namespace brindle::datastore::etcd
