// The CLI argument parser: forms, typed values, and the exact usage errors.
#include <doctest/doctest.h>

#include "tools/cli/args.h"

using namespace tutor::cli;

static const CommandSpec& train_spec() {
  static const CommandSpec spec{
      {"train"},
      "train a model",
      "",
      {
          {"epochs", FlagType::integer, "15", "passes over the training set"},
          {"lr", FlagType::real, "0.1", "learning rate"},
          {"out", FlagType::string, "", "output folder", "DIR"},
          {"verbose", FlagType::boolean, "", "print every step"},
          {"devices", FlagType::list, "cpu", "devices to use"},
          {"set", FlagType::key_value, "", "override a recipe field"},
      },
      {{"RECIPE", "the recipe file"}}};
  return spec;
}

static Args parse(std::vector<std::string> words) { return parse_args(train_spec(), words); }

static std::string usage_error(std::vector<std::string> words) {
  try {
    parse(words);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_CASE("cli: flags in both forms, booleans, lists and repeated key=value") {
  Args a = parse({"r.yaml", "--epochs", "3", "--lr=-0.25", "--verbose", "--devices=cpu,cuda:0",
                  "--set", "model=resnet18", "--set=data.batch=128", "--set", "x=a=b"});
  CHECK(a.positionals() == std::vector<std::string>{"r.yaml"});
  CHECK(a.get_int("epochs") == 3);
  CHECK(a.get_double("lr") == -0.25);
  CHECK(a.get_bool("verbose"));
  CHECK(a.get_list("devices") == std::vector<std::string>{"cpu", "cuda:0"});
  using KV = std::pair<std::string, std::string>;
  CHECK(a.get_key_values("set") ==
        std::vector<KV>{{"model", "resnet18"}, {"data.batch", "128"}, {"x", "a=b"}});
  CHECK(a.given("epochs"));
  CHECK_FALSE(a.given("out"));
  CHECK_FALSE(a.help_requested());
}

TEST_CASE("cli: defaults apply when a flag is absent") {
  Args a = parse({"r.yaml"});
  CHECK(a.get_int("epochs") == 15);
  CHECK(a.get_double("lr") == 0.1);
  CHECK(a.get_string("out") == "");
  CHECK_FALSE(a.get_bool("verbose"));
  CHECK(a.get_list("devices") == std::vector<std::string>{"cpu"});
  CHECK(a.get_key_values("set").empty());
  CHECK(parse({"r.yaml", "--verbose=false"}).get_bool("verbose") == false);
  CHECK(parse({"r.yaml", "--out", "runs/a"}).get_string("out") == "runs/a");
  CHECK(parse({"r.yaml", "--devices="}).get_list("devices").empty());
  // `--` ends the flags: what follows is positional even if it looks like a flag.
  CHECK(parse({"--", "--odd-name.yaml"}).positionals() ==
        std::vector<std::string>{"--odd-name.yaml"});
}

TEST_CASE("cli: malformed values name the command, the flag and the value") {
  CHECK(usage_error({"r", "--epochs", "x"}) == "tutor train: --epochs expects an integer, got 'x'");
  CHECK(usage_error({"r", "--epochs=3.5"}) ==
        "tutor train: --epochs expects an integer, got '3.5'");
  CHECK(usage_error({"r", "--epochs="}) == "tutor train: --epochs expects an integer, got ''");
  CHECK(usage_error({"r", "--epochs", "99999999999999999999"}) ==
        "tutor train: --epochs expects an integer, got '99999999999999999999' (out of range)");
  CHECK(usage_error({"r", "--lr", "fast"}) == "tutor train: --lr expects a number, got 'fast'");
  CHECK(usage_error({"r", "--lr", "nan"}) == "tutor train: --lr expects a number, got 'nan'");
  CHECK(usage_error({"r", "--lr", "1e400"}) == "tutor train: --lr expects a number, got '1e400'");
  CHECK(usage_error({"r", "--verbose=yes"}) ==
        "tutor train: --verbose expects true or false, got 'yes'");
  CHECK(usage_error({"r", "--devices", "cpu,,cuda"}) ==
        "tutor train: --devices expects a comma-separated list without empty items, got "
        "'cpu,,cuda'");
  CHECK(usage_error({"r", "--set", "novalue"}) ==
        "tutor train: --set expects key=value, got 'novalue'");
  CHECK(usage_error({"r", "--set", "=v"}) == "tutor train: --set expects key=value, got '=v'");
}

TEST_CASE("cli: unknown, missing, repeated flags and wrong argument counts") {
  CHECK(usage_error({"r", "--epoch", "3"}) ==
        "tutor train: unknown flag --epoch; valid flags: --epochs, --lr, --out, --verbose, "
        "--devices, --set, --help");
  CHECK(usage_error({"r", "--epochs"}) == "tutor train: --epochs expects a value (int)");
  CHECK(usage_error({"r", "--out", "--verbose"}) == "tutor train: --out expects a value (string)");
  CHECK(usage_error({"r", "--epochs", "1", "--epochs=2"}) ==
        "tutor train: --epochs given more than once");
  CHECK(usage_error({"r", "-v"}) ==
        "tutor train: unknown flag -v (flags are spelled --name); valid flags: --epochs, --lr, "
        "--out, --verbose, --devices, --set, --help");
  CHECK(usage_error({"r", "--out="}) == "tutor train: --out expects a non-empty value");
  CHECK(usage_error({}) == "tutor train: missing argument RECIPE");
  // "-" and negative numbers are positional arguments.
  CHECK(parse({"-"}).positionals() == std::vector<std::string>{"-"});
  CHECK(parse({"-3"}).positionals() == std::vector<std::string>{"-3"});
  CHECK(usage_error({"a", "b"}) == "tutor train: unexpected argument 'b' (expects 1 argument)");
  // --help needs no positional and wins over everything else that parses.
  CHECK(parse({"--help"}).help_requested());
  CHECK(parse({"-h", "--epochs", "2"}).help_requested());
}

TEST_CASE("cli: getters reject undeclared flags and the wrong type as programming errors") {
  Args a = parse({"r"});
  CHECK_THROWS_AS(a.get_int("lr"), std::logic_error);
  CHECK_THROWS_AS(a.get_string("nope"), std::logic_error);
  CHECK_THROWS_AS(a.given("nope"), std::logic_error);
}

TEST_CASE("cli: a flag without default that a command requires is a usage error when absent") {
  static const CommandSpec spec{{"eval"}, "", "", {{"batch", FlagType::integer, "", "batch"}}, {}};
  Args a = parse_args(spec, {});
  CHECK_THROWS_WITH_AS(a.get_int("batch"), "tutor eval: --batch is required", UsageError);
  CHECK(parse_args(spec, {"--batch", "-4"}).get_int("batch") == -4);
  CHECK_THROWS_WITH_AS(parse_args(spec, {"x"}), "tutor eval: unexpected argument 'x'", UsageError);
}

TEST_CASE("cli: --help lists every flag with its type, default and description") {
  std::string help = command_help(train_spec());
  CHECK(help ==
        "usage: tutor train [options] RECIPE\n"
        "\n"
        "train a model\n"
        "\n"
        "arguments:\n"
        "  RECIPE                   the recipe file\n"
        "\n"
        "options:\n"
        "  flag             type       default       description\n"
        "  --epochs INT     int        15            passes over the training set\n"
        "  --lr FLOAT       float      0.1           learning rate\n"
        "  --out DIR        string     -             output folder\n"
        "  --verbose        bool       false         print every step\n"
        "  --devices LIST   list       cpu           devices to use\n"
        "  --set KEY=VALUE  key=value  (repeatable)  override a recipe field\n"
        "  -h, --help                                show this help\n");
}

TEST_CASE("cli: optional positionals may be absent; required ones may not") {
  static const CommandSpec spec{{"loss"},
                                "one objective",
                                "",
                                {{"list", FlagType::boolean, "", "list them"}},
                                {{"FILE", "required"}, {"NAME", "optional", /*required=*/false}}};
  CHECK(parse_args(spec, {"f"}).positionals() == std::vector<std::string>{"f"});
  CHECK(parse_args(spec, {"f", "kd"}).positionals() == std::vector<std::string>{"f", "kd"});
  try {
    parse_args(spec, {"--list"});
    FAIL("expected a usage error");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()) == "tutor loss: missing argument FILE");
  }
  CHECK_THROWS_AS(parse_args(spec, {"f", "kd", "x"}), UsageError);
  CHECK(command_help(spec).starts_with("usage: tutor loss [options] FILE [NAME]\n"));
}
