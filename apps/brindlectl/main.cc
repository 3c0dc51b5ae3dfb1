// brindlectl: the calicoctl equivalent. All logic lives in src/cli.
#include <iostream>

#include "cli/app.h"
#include "config/datastore_config.h"

int main(int argc, char** argv) {
  brindle::cli::Io io{std::cin, std::cout, std::cerr, brindle::config::processEnvironment()};
  return brindle::cli::runBrindlectl(std::vector<std::string>(argv + 1, argv + argc), io);
}
