// The CLI's argument parser: each command declares its flags (name, type, default, one line of
// help); parse() checks the command line against that declaration, so a typo or a malformed value
// is a usage error before any work starts, and --help is generated from the same declaration.
//
// Accepted forms: `--flag value`, `--flag=value`, a bare `--flag` for booleans (`--flag=true`,
// `--flag=false` also work), repeated `--set key=value` for key-value flags, and positional
// arguments when the command declares them. `--` ends the flags. A value given as a separate
// word may not start with "--" (write `--flag=--x` for that); negative numbers are fine. String
// values may not be empty. Single-dash words other than `-h`, `-` and negative numbers are
// rejected as unknown flags rather than taken as arguments.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tutor::cli {

// A command line that does not match the command's declaration; exit code 2. The message is
// complete: "tutor train: --epochs expects an integer, got 'x'".
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

enum class FlagType {
  boolean,    // present or absent; no value
  integer,    // int64, decimal
  real,       // finite double
  string,     // any text
  list,       // comma-separated, non-empty items: "a,b,c"
  key_value,  // "key=value", may repeat; collected in order
};
const char* flag_type_name(FlagType type);  // "bool", "int", "float", "string", "list", "key=value"

struct FlagSpec {
  std::string name;  // without dashes: "epochs"
  FlagType type;
  std::string default_value;  // as it would be typed; empty: none (booleans default to false)
  std::string help;           // one line
  std::string metavar = {};   // placeholder in --help ("FILE"); empty: from the type
  bool hidden = false;        // parsed as any flag but left out of --help (internal plumbing)
};

struct PositionalSpec {
  std::string name;  // "RECIPE"
  std::string help;
  bool required = true;  // optional ones come after every required one
};

struct CommandSpec {
  std::vector<std::string> words;  // {"audit", "kernels"}
  std::string summary;             // one line, for `tutor help`
  std::string description;         // a paragraph for `tutor <cmd> --help`; may be empty
  std::vector<FlagSpec> flags;
  std::vector<PositionalSpec> positionals;  // in order, the required ones first

  std::string full_name() const;  // "audit kernels"
  const FlagSpec* find_flag(const std::string& name) const;
};

// The parsed command line of one command. Getters take the declared name; asking for a flag the
// command did not declare, or with the getter of another type, is a programming error
// (std::logic_error). Values were checked by parse(), so typed getters do not fail on user input.
// An Args refers to its CommandSpec, which must outlive it.
class Args {
 public:
  Args(const CommandSpec& spec, std::map<std::string, std::vector<std::string>> values,
       std::vector<std::string> positionals, bool help);

  const CommandSpec& spec() const { return *spec_; }
  bool help_requested() const { return help_; }
  bool given(const std::string& name) const;  // on the command line, not just defaulted

  bool get_bool(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  // get_int, with a usage error "tutor <cmd>: --name must be between lo and hi, got v" outside.
  int64_t get_int_in(const std::string& name, int64_t lo, int64_t hi) const;
  double get_double(const std::string& name) const;
  std::string get_string(const std::string& name) const;  // "" when neither given nor defaulted
  std::vector<std::string> get_list(const std::string& name) const;
  std::vector<std::pair<std::string, std::string>> get_key_values(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  const FlagSpec& spec_of(const std::string& name, FlagType type) const;
  // The given value, else the default; empty optional-like: nullptr when neither.
  const std::string* value_of(const FlagSpec& flag) const;

  const CommandSpec* spec_;
  std::map<std::string, std::vector<std::string>> values_;  // flag name -> values as typed
  std::vector<std::string> positionals_;
  bool help_;
};

// Parses `words` (the command line after the command's own words) against `spec`. Throws
// UsageError naming the command and the flag. `-h`/`--help` anywhere sets help_requested() and
// skips the required-positional check.
Args parse_args(const CommandSpec& spec, const std::vector<std::string>& words);

// Typed conversions shared by parse_args (checking) and the getters; `command` and `flag` name
// the error: "tutor train: --epochs expects an integer, got 'x'".
int64_t parse_int(const std::string& command, const std::string& flag, const std::string& text);
double parse_double(const std::string& command, const std::string& flag, const std::string& text);
bool parse_bool(const std::string& command, const std::string& flag, const std::string& text);
std::vector<std::string> parse_list(const std::string& command, const std::string& flag,
                                    const std::string& text);
std::pair<std::string, std::string> parse_key_value(const std::string& command,
                                                    const std::string& flag,
                                                    const std::string& text);

// `tutor <cmd> --help`: usage line, description, and one row per flag (name, type, default, help).
std::string command_help(const CommandSpec& spec);

}  // namespace tutor::cli
