// Activation modules, Identity and Flatten: values by hand and against the ops, PyTorch's reprs.
#include <doctest/doctest.h>

#include "nn_test.h"

using namespace tutor;
using testing::check_close;

TEST_CASE("activations: values by hand and reprs as PyTorch") {
  Tensor x = tensor({1, -0.5});
  check_close(nn::ReLU()(x), tensor({1, 0}));
  // torch.nn.GELU()(torch.tensor([1.0, -0.5])) and GELU('tanh'), printed by PyTorch 1.13
  check_close(nn::GELU()(x), tensor({0.8413447141647339, -0.1542687863111496}));
  check_close(nn::GELU("tanh")(x), tensor({0.8411920070648193, -0.1542859971523285}));
  const double s1 = 1 / (1 + std::exp(-1.0)), sm = 1 / (1 + std::exp(0.5));
  check_close(nn::Sigmoid()(x), from_vector(std::vector<double>{s1, sm}));
  check_close(nn::SiLU()(x), from_vector(std::vector<double>{s1, -0.5 * sm}));
  check_close(nn::Tanh()(x), from_vector(std::vector<double>{std::tanh(1.0), std::tanh(-0.5)}));
  check_close(nn::LeakyReLU()(x), tensor({1, -0.005}));
  check_close(nn::LeakyReLU(0.2)(x), tensor({1, -0.1}));
  check_close(nn::Softplus()(x), from_vector(std::vector<double>{std::log1p(std::exp(1.0)),
                                                                 std::log1p(std::exp(-0.5))}));
  // beta 2, threshold 10: linear where beta * x > 10
  check_close(nn::Softplus(2, 10)(tensor({6, 0})), tensor({6, std::log(2.0) / 2}));
  Tensor rows = tensor({{0, std::log(3.0)}, {1, 1}});
  check_close(nn::Softmax(1)(rows), tensor({{0.25, 0.75}, {0.5, 0.5}}));
  check_close(nn::Softmax(0)(rows), softmax(rows, 0));
  check_close(nn::LogSoftmax(-1)(rows), log_softmax(rows, -1));

  CHECK(nn::ReLU().str() == "ReLU()");
  CHECK(nn::GELU().str() == "GELU(approximate='none')");
  CHECK(nn::GELU("tanh").str() == "GELU(approximate='tanh')");
  CHECK(nn::SiLU().str() == "SiLU()");
  CHECK(nn::Sigmoid().str() == "Sigmoid()");
  CHECK(nn::Tanh().str() == "Tanh()");
  CHECK(nn::LeakyReLU().str() == "LeakyReLU(negative_slope=0.01)");
  CHECK(nn::LeakyReLU(0.2).str() == "LeakyReLU(negative_slope=0.2)");
  CHECK(nn::Softplus().str() == "Softplus(beta=1, threshold=20)");
  CHECK(nn::Softplus(2, 10).str() == "Softplus(beta=2, threshold=10)");
  CHECK(nn::Softmax(1).str() == "Softmax(dim=1)");
  CHECK(nn::LogSoftmax(-1).str() == "LogSoftmax(dim=-1)");
  testing::check_error([] { nn::GELU("fast"); }, {"GELU", "'fast'"});
}

TEST_CASE("activations: gradients flow through the modules") {
  nn::GELU gelu_tanh("tanh");
  testing::check_module_gradient(gelu_tanh, testing::rand_leaf({5}));
  nn::Softmax sm(-1);
  testing::check_module_gradient(sm, testing::rand_leaf({2, 3}));
}

TEST_CASE("Identity and Flatten: shapes, storage and reprs") {
  Tensor x = testing::rand_leaf({2, 3, 4}).detach();
  CHECK(nn::Identity()(x).is_same(x));
  CHECK(nn::Identity().str() == "Identity()");
  nn::Flatten flat;
  Tensor y = flat(x);
  CHECK(y.sizes() == Shape{2, 12});
  CHECK(y.shares_storage(x));
  check_close(y, x.reshape({2, 12}), 0, 0);
  CHECK(nn::Flatten(0, 1)(x).sizes() == Shape{6, 4});
  CHECK(flat.str() == "Flatten(start_dim=1, end_dim=-1)");
  CHECK(nn::Flatten(2, 3).str() == "Flatten(start_dim=2, end_dim=3)");
}
