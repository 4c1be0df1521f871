#include "optim/fixture.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/op_test.h"

namespace tutor::testing {

OptimFixture::OptimFixture(const std::string& file) {
  const auto path =
      testing::fixture_path("optim") / file;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot open ", path.string());
  std::string text;
  while (std::getline(in, text)) {
    if (text.empty() || text[0] == '#') continue;
    std::istringstream line(text);
    std::string name, shape_text;
    line >> name >> shape_text;
    REQUIRE_MESSAGE(
        (shape_text.size() >= 2 && shape_text.front() == '[' && shape_text.back() == ']'),
        "bad shape in line: ", name);
    Shape shape;
    std::istringstream dims(shape_text.substr(1, shape_text.size() - 2));
    for (std::string d; std::getline(dims, d, ',');) shape.push_back(std::stoll(d));
    std::vector<double> values;
    for (std::string v; line >> v;) values.push_back(std::stod(v));
    REQUIRE_MESSAGE(int64_t(values.size()) == shape_numel(shape), "value count of ", name);
    Tensor t = from_vector(values, {int64_t(values.size())}, DType::f64);
    tensors_[name] = t.reshape(shape);
  }
}

Tensor OptimFixture::get(const std::string& name) const {
  auto it = tensors_.find(name);
  REQUIRE_MESSAGE(it != tensors_.end(), "fixture has no '", name, "'");
  return it->second;
}

void check_golden(const Tensor& actual, const Tensor& expected, const std::string& what) {
  INFO(what);
  check_close(actual.to(DType::f64), expected, 1e-13, 1e-12);
}

}  // namespace tutor::testing
