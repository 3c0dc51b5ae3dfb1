// brindle-cni: the CNI network plugin; installed also as brindle-ipam, the CNI IPAM plugin.
#include <iostream>

#include "cni/command.h"
#include "config/datastore_config.h"

int main(int argc, char** argv) {
  (void)argc;
  return brindle::cni::runCommand(argv[0], brindle::config::processEnvironment(), std::cin,
                                  std::cout, std::cerr);
}
