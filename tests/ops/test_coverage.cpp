// The op catalog is complete: every kernel an op names has reference kernels for the dtypes it
// promises, and every op has value tests, and a gradient test when it is differentiable.
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "support/op_test.h"

using namespace tutor;

TEST_CASE("coverage: every op has reference kernels and tests") {
  kernels::ensure_registered();
  const auto& tested = testing::tested_ops();
  int ops = 0;
  for (const ops::OpInfo& op : ops::op_catalog()) {
    ++ops;
    INFO("op ", op.name);
    for (const std::string& k : op.kernels)
      for (DType dt : op.dtypes) {
        bool has = kernels::find_kernel(kernels::kernel_id(k), kernels::Backend::reference, dt);
        CHECK_MESSAGE(has, "kernel '", k, "' has no reference ", dtype_name(dt), " kernel");
      }
    if (op.differentiable)
      CHECK_MESSAGE(tested.count({op.name, "gradient"}), "no gradient test for ", op.name);
    CHECK_MESSAGE(tested.count({op.name, "values"}), "no value test for ", op.name);
  }
  MESSAGE(ops, " ops in the catalog");
}
