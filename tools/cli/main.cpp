// The `tutor` command line: see tools/cli/command.h for the commands and exit codes.
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli/command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return tutor::cli::run_cli(args, std::cout, std::cerr);
}
