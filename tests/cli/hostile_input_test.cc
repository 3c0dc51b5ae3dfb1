// Hostile input to the brindlectl binary (issue 12): an alias bomb, deep nesting and a 100 MB
// file each fail in well under a second with a clear error, exit code 1, and brindlectl's peak
// memory stays under 100 MB; the store is not touched.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "testutil/temp_dir.h"

namespace brindle::cli {
namespace {

struct Outcome {
  int code = -1;
  std::string err;
  double seconds = 0;
  long peakKiB = 0;
};

// Runs brindlectl on the embedded store in `dir`, measuring its time and peak RSS.
Outcome brindlectl(const testutil::TempDir& dir, const std::vector<std::string>& args) {
  const std::string errFile = dir.file("stderr.txt");
  const std::string store = dir.file("store.db");
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::setenv("DATASTORE_TYPE", "local", 1);
    ::setenv("BRINDLE_STORE_PATH", store.c_str(), 1);
    std::vector<char*> argv = {const_cast<char*>(BRINDLECTL_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  Outcome r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.peakKiB = usage.ru_maxrss;
  FILE* f = std::fopen(errFile.c_str(), "r");
  char buf[4096];
  size_t n;
  while (f && (n = std::fread(buf, 1, sizeof buf, f)) > 0) r.err.append(buf, n);
  if (f) std::fclose(f);
  return r;
}

class HostileInputTest : public ::testing::Test {
 protected:
  void expectRefusedFast(const std::string& file, const std::string& expected) {
    Outcome r = brindlectl(dir_, {"apply", "-f", file});
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_LT(r.seconds, 1.0) << r.err;
    EXPECT_LT(r.peakKiB, 100 * 1024) << "peak RSS " << r.peakKiB << " KiB";
    std::printf("%s: %.3f s, peak %ld KiB: %s", file.c_str(), r.seconds, r.peakKiB, r.err.c_str());
    // Nothing was written: no store was even made.
    EXPECT_FALSE(std::filesystem::exists(dir_.file("store.db")));
  }

  testutil::TempDir dir_;
};

// Nine levels of nine aliases: a billion strings if expanded (the 471-byte file of issue 12).
TEST_F(HostileInputTest, AliasBombIsRefused) {
  std::string text =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    const char prev = static_cast<char>(c - 1);
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) text += std::string(i ? "," : "") + "*" + prev;
    text += "]\n";
  }
  expectRefusedFast(dir_.write("bomb.yaml", text), "YAML aliases expand to more than");
}

TEST_F(HostileInputTest, DeepNestingIsRefused) {
  expectRefusedFast(dir_.write("deep.yaml", std::string(100000, '[') + std::string(100000, ']')),
                    "nested deeper than 64 levels");
  // Flow brackets inside a YAML document (not JSON text): yaml-cpp's own guard trips first.
  expectRefusedFast(dir_.write("deep-flow.yaml", "a: " + std::string(100000, '[')),
                    "nested deeper than 64 levels");
  std::string yaml;
  for (int i = 0; i < 200; ++i) yaml += std::string(2 * i, ' ') + "k:\n";
  expectRefusedFast(dir_.write("deep-block.yaml", yaml), "nested deeper than 64 levels");
}

TEST_F(HostileInputTest, HugeFileIsRefusedBeforeItIsRead) {
  const std::string file = dir_.file("huge.yaml");
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 100 << 20), 0);  // 100 MB, sparse
  ::close(fd);
  expectRefusedFast(file, "is larger than 16 MiB");
}

// Aliases used as people use them (a block written once, reused) are fine.
TEST_F(HostileInputTest, OrdinaryAliasesAreAccepted) {
  const std::string file = dir_.write("aliases.yaml", R"(apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: reuse}
spec:
  selector: app == 'db'
  ingress:
  - &allow-web {action: Allow, protocol: TCP, destination: {ports: [80, 443]}}
  egress:
  - *allow-web
)");
  Outcome r = brindlectl(dir_, {"apply", "-f", file});
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
}  // namespace brindle::cli
