// `tutor audit`: a small catalog whose kernels this test registers itself, so every cell is known.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "engine/ops/catalog.h"
#include "kernels/registry.h"
#include "tools/cli/audit.h"

using namespace tutor;
using namespace tutor::cli;
using kernels::Backend;

static void noop_kernel(const kernels::KernelArgs&) {}

// "cli_audit_fast": fast cpu f32, reference f32 and f64, cuda f32.
// "cli_audit_ref": reference f64 and i64 only. "cli_audit_none": never registered.
static std::vector<ops::OpInfo> test_catalog() {
  kernels::ensure_registered();
  kernels::register_kernel("cli_audit_fast", Backend::cpu, DType::f32, noop_kernel);
  kernels::register_kernel("cli_audit_fast", Backend::reference, DType::f32, noop_kernel);
  kernels::register_kernel("cli_audit_fast", Backend::reference, DType::f64, noop_kernel);
  kernels::register_kernel("cli_audit_fast", Backend::cuda, DType::f32, noop_kernel);
  kernels::register_kernel("cli_audit_ref", Backend::reference, DType::f64, noop_kernel);
  kernels::register_kernel("cli_audit_ref", Backend::reference, DType::i64, noop_kernel);
  return {
      {"alpha", true, {"cli_audit_fast", "cli_audit_ref"}},
      {"beta", false, {"cli_audit_fast", "cli_audit_none"}, {DType::f32}},
      {"gamma_composite", true, {}},
  };
}

TEST_CASE("cli: audit kernels reports the serving backend per device and dtype") {
  std::vector<ops::OpInfo> catalog = test_catalog();
  KernelAudit audit = audit_kernels(catalog);
  REQUIRE(audit.ops.size() == 3);
  const KernelServe& fast = audit.ops[0].kernels.at(0);
  using Cells = std::array<std::string, kNumDTypes>;  // f32 f64 bf16 i64 bool
  CHECK(fast.cpu == Cells{"cpu", "ref", "-", "-", "-"});
  CHECK(fast.cuda == Cells{"cuda", "-", "-", "-", "-"});
  const KernelServe& ref = audit.ops[0].kernels.at(1);
  CHECK(ref.cpu == Cells{"-", "ref", "-", "ref", "-"});
  CHECK(ref.cuda == Cells{"-", "-", "-", "-", "-"});
  CHECK(audit.ops[1].kernels.at(1).cpu == Cells{"-", "-", "-", "-", "-"});
  CHECK(audit.ops[2].kernels.empty());
  // Distinct kernels: fast, ref, none. f32 on the cpu device: only fast, served by cpu.
  CHECK(audit.kernels == 3);
  CHECK(audit.f32_kernels == 1);
  CHECK(audit.f32_cpu == 1);
  CHECK(audit.composite_ops == 1);
  CHECK(kernel_summary(audit) ==
        "3 ops (1 composite), 3 kernels; cpu serves 1 of 1 f32 kernels, the rest fall back to the "
        "reference; 2 kernels have no f32 kernel");
  CHECK(kernel_table(audit) ==
        "                                 ------ cpu device ------  ----- cuda device ------\n"
        "op               kernel          f32  f64  bf16 i64  bool  f32  f64  bf16 i64  bool\n"
        "alpha            cli_audit_fast  cpu  ref  -    -    -     cuda -    -    -    -\n"
        "alpha            cli_audit_ref   -    ref  -    ref  -     -    -    -    -    -\n"
        "beta             cli_audit_fast  cpu  ref  -    -    -     cuda -    -    -    -\n"
        "beta             cli_audit_none  -    -    -    -    -     -    -    -    -    -\n"
        "gamma_composite  (composite)\n"
        "\n" +
            kernel_summary(audit) + "\n");
}

TEST_CASE("cli: audit kernels as JSON") {
  std::vector<ops::OpInfo> catalog = test_catalog();
  std::vector<ops::OpInfo> one = {catalog[1], catalog[2]};
  CHECK(
      kernel_json(audit_kernels(one)).str() ==
      "{\"ops\":["
      "{\"op\":\"beta\",\"differentiable\":false,\"composite\":false,\"dtypes\":[\"f32\"],"
      "\"kernels\":["
      "{\"kernel\":\"cli_audit_fast\","
      "\"cpu\":{\"f32\":\"cpu\",\"f64\":\"ref\",\"bf16\":\"-\",\"i64\":\"-\",\"bool\":\"-\"},"
      "\"cuda\":{\"f32\":\"cuda\",\"f64\":\"-\",\"bf16\":\"-\",\"i64\":\"-\",\"bool\":\"-\"}},"
      "{\"kernel\":\"cli_audit_none\","
      "\"cpu\":{\"f32\":\"-\",\"f64\":\"-\",\"bf16\":\"-\",\"i64\":\"-\",\"bool\":\"-\"},"
      "\"cuda\":{\"f32\":\"-\",\"f64\":\"-\",\"bf16\":\"-\",\"i64\":\"-\",\"bool\":\"-\"}}]},"
      "{\"op\":\"gamma_composite\",\"differentiable\":true,\"composite\":true,"
      "\"dtypes\":[\"f32\",\"f64\"],\"kernels\":[]}],"
      "\"summary\":{\"ops\":2,\"composite_ops\":1,\"kernels\":2,\"f32_kernels\":1,\"f32_cpu\":1}}");
}

TEST_CASE("cli: audit ops lists differentiability, dtypes and kernels") {
  std::vector<ops::OpInfo> catalog = test_catalog();
  CHECK(op_table(catalog) ==
        "op               differentiable  dtypes   kernels\n"
        "alpha            yes             f32,f64  cli_audit_fast, cli_audit_ref\n"
        "beta             no              f32      cli_audit_fast, cli_audit_none\n"
        "gamma_composite  yes             f32,f64  (composite)\n"
        "\n"
        "3 ops, 2 differentiable, 1 composite\n");
  CHECK(op_json({catalog.begin() + 1, catalog.end()}).str() ==
        "{\"ops\":[{\"op\":\"beta\",\"differentiable\":false,\"dtypes\":[\"f32\"],"
        "\"kernels\":[\"cli_audit_fast\",\"cli_audit_none\"]},"
        "{\"op\":\"gamma_composite\",\"differentiable\":true,\"dtypes\":[\"f32\",\"f64\"],"
        "\"kernels\":[]}]}");
}

TEST_CASE("cli: audit of the real catalog covers every op and kernel") {
  const std::vector<ops::OpInfo>& catalog = ops::op_catalog();
  KernelAudit audit = audit_kernels(catalog);
  CHECK(audit.ops.size() == catalog.size());
  std::set<std::string> names;
  for (const ops::OpInfo& op : catalog) names.insert(op.kernels.begin(), op.kernels.end());
  CHECK(audit.kernels == int64_t(names.size()));
  // The reference backend implements every op in f32 and f64 (tests/ops/test_coverage.cpp), so
  // every kernel that the catalog says serves f32 shows "cpu" or "ref" there, never "-".
  for (const OpServe& op : audit.ops)
    for (const KernelServe& k : op.kernels)
      for (size_t i = 0; i < op.dtypes.size(); ++i) {
        size_t col = size_t(std::find(kAuditDTypes.begin(), kAuditDTypes.end(), op.dtypes[i]) -
                            kAuditDTypes.begin());
        INFO(op.op, " ", k.kernel, " ", dtype_name(op.dtypes[i]));
        CHECK(k.cpu[col] != "-");
      }
}
