// What the CLI tests share: a command run in-process with its exit code and output, and a
// scratch folder removed at the end.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tools/cli/command.h"

namespace tutor::testing {

struct Run {
  int code;
  std::string out, err;
};

inline Run run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = cli::run_cli(args, out, err);
  return {code, out.str(), err.str()};
}

struct ScratchDir {
  std::filesystem::path dir;
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tutor-test-XXXXXX").string();
    dir = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(dir); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

}  // namespace tutor::testing
