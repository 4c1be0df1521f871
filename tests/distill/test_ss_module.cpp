// SSKD's ss module on a participant: ss_feat = Linear2(relu(Linear1(pooled))), computed here by
// hand from the module's weights; the source tap passes through only when asked for.
#include <doctest/doctest.h>

#include <algorithm>

#include "distill/ss_module.h"
#include "engine/nn/linear.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::distill;
using tutor::testing::check_close;

namespace {

// A model whose "pooled" tap is x itself and whose logits are fc(x).
Participant toy(std::shared_ptr<nn::Linear> fc) {
  auto forward = [fc](const Tensor& x, const std::vector<std::string>& requested,
                      std::map<std::string, Tensor>& taps) {
    if (std::find(requested.begin(), requested.end(), "pooled") != requested.end())
      taps["pooled"] = x;
    return fc->forward(x);
  };
  return {fc, forward, false};
}

}  // namespace

TEST_CASE("ss_module: ss_feat is Linear(relu(Linear(pooled))) and owns its parameters") {
  manual_seed(4);
  auto fc = std::make_shared<nn::Linear>(3, 2);
  auto ss = make_ss_module(3);
  Participant p = with_ss_module(toy(fc), ss);
  CHECK(p.module->num_parameters() == fc->num_parameters() + 2 * (3 * 3 + 3));
  auto state = p.module->state_dict();
  CHECK(std::any_of(state.begin(), state.end(),
                    [](const auto& entry) { return entry.first == "ss_module.2.bias"; }));

  Tensor x = randn({4, 3});
  std::map<std::string, Tensor> taps;
  Tensor logits = p.forward(x, {"ss_feat"}, taps);
  check_close(logits, fc->forward(x), 0, 0);
  REQUIRE(taps.count("ss_feat") == 1);
  CHECK(taps.count("pooled") == 0);  // asked for by the wrapper only

  auto l1 = ss->at<nn::Linear>(0), l2 = ss->at<nn::Linear>(2);
  std::vector<double> xv = x.to_vector<double>(), w1 = l1->weight.to_vector<double>(),
                      b1 = l1->bias.to_vector<double>(), w2 = l2->weight.to_vector<double>(),
                      b2 = l2->bias.to_vector<double>();
  std::vector<double> expected;
  for (size_t b = 0; b < 4; ++b) {
    double h[3];
    for (size_t o = 0; o < 3; ++o) {
      h[o] = b1[o];
      for (size_t i = 0; i < 3; ++i) h[o] += w1[o * 3 + i] * xv[b * 3 + i];
      h[o] = std::max(h[o], 0.0);
    }
    for (size_t o = 0; o < 3; ++o) {
      double y = b2[o];
      for (size_t i = 0; i < 3; ++i) y += w2[o * 3 + i] * h[i];
      expected.push_back(y);
    }
  }
  check_close(taps.at("ss_feat"), from_vector(expected, {4, 3}, TensorOptions(DType::f64)), 1e-6,
              1e-5);

  // Asked for together, the source tap stays; without ss_feat the model runs as it is.
  taps.clear();
  p.forward(x, {"pooled", "ss_feat"}, taps);
  CHECK(taps.count("pooled") == 1);
  taps.clear();
  p.forward(x, {}, taps);
  CHECK(taps.empty());
}
