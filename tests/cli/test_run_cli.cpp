// run_cli end to end, in-process: command selection, help, version, exit codes and messages.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_test.h"
#include "engine/ops/catalog.h"
#include "tools/cli/command.h"

using namespace tutor::cli;
using namespace tutor::testing;
namespace fs = std::filesystem;

TEST_CASE("cli: help and version exit 0 and print on stdout") {
  Run help = run({"help"});
  CHECK(help.code == 0);
  CHECK(help.err == "");
  CHECK(help.out.starts_with("usage: tutor <command> [options]\n"));
  CHECK(help.out.find("  audit kernels  which backend serves") != std::string::npos);
  CHECK(run({"--help"}).out == help.out);
  CHECK(run({"-h"}).out == help.out);

  Run cmd_help = run({"audit", "kernels", "--help"});
  CHECK(cmd_help.code == 0);
  CHECK(cmd_help.out.starts_with("usage: tutor audit kernels [options]\n"));
  CHECK(cmd_help.out.find("--json FILE") != std::string::npos);
  CHECK(run({"help", "audit", "kernels"}).out == cmd_help.out);

  Run version = run({"--version"});
  CHECK(version.code == 0);
  CHECK(version.out.starts_with("tutor 0."));
  CHECK(version.out == version_string() + "\n");
}

TEST_CASE("cli: usage errors exit 2 with the message and a pointer to --help") {
  Run none = run({});
  CHECK(none.code == 2);
  CHECK(none.err.starts_with("usage: tutor"));

  Run unknown = run({"trian"});
  CHECK(unknown.code == 2);
  CHECK(unknown.out == "");
  CHECK(unknown.err ==
        "tutor: unknown command 'trian'; commands: audit, train, distill, eval, forward, export, "
        "loss, bench, help\nrun `tutor --help` for usage\n");

  CHECK(run({"audit"}).err ==
        "tutor audit: expects a subcommand: kernels, ops\nrun `tutor --help` for usage\n");
  CHECK(run({"audit", "kernel"}).err ==
        "tutor audit: unknown subcommand 'kernel'; valid: kernels, ops\n"
        "run `tutor --help` for usage\n");
  CHECK(run({"help", "audit"}).code == 2);
  CHECK(run({"--verbose"}).code == 2);

  Run flag = run({"audit", "kernels", "--jsn", "x"});
  CHECK(flag.code == 2);
  CHECK(flag.err ==
        "tutor audit kernels: unknown flag --jsn; valid flags: --json, --help\n"
        "run `tutor audit kernels --help` for usage\n");
  CHECK(run({"audit", "ops", "extra"}).err ==
        "tutor audit ops: unexpected argument 'extra'\nrun `tutor audit ops --help` for usage\n");
}

TEST_CASE("cli: runtime errors exit 1 as 'tutor <cmd>: <message>'") {
  Run r = run({"audit", "kernels", "--json", "/nonexistent-dir/a.json"});
  CHECK(r.code == 1);
  CHECK(
      r.err.starts_with("tutor audit kernels: /nonexistent-dir/a.json: cannot create a temporary "
                        "file in /nonexistent-dir"));
}

TEST_CASE("cli: audit kernels prints every op and writes the same as JSON") {
  std::string tmpl = (fs::temp_directory_path() / "tutor-cli-XXXXXX").string();
  fs::path dir = ::mkdtemp(tmpl.data());
  fs::path json = dir / "kernels.json";
  Run r = run({"audit", "kernels", "--json=" + json.string()});
  CHECK(r.code == 0);
  CHECK(r.err == "");
  for (const tutor::ops::OpInfo& op : tutor::ops::op_catalog()) {
    INFO(op.name);
    CHECK(r.out.find("\n" + op.name + " ") != std::string::npos);
  }
  CHECK(r.out.find(fmt::format("\n{} ops (", tutor::ops::op_catalog().size())) !=
        std::string::npos);
  std::ifstream f(json);
  std::stringstream s;
  s << f.rdbuf();
  CHECK(s.str().starts_with("{\"ops\":[{\"op\":\""));
  CHECK(s.str().find("\"kernel\":\"conv2d\"") != std::string::npos);
  CHECK(s.str().ends_with("}}\n"));

  Run ops = run({"audit", "ops"});
  CHECK(ops.code == 0);
  CHECK(ops.out.find("\nconv2d ") != std::string::npos);
  fs::remove_all(dir);
}
