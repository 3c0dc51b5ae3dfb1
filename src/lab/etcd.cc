// etcd in the lab: a single-member cluster listening on its fabric address.
#include "lab/etcd.h"

#include <filesystem>

#include "lab/fabric.h"

namespace brindle::lab {

Status startEtcd(Lab& lab, const std::string& address, const std::string& gateway) {
  if (Status s = lab.addNetns(kEtcd); !s) return s;
  if (Status s = plugIn(lab, kEtcd, 1, address, gateway); !s) return s;
  const std::string ip = address.substr(0, address.find('/'));
  const std::string client = "http://" + ip + ":2379", peer = "http://127.0.0.1:2380";
  lab.state().etcdEndpoint = client;
  lab.state().ctlMember = kEtcd;
  if (Status s = lab.save(); !s) return s;
  std::filesystem::create_directories(lab.logDir());
  if (Status s =
          lab.daemon(kEtcd,
                     {"etcd", "--name", "lab", "--data-dir", lab.dir() + "/etcd",
                      "--listen-client-urls", client, "--advertise-client-urls", client,
                      "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                      "--initial-cluster", "lab=" + peer, "--log-level", "warn", "--logger", "zap"},
                     {}, lab.logDir() + "/etcd.log");
      !s) {
    return s;
  }
  const bool healthy = waitFor(20, [&] {
    auto r = lab.run(kEtcd,
                     {"etcdctl", "--endpoints", client, "--dial-timeout=1s", "endpoint", "health"},
                     {"ETCDCTL_API=3"}, "", std::chrono::seconds(3));
    return r && r->exitCode == 0;
  });
  if (!healthy) {
    return makeError(ErrorCode::kUnavailable, "etcd did not answer at " + client +
                                                  " within 20 s (" + lab.logDir() + "/etcd.log)");
  }
  return Status::ok();
}

}  // namespace brindle::lab
