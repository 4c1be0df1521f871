#include "tools/cli/command.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/core/error.h"
#include "tutor_git_describe.h"  // generated at every build: tools/cmake/git_describe.cmake

namespace tutor::cli {

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = {
      audit_kernels_command(),
      audit_ops_command(),
      train_command(),
      distill_command(),
      eval_command(),
      forward_command(),
      export_command(),
      loss_command(),
      bench_command(),
      bench_ops_command(),
  };
  return commands;
}

std::string version_string() {
  std::string v = fmt::format("tutor {}", TUTOR_VERSION);
  if (std::string_view(TUTOR_GIT_DESCRIBE).size() > 0)
    v += fmt::format(" (git {})", TUTOR_GIT_DESCRIBE);
  return v;
}

std::string general_help() {
  size_t width = 4;
  for (const Command& c : all_commands()) width = std::max(width, c.spec.full_name().size());
  std::string out = "usage: tutor <command> [options]\n\ncommands:\n";
  for (const Command& c : all_commands())
    out += fmt::format("  {:<{}}  {}\n", c.spec.full_name(), width, c.spec.summary);
  out += fmt::format("  {:<{}}  {}\n", "help", width,
                     "this list; `tutor help <command>` shows a command's flags");
  out +=
      "\n`tutor <command> --help` shows a command's flags; `tutor --version` prints the version.\n"
      "Exit codes: 0 success, 1 runtime error, 2 usage error.\n";
  return out;
}

// The command whose words are the longest prefix of `args`; null if none.
static const Command* match(const std::vector<std::string>& args) {
  const Command* best = nullptr;
  for (const Command& c : all_commands()) {
    const std::vector<std::string>& w = c.spec.words;
    if (w.size() <= args.size() && std::equal(w.begin(), w.end(), args.begin()) &&
        (!best || w.size() > best->spec.words.size()))
      best = &c;
  }
  return best;
}

// The usage error for a command line that names no command: an unknown word, or a group such as
// "audit" given without its subcommand.
[[noreturn]] static void no_command(const std::vector<std::string>& args) {
  std::vector<std::string> subcommands;
  for (const Command& c : all_commands())
    if (c.spec.words.size() > 1 && c.spec.words[0] == args[0])
      subcommands.push_back(c.spec.words[1]);
  if (!subcommands.empty()) {
    if (args.size() == 1)
      throw UsageError(
          fmt::format("tutor {}: expects a subcommand: {}", args[0], fmt::join(subcommands, ", ")));
    throw UsageError(fmt::format("tutor {}: unknown subcommand '{}'; valid: {}", args[0], args[1],
                                 fmt::join(subcommands, ", ")));
  }
  std::vector<std::string> names;
  for (const Command& c : all_commands())
    if (std::find(names.begin(), names.end(), c.spec.words[0]) == names.end())
      names.push_back(c.spec.words[0]);
  names.push_back("help");
  throw UsageError(
      fmt::format("tutor: unknown command '{}'; commands: {}", args[0], fmt::join(names, ", ")));
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << general_help();
    return 2;
  }
  if (args[0] == "--version" && args.size() == 1) {
    out << version_string() << "\n";
    return 0;
  }
  const Command* command = nullptr;
  std::string name = "tutor";
  try {
    if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
      if (args.size() == 1) {
        out << general_help();
        return 0;
      }
      std::vector<std::string> rest(args.begin() + 1, args.end());
      command = match(rest);
      if (!command || command->spec.words.size() != rest.size()) no_command(rest);
      out << command_help(command->spec);
      return 0;
    }
    if (args[0].starts_with("-"))
      throw UsageError(fmt::format(
          "tutor: unknown option '{}'; expected a command (see `tutor help`)", args[0]));
    command = match(args);
    if (!command) no_command(args);
    name = "tutor " + command->spec.full_name();
    Args parsed = parse_args(
        command->spec,
        std::vector<std::string>(args.begin() + ptrdiff_t(command->spec.words.size()), args.end()));
    if (parsed.help_requested()) {
      out << command_help(command->spec);
      return 0;
    }
    Io io{out, err};
    command->run(parsed, io);
    out.flush();
    return 0;
  } catch (const UsageError& e) {
    err << e.what() << "\n";
    err << fmt::format("run `{} --help` for usage\n",
                       command ? "tutor " + command->spec.full_name() : std::string("tutor"));
    return 2;
  } catch (const Error& e) {
    err << name << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    err << name << ": internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace tutor::cli
