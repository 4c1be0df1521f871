// MLKD's two views: a participant fed [weak; strong] runs its model on each half, returning the
// weak logits and the strong ones as "logits_strong"; an objective on the strong view reads them
// in place of the logits.
#include <doctest/doctest.h>

#include <algorithm>

#include "distill/strong_view.h"
#include "engine/nn/linear.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::distill;
using tutor::testing::check_close;

TEST_CASE("strong view: each half runs alone; objectives read the strong logits") {
  manual_seed(2);
  auto fc = std::make_shared<nn::Linear>(3, 4);
  int calls = 0;
  Participant model{
      fc,
      [fc, &calls](const Tensor& x, const std::vector<std::string>& requested,
                   std::map<std::string, Tensor>& taps) {
        ++calls;
        if (std::find(requested.begin(), requested.end(), "pooled") != requested.end())
          taps["pooled"] = x;
        return fc->forward(x);
      },
      false};
  Participant two = with_strong_view(model);
  Tensor weak = randn({2, 3}), strong = randn({2, 3});
  std::map<std::string, Tensor> taps;
  Tensor logits = two.forward(cat({weak, strong}, 0), {"pooled", "logits_strong"}, taps);
  CHECK(calls == 2);
  check_close(logits, fc->forward(weak), 0, 0);
  check_close(taps.at("logits_strong"), fc->forward(strong), 0, 0);
  check_close(taps.at("pooled"), weak, 0, 0);  // the weak view's taps
  taps.clear();
  two.forward(cat({weak, strong}, 0), {}, taps);
  CHECK(calls == 3);  // no strong forward when nobody reads it
  CHECK(taps.empty());

  auto ce = on_strong_view(make_objective("ce"));
  CHECK(ce->name() == "ce[strong]");
  CHECK(ce->inputs() == std::vector<std::string>{"student.logits_strong", "labels"});
  CHECK(ce->student_taps() == std::vector<std::string>{"logits_strong"});
  Inputs in;
  Tensor zw = randn({2, 4}), zs = randn({2, 4});
  Tensor y = from_vector(std::vector<int64_t>{1, 3}, {2}, TensorOptions(DType::i64));
  in.set("student.logits", zw);
  in.set("student.logits_strong", zs);
  in.set("labels", y);
  check_close(ce->compute(in, {}).loss, cross_entropy(zs, y), 0, 0);
}
