// agent_probe: the traffic helper of the end-to-end tests, run inside workload namespaces.
//   serve LOG tcp:PORT|udp:PORT...    log "<proto> <port> from <src>" per connection/datagram; TCP
//                                     answers "from <src>\n" then echoes; UDP answers "from <src>"
//   connect tcp|udp HOST PORT [SRC]   exit 0 if the server answered within 700 ms
//   stream HOST PORT SECONDS          echo 1 KiB every 10 ms; exit 0 if no reply was ever late
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

sockaddr_in addr(const char* host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &a.sin_addr);
  return a;
}

std::string peer(const sockaddr_in& a) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  return buf;
}

bool waitReadable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) > 0;
}

void logLine(const std::string& path, const std::string& line) {
  if (FILE* f = std::fopen(path.c_str(), "a")) {
    std::fputs((line + "\n").c_str(), f);
    std::fclose(f);
  }
}

int serve(const std::string& log, const std::vector<std::string>& specs) {
  std::vector<std::thread> threads;
  for (const auto& spec : specs) {
    bool tcp = spec.rfind("tcp:", 0) == 0;
    int port = std::atoi(spec.c_str() + 4);
    int fd = ::socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = addr("0.0.0.0", port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("bind");
      return 2;
    }
    if (tcp) ::listen(fd, 64);
    threads.emplace_back([=] {
      for (;;) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        if (!tcp) {
          char buf[2048];
          ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
          if (n < 0) continue;
          logLine(log, "udp " + std::to_string(port) + " from " + peer(from));
          std::string reply = "from " + peer(from);
          ::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
          continue;
        }
        int c = ::accept(fd, reinterpret_cast<sockaddr*>(&from), &len);
        if (c < 0) continue;
        logLine(log, "tcp " + std::to_string(port) + " from " + peer(from));
        std::thread([c, from] {
          std::string hello = "from " + peer(from) + "\n";
          ::send(c, hello.data(), hello.size(), MSG_NOSIGNAL);
          char buf[4096];
          for (;;) {
            ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            if (::send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
          }
          ::close(c);
        }).detach();
      }
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}

int connectTo(bool tcp, const char* host, int port, const char* src) {
  int fd = ::socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
  if (src) {
    sockaddr_in s = addr(src, 0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&s), sizeof s) != 0) {
      std::perror("bind source");
      return 2;
    }
  }
  sockaddr_in a = addr(host, port);
  if (tcp) {
    // Non-blocking connect with a deadline.
    struct timeval tv {
      0, 700000
    };
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 1;
  if (!tcp) ::send(fd, "ping", 4, 0);
  if (!waitReadable(fd, 700)) return 1;
  char buf[256];
  ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 1;
  buf[n] = 0;
  std::printf("%s%s", buf, tcp ? "" : "\n");
  return 0;
}

int stream(const char* host, int port, double seconds) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = addr(host, port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 1;
  char line[256];
  if (!waitReadable(fd, 1000) || ::recv(fd, line, sizeof line, 0) <= 0) return 1;
  std::string chunk(1024, 'x');
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int rounds = 0;
  double worstMs = 0;
  while (std::chrono::steady_clock::now() < end) {
    auto t0 = std::chrono::steady_clock::now();
    if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(chunk.size())) {
      std::fprintf(stderr, "send failed after %d rounds\n", rounds);
      return 1;
    }
    size_t got = 0;
    char buf[4096];
    while (got < chunk.size()) {
      if (!waitReadable(fd, 1000)) {
        std::fprintf(stderr, "echo late (>1 s) after %d rounds\n", rounds);
        return 1;
      }
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        std::fprintf(stderr, "connection lost after %d rounds\n", rounds);
        return 1;
      }
      got += static_cast<size_t>(n);
    }
    worstMs = std::max(
        worstMs,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    ++rounds;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("rounds %d worst %.1f ms\n", rounds, worstMs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::strcmp(argv[1], "serve") == 0) {
    return serve(argv[2], std::vector<std::string>(argv + 3, argv + argc));
  }
  if (argc >= 5 && std::strcmp(argv[1], "connect") == 0) {
    return connectTo(std::strcmp(argv[2], "tcp") == 0, argv[3], std::atoi(argv[4]),
                     argc >= 6 ? argv[5] : nullptr);
  }
  if (argc == 5 && std::strcmp(argv[1], "stream") == 0) {
    return stream(argv[2], std::atoi(argv[3]), std::atof(argv[4]));
  }
  std::fprintf(stderr,
               "usage: agent_probe serve LOG SPEC... | connect tcp|udp HOST PORT [SRC] | "
               "stream HOST PORT SECONDS\n");
  return 2;
}
