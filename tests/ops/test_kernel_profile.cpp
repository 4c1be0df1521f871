// ops::KernelProfile (engine/ops/kernel_profile.h): counts every dispatch by kernel and backend,
// only while alive, and only one at a time.
#include <thread>

#include "engine/ops/dispatch.h"
#include "engine/ops/kernel_profile.h"
#include "support/op_test.h"

using namespace tutor;
using testing::check_error;

namespace {

const ops::KernelTime* find(const std::vector<ops::KernelTime>& times, const std::string& kernel,
                            const std::string& backend) {
  for (const ops::KernelTime& t : times)
    if (t.kernel == kernel && t.backend == backend) return &t;
  return nullptr;
}

}  // namespace

TEST_CASE("ops: kernel profile counts each dispatch by kernel and backend") {
  NoGradGuard no_grad;
  Tensor a = ones({64, 64}), b = ones({64, 64});
  matmul(a, b);  // before the profile: not counted
  std::vector<ops::KernelTime> times;
  {
    ops::KernelProfile profile;
    matmul(a, b);
    matmul(a, b);
    add(a, b);
    {
      ops::ReferenceOnlyGuard reference;
      add(a, b);
    }
    // Another thread's dispatches count too (a data loader's, say).
    std::thread([&] { add(a, b); }).join();
    times = profile.times();
  }
  const ops::KernelTime* mm = find(times, "matmul", "cpu");
  const ops::KernelTime* fast_add = find(times, "add", "cpu");
  const ops::KernelTime* reference_add = find(times, "add", "reference");
  REQUIRE(mm);
  REQUIRE(fast_add);
  REQUIRE(reference_add);
  CHECK(mm->calls == 2);
  CHECK(fast_add->calls == 2);
  CHECK(reference_add->calls == 1);
  CHECK(times.size() == 3);
  for (const ops::KernelTime& t : times) CHECK(t.ns > 0);
  for (size_t i = 1; i < times.size(); ++i) CHECK(times[i - 1].ns >= times[i].ns);

  // A new profile starts empty; dispatches after the last one ended were not counted.
  add(a, b);
  ops::KernelProfile next;
  CHECK(next.times().empty());
  check_error([] { ops::KernelProfile nested; }, {"KernelProfile", "already running"});
}
