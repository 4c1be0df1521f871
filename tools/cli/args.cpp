#include "tools/cli/args.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace tutor::cli {

const char* flag_type_name(FlagType type) {
  switch (type) {
    case FlagType::boolean:
      return "bool";
    case FlagType::integer:
      return "int";
    case FlagType::real:
      return "float";
    case FlagType::string:
      return "string";
    case FlagType::list:
      return "list";
    case FlagType::key_value:
      return "key=value";
  }
  return "?";
}

std::string CommandSpec::full_name() const { return fmt::format("{}", fmt::join(words, " ")); }

const FlagSpec* CommandSpec::find_flag(const std::string& name) const {
  for (const FlagSpec& f : flags)
    if (f.name == name) return &f;
  return nullptr;
}

[[noreturn]] static void usage(const std::string& command, const std::string& message) {
  throw UsageError(fmt::format("tutor {}: {}", command, message));
}

int64_t parse_int(const std::string& command, const std::string& flag, const std::string& text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec == std::errc::result_out_of_range)
    usage(command, fmt::format("--{} expects an integer, got '{}' (out of range)", flag, text));
  if (text.empty() || ec != std::errc() || ptr != end)
    usage(command, fmt::format("--{} expects an integer, got '{}'", flag, text));
  return v;
}

double parse_double(const std::string& command, const std::string& flag, const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  // from_chars also reads "inf" and "nan"; a flag's number must be finite.
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v))
    usage(command, fmt::format("--{} expects a number, got '{}'", flag, text));
  return v;
}

bool parse_bool(const std::string& command, const std::string& flag, const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  usage(command, fmt::format("--{} expects true or false, got '{}'", flag, text));
}

std::vector<std::string> parse_list(const std::string& command, const std::string& flag,
                                    const std::string& text) {
  std::vector<std::string> items;
  if (text.empty()) return items;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    if (item.empty())
      usage(command,
            fmt::format("--{} expects a comma-separated list without empty items, got '{}'", flag,
                        text));
    items.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

std::pair<std::string, std::string> parse_key_value(const std::string& command,
                                                    const std::string& flag,
                                                    const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    usage(command, fmt::format("--{} expects key=value, got '{}'", flag, text));
  return {text.substr(0, eq), text.substr(eq + 1)};
}

// Checks one value by converting it; the result is discarded (getters convert again).
static void check_value(const std::string& command, const FlagSpec& flag, const std::string& text) {
  switch (flag.type) {
    case FlagType::boolean:
      parse_bool(command, flag.name, text);
      break;
    case FlagType::integer:
      parse_int(command, flag.name, text);
      break;
    case FlagType::real:
      parse_double(command, flag.name, text);
      break;
    case FlagType::string:
      if (text.empty()) usage(command, fmt::format("--{} expects a non-empty value", flag.name));
      break;
    case FlagType::list:
      parse_list(command, flag.name, text);
      break;
    case FlagType::key_value:
      parse_key_value(command, flag.name, text);
      break;
  }
}

static std::string valid_flags(const CommandSpec& spec) {
  std::vector<std::string> names;
  for (const FlagSpec& f : spec.flags) names.push_back("--" + f.name);
  names.push_back("--help");
  return fmt::format("{}", fmt::join(names, ", "));
}

Args parse_args(const CommandSpec& spec, const std::vector<std::string>& words) {
  const std::string command = spec.full_name();
  std::map<std::string, std::vector<std::string>> values;
  std::vector<std::string> positionals;
  bool help = false;
  bool flags_ended = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    // Positional: after `--`, "-" itself, anything not starting with '-', and negative numbers.
    bool dash_word = word.size() >= 2 && word[0] == '-' && !std::isdigit((unsigned char)word[1]);
    if (flags_ended || !dash_word) {
      positionals.push_back(word);
      continue;
    }
    if (word[1] != '-' && word != "-h")
      usage(command, fmt::format("unknown flag {} (flags are spelled --name); valid flags: {}",
                                 word, valid_flags(spec)));
    if (word == "--") {
      flags_ended = true;
      continue;
    }
    if (word == "-h" || word == "--help") {
      help = true;
      continue;
    }
    size_t eq = word.find('=');
    std::string name = word.substr(2, eq == std::string::npos ? eq : eq - 2);
    const FlagSpec* flag = spec.find_flag(name);
    if (!flag)
      usage(command, fmt::format("unknown flag --{}; valid flags: {}", name, valid_flags(spec)));
    std::string value;
    if (eq != std::string::npos) {
      value = word.substr(eq + 1);
    } else if (flag->type == FlagType::boolean) {
      value = "true";
    } else {
      if (i + 1 == words.size() || words[i + 1].starts_with("--"))
        usage(command, fmt::format("--{} expects a value ({})", name, flag_type_name(flag->type)));
      value = words[++i];
    }
    check_value(command, *flag, value);
    std::vector<std::string>& slot = values[name];
    if (!slot.empty() && flag->type != FlagType::key_value)
      usage(command, fmt::format("--{} given more than once", name));
    slot.push_back(std::move(value));
  }
  if (!help) {
    if (positionals.size() > spec.positionals.size()) {
      if (spec.positionals.empty())
        usage(command, fmt::format("unexpected argument '{}'", positionals[0]));
      usage(command, fmt::format("unexpected argument '{}' (expects {} argument{})",
                                 positionals[spec.positionals.size()], spec.positionals.size(),
                                 spec.positionals.size() == 1 ? "" : "s"));
    }
    if (positionals.size() < spec.positionals.size() &&
        spec.positionals[positionals.size()].required)
      usage(command, fmt::format("missing argument {}", spec.positionals[positionals.size()].name));
  }
  return Args(spec, std::move(values), std::move(positionals), help);
}

Args::Args(const CommandSpec& spec, std::map<std::string, std::vector<std::string>> values,
           std::vector<std::string> positionals, bool help)
    : spec_(&spec), values_(std::move(values)), positionals_(std::move(positionals)), help_(help) {}

bool Args::given(const std::string& name) const {
  if (!spec_->find_flag(name))
    throw std::logic_error(
        fmt::format("tutor {}: no flag --{} declared", spec_->full_name(), name));
  return values_.contains(name);
}

const FlagSpec& Args::spec_of(const std::string& name, FlagType type) const {
  const FlagSpec* flag = spec_->find_flag(name);
  if (!flag || flag->type != type)
    throw std::logic_error(fmt::format("tutor {}: no {} flag --{} declared", spec_->full_name(),
                                       flag_type_name(type), name));
  return *flag;
}

const std::string* Args::value_of(const FlagSpec& flag) const {
  auto it = values_.find(flag.name);
  if (it != values_.end()) return &it->second.back();
  return flag.default_value.empty() ? nullptr : &flag.default_value;
}

bool Args::get_bool(const std::string& name) const {
  const std::string* v = value_of(spec_of(name, FlagType::boolean));
  return v && parse_bool(spec_->full_name(), name, *v);
}

int64_t Args::get_int(const std::string& name) const {
  const std::string* v = value_of(spec_of(name, FlagType::integer));
  if (!v) usage(spec_->full_name(), fmt::format("--{} is required", name));
  return parse_int(spec_->full_name(), name, *v);
}

int64_t Args::get_int_in(const std::string& name, int64_t lo, int64_t hi) const {
  int64_t v = get_int(name);
  if (v < lo || v > hi)
    usage(spec_->full_name(),
          fmt::format("--{} must be between {} and {}, got {}", name, lo, hi, v));
  return v;
}

double Args::get_double(const std::string& name) const {
  const std::string* v = value_of(spec_of(name, FlagType::real));
  if (!v) usage(spec_->full_name(), fmt::format("--{} is required", name));
  return parse_double(spec_->full_name(), name, *v);
}

std::string Args::get_string(const std::string& name) const {
  const std::string* v = value_of(spec_of(name, FlagType::string));
  return v ? *v : std::string();
}

std::vector<std::string> Args::get_list(const std::string& name) const {
  const std::string* v = value_of(spec_of(name, FlagType::list));
  return v ? parse_list(spec_->full_name(), name, *v) : std::vector<std::string>{};
}

std::vector<std::pair<std::string, std::string>> Args::get_key_values(
    const std::string& name) const {
  spec_of(name, FlagType::key_value);
  std::vector<std::pair<std::string, std::string>> out;
  auto it = values_.find(name);
  if (it != values_.end())
    for (const std::string& v : it->second)
      out.push_back(parse_key_value(spec_->full_name(), name, v));
  return out;
}

std::string command_help(const CommandSpec& spec) {
  std::string usage_line = "usage: tutor " + spec.full_name();
  if (!spec.flags.empty()) usage_line += " [options]";
  for (const PositionalSpec& p : spec.positionals)
    usage_line += p.required ? " " + p.name : " [" + p.name + "]";
  std::string out = usage_line + "\n\n" + spec.summary + "\n";
  if (!spec.description.empty()) out += "\n" + spec.description + "\n";
  if (!spec.positionals.empty()) {
    out += "\narguments:\n";
    for (const PositionalSpec& p : spec.positionals)
      out += fmt::format("  {:<24} {}\n", p.name, p.help);
  }
  // Columns: flag and placeholder, type, default, help.
  struct Row {
    std::string flag, type, def, help;
  };
  std::vector<Row> rows;
  for (const FlagSpec& f : spec.flags) {
    if (f.hidden) continue;
    std::string flag = "--" + f.name;
    if (f.type != FlagType::boolean) {
      std::string meta = f.metavar.empty() ? flag_type_name(f.type) : f.metavar;
      std::transform(meta.begin(), meta.end(), meta.begin(),
                     [](unsigned char c) { return char(std::toupper(c)); });
      flag += " " + meta;
    }
    std::string def =
        f.default_value.empty() ? (f.type == FlagType::boolean ? "false" : "-") : f.default_value;
    if (f.type == FlagType::key_value) def = "(repeatable)";
    rows.push_back({flag, flag_type_name(f.type), def, f.help});
  }
  rows.push_back({"-h, --help", "", "", "show this help"});
  size_t w_flag = 4, w_type = 4, w_def = 7;
  for (const Row& r : rows) {
    w_flag = std::max(w_flag, r.flag.size());
    w_type = std::max(w_type, r.type.size());
    w_def = std::max(w_def, r.def.size());
  }
  out += "\noptions:\n";
  out += fmt::format("  {:<{}}  {:<{}}  {:<{}}  {}\n", "flag", w_flag, "type", w_type, "default",
                     w_def, "description");
  for (const Row& r : rows)
    out += fmt::format("  {:<{}}  {:<{}}  {:<{}}  {}\n", r.flag, w_flag, r.type, w_type, r.def,
                       w_def, r.help);
  return out;
}

}  // namespace tutor::cli
