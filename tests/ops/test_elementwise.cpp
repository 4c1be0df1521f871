#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_gradient;
using testing::rand_leaf;

OP_TEST("add", "values") {
  check_close(add(tensor({1, 2, 3}), tensor({10, 20, 30})), tensor({11, 22, 33}));
  // broadcasting a column against a row
  check_close(add(tensor({{1}, {2}}), tensor({10, 20, 30})), tensor({{11, 21, 31}, {12, 22, 32}}));
  check_close(add(arange(3), arange(3)), arange(0, 6, 2));
}

OP_TEST("add", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{add(x[0], x[1])}; },
                 {rand_leaf({2, 3}, 1), rand_leaf({3}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{add(x[0].t(), x[1])}; },
                 {rand_leaf({3, 2}, 1), rand_leaf({2, 1}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{add(x[0], x[1])}; },
                 {rand_leaf({0, 3}, 1), rand_leaf({1, 3}, 2)});
}

OP_TEST("add", "errors") {
  check_error([] { add(zeros({2, 3}), zeros({4})); }, {"add", "[2, 3]", "[4]"});
  check_error([] { add(zeros({2}), zeros({2}, DType::f64)); }, {"add", "f32", "f64"});
}
