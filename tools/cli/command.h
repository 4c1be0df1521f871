// The frame every `tutor` command plugs into: a command is its declaration (words, flags, help)
// and a function that runs it. run_cli() picks the command from the command line, parses its
// flags, runs it and turns the outcome into an exit code:
//   0  success (and --help, `tutor help`, --version)
//   2  usage error: the message, then a pointer to `tutor <cmd> --help`, on stderr
//   1  runtime error: a tutor::Error (bad file, bad recipe, ...) as "tutor <cmd>: <message>"
// To add a command: write a function returning its Command in its own file and list it in
// all_commands() (command.cpp).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "tools/cli/args.h"

namespace tutor::cli {

struct Io {
  std::ostream& out;  // results
  std::ostream& err;  // diagnostics and progress
};

struct Command {
  CommandSpec spec;
  std::function<void(const Args&, Io&)> run;  // reports failure by throwing tutor::Error
};

const std::vector<Command>& all_commands();

// `args` is the command line without the program name.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

std::string general_help();    // `tutor help`
std::string version_string();  // "tutor 0.1.0" plus " (git <describe>)" when configured in git

// The commands, one function each (defined in <name>_command.cpp).
Command audit_kernels_command();
Command audit_ops_command();
Command train_command();
Command distill_command();
Command eval_command();
Command forward_command();
Command export_command();
Command loss_command();
Command bench_command();
Command bench_ops_command();

}  // namespace tutor::cli
