// `tutor audit kernels` and `tutor audit ops`.
#include "engine/io/atomic_file.h"
#include "tools/cli/audit.h"
#include "tools/cli/command.h"

namespace tutor::cli {

static const FlagSpec kJsonFlag{"json", FlagType::string, "",
                                "also write the listing as JSON to FILE (atomically)", "FILE"};

static void write_json_if_asked(const Args& args, const JsonObject& json) {
  if (args.given("json")) write_file_atomic(args.get_string("json"), json.str() + "\n");
}

Command audit_kernels_command() {
  CommandSpec spec{
      {"audit", "kernels"},
      "which backend serves each op's kernels, per device and dtype",
      "For every op in the catalog and every kernel it dispatches to, shows which backend serves\n"
      "each dtype: on the cpu device \"cpu\" (a fast CPU kernel), \"ref\" (falls back to the\n"
      "reference backend) or \"-\" (none); on the cuda device \"cuda\" or \"-\". Ops built from\n"
      "other ops show \"(composite)\".",
      {kJsonFlag},
      {}};
  return {spec, [](const Args& args, Io& io) {
            KernelAudit audit = audit_kernels(ops::op_catalog());
            io.out << kernel_table(audit);
            write_json_if_asked(args, kernel_json(audit));
          }};
}

Command audit_ops_command() {
  CommandSpec spec{{"audit", "ops"},
                   "every op: differentiable, dtypes, kernels",
                   "Lists the op catalog: whether each op has a backward rule, the dtypes its\n"
                   "kernels serve, and the kernels it dispatches to (or \"(composite)\").",
                   {kJsonFlag},
                   {}};
  return {spec, [](const Args& args, Io& io) {
            io.out << op_table(ops::op_catalog());
            write_json_if_asked(args, op_json(ops::op_catalog()));
          }};
}

}  // namespace tutor::cli
