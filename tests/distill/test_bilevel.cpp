// The bilevel outer step (distill/bilevel.h) with TGeo-KD's fusion network as the outer
// parameters: the hypergradient against central differences of CE_val(theta'(phi)) in f64 on a
// tiny MLP student (with batch norm, so its buffers move in the look-ahead), theta' evaluated on
// a second copy of the student loaded with theta - lr * grad L_train; the lower-level gradient;
// parameters and buffers restored bit for bit; the objective's option and its errors.
#include <doctest/doctest.h>

#include <cstring>

#include "distill/bilevel.h"
#include "distill/distiller.h"
#include "distill/recipe.h"
#include "engine/core/random.h"
#include "engine/nn/nn.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

constexpr int64_t kIn = 4, kHidden = 6, kClasses = 3, kBatch = 8;

std::shared_ptr<nn::Sequential> mlp_student() {
  auto m = std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
      std::make_shared<nn::Linear>(kIn, kHidden), std::make_shared<nn::BatchNorm1d>(kHidden),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(kHidden, kClasses)});
  m->to(DType::f64);
  return m;
}

distill::Participant participant(std::shared_ptr<nn::Module> m) {
  return {m, [m](const Tensor& x, const std::vector<std::string>&, std::map<std::string, Tensor>&) {
            return m->forward(x);
          }};
}

Tensor gaussian(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, TensorOptions(DType::f64), &gen);
}

Tensor labels(std::vector<int64_t> v) { return from_vector(v, {int64_t(v.size())}, DType::i64); }

// TGeo-KD in bilevel mode with fixed class means (no update, so every evaluation sees the same
// loss), a randomly initialized fusion network.
std::shared_ptr<distill::Objective> bilevel_tgeo(uint64_t seed) {
  manual_seed(seed);
  auto objective = distill::make_objective("tgeo_kd", {{"bilevel", "true"},
                                                       {"hidden", "5"},
                                                       {"classes", std::to_string(kClasses)},
                                                       {"update_class_mean", "false"},
                                                       {"T", "2"}});
  objective->to(DType::f64);
  Tensor class_sum = softmax(gaussian({kClasses, kClasses}, seed + 1), 1);
  objective->load_state_dict(
      {{"class_sum", class_sum}, {"class_count", ones({kClasses}, TensorOptions(DType::f64))}},
      /*strict=*/false);
  return objective;
}

struct Problem {
  std::shared_ptr<nn::Sequential> student = mlp_student();
  std::shared_ptr<nn::Linear> teacher = std::make_shared<nn::Linear>(kIn, kClasses);
  std::shared_ptr<distill::Objective> tgeo = bilevel_tgeo(5);
  std::unique_ptr<distill::Distiller> distiller;
  Tensor x = gaussian({kBatch, kIn}, 11), y = labels({0, 1, 2, 0, 1, 2, 2, 1});
  Tensor xv = gaussian({6, kIn}, 12), yv = labels({2, 0, 1, 1, 0, 2});
  double lr = 0.5;

  Problem() {
    teacher->to(DType::f64);
    student->train();
    distiller = std::make_unique<distill::Distiller>(
        participant(student), std::vector<distill::Participant>{participant(teacher)},
        std::vector<distill::Term>{{tgeo, 1.0}});
  }

  Tensor train_loss() { return distiller->step(x, y, {}).loss; }

  // CE_val(theta - lr * grad_theta L_train(theta, phi)) on a fresh copy of the student: no
  // in-place move, no second-order gradient.
  double lookahead_ce() {
    std::vector<Tensor> theta = student->parameters();
    TensorList g = autograd::grad({train_loss()}, theta);
    auto copy = mlp_student();
    copy->train();
    NamedTensors state;
    NamedTensors named = student->named_parameters();
    for (size_t i = 0; i < named.size(); ++i)
      state.emplace_back(named[i].first, sub(named[i].second.detach(), mul(g[i], lr)));
    for (auto& [name, b] : student->named_buffers()) state.emplace_back(name, b.detach().clone());
    copy->load_state_dict(state);
    NoGradGuard no_grad;
    return cross_entropy(copy->forward(xv), yv).item();
  }
};

std::vector<uint8_t> bytes(const std::vector<Tensor>& tensors) {
  std::vector<uint8_t> out;
  for (const Tensor& t : tensors) {
    Tensor c = t.detach().contiguous();
    const auto* p = static_cast<const uint8_t*>(c.raw_data());
    out.insert(out.end(), p, p + c.numel() * int64_t(element_size(c.dtype())));
  }
  return out;
}

std::vector<Tensor> buffers(const nn::Module& m) {
  std::vector<Tensor> out;
  for (auto& [name, b] : m.named_buffers()) out.push_back(b);
  return out;
}

}  // namespace

TEST_CASE("bilevel: the hypergradient against finite differences of CE_val(theta'(phi))") {
  Problem pb;
  std::vector<Tensor> phi = pb.distiller->outer_parameters();
  REQUIRE(phi.size() == 4);  // the fusion network's two Linear layers
  std::vector<Tensor> theta = pb.distiller->trainable_parameters();
  CHECK(theta.size() == pb.student->parameters().size());  // phi is not the student's to step

  distill::Distiller::Output out = pb.distiller->step(pb.x, pb.y, {});
  const std::vector<uint8_t> theta_before = bytes(theta),
                             buffers_before = bytes(buffers(*pb.student));
  TensorList g_expected = autograd::grad({pb.distiller->step(pb.x, pb.y, {}).loss}, theta);
  // the step above moved the running statistics again; put them back as `out` left them
  {
    std::vector<Tensor> b = buffers(*pb.student);
    size_t at = 0;
    for (Tensor& t : b) {
      const size_t n = size_t(t.numel()) * element_size(t.dtype());
      std::memcpy(t.raw_data(), buffers_before.data() + at, n);
      at += n;
    }
  }
  for (Tensor& p : phi) p.mutable_grad() = Tensor();
  const double val = pb.distiller->bilevel_backward(out, pb.xv, pb.yv, pb.lr);

  // theta and the student's buffers are exactly as before; the look-ahead happened
  CHECK(bytes(theta) == theta_before);
  CHECK(bytes(buffers(*pb.student)) == buffers_before);
  // the lower level's gradient is grad_theta L_train
  for (size_t i = 0; i < theta.size(); ++i)
    check_close(theta[i].grad(), g_expected[i], 1e-12, 1e-10);
  CHECK(val == doctest::Approx(pb.lookahead_ce()).epsilon(1e-12));

  // d CE_val(theta'(phi)) / d phi, central differences over every element of phi
  const double eps = 1e-6;
  double largest = 0;
  for (size_t k = 0; k < phi.size(); ++k) {
    REQUIRE(phi[k].grad().defined());
    std::vector<double> analytic = phi[k].grad().to_vector<double>();
    auto* data = phi[k].data<double>();
    for (int64_t j = 0; j < phi[k].numel(); ++j) {
      const double keep = data[j];
      data[j] = keep + eps;
      const double up = pb.lookahead_ce();
      data[j] = keep - eps;
      const double down = pb.lookahead_ce();
      data[j] = keep;
      const double numeric = (up - down) / (2 * eps);
      INFO("phi ", k, " element ", j);
      CHECK(analytic[size_t(j)] == doctest::Approx(numeric).epsilon(1e-5).scale(1e-3));
      largest = std::max(largest, std::fabs(numeric));
    }
  }
  CHECK(largest > 1e-3);  // the check is not between two zeros
}

TEST_CASE("bilevel: tgeo_kd's option and the step's errors") {
  // bilevel implies ratio_grad = false; asking for both is an error naming the two
  check_error(
      [] {
        distill::make_objective("tgeo_kd",
                                {{"bilevel", "true"}, {"ratio_grad", "true"}, {"classes", "3"}});
      },
      {"tgeo_kd", "bilevel", "ratio_grad"});
  CHECK_NOTHROW(distill::make_objective(
      "tgeo_kd", {{"bilevel", "true"}, {"ratio_grad", "false"}, {"classes", "3"}}));
  // single level: no outer parameters; the fusion network trains with the student
  auto single = distill::make_objective("tgeo_kd", {{"classes", "3"}});
  CHECK(single->outer_parameters().empty());
  CHECK(bilevel_tgeo(1)->outer_parameters().size() == 4);

  Problem pb;
  distill::Distiller::Output out = pb.distiller->step(pb.x, pb.y, {});
  check_error([&] { pb.distiller->bilevel_backward(out, pb.xv, pb.yv, 0.0); },
              {"bilevel", "lr", "positive"});
  // a held-out batch whose labels do not fit names cross_entropy, and leaves theta as it was
  const std::vector<uint8_t> before = bytes(pb.student->parameters());
  check_error(
      [&] {
        pb.distiller->bilevel_backward(out, pb.xv, labels({0, 1}), 0.1);
      },
      {"cross_entropy"});
  CHECK(bytes(pb.student->parameters()) == before);
  // without an outer parameter there is nothing to train
  distill::BilevelParameters none{pb.student->parameters(), {}, {}};
  check_error([&] { distill::bilevel_backward(out.loss, none, 0.1, [] { return Tensor(); }); },
              {"bilevel", "outer"});
}

namespace {

const char* kRecipe =
    "name: b\nteacher: {model: resnet8, train: {epochs: 1}}\nstudent: {model: resnet8}\n";

std::string recipe_error(const std::string& yaml) {
  try {
    distill::parse_recipe(yaml, "dir/r.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("parsed without an error: ", yaml);
  return "";
}

}  // namespace

TEST_CASE("bilevel: the recipe's data.held_out and outer_optimizer") {
  distill::Recipe plain = distill::parse_recipe(kRecipe, "r.yaml");
  CHECK(plain.data.held_out == 0);
  CHECK(plain.data.held_out_count(1000) == 0);
  // the controller's optimizer of src/fusion_ratio_bilevel.py by default
  CHECK(plain.outer_optimizer.name == "adam");
  CHECK(plain.outer_optimizer.lr == 0.1);
  CHECK(plain.outer_optimizer.weight_decay == 0.05);

  distill::Recipe fraction = distill::parse_recipe(
      std::string(kRecipe) + "data: {held_out: 0.1}\nouter_optimizer: {lr: 0.001}\n", "r.yaml");
  CHECK(fraction.data.held_out_count(1000) == 100);
  CHECK(fraction.data.held_out_count(3) == 1);  // never none when asked for
  CHECK(fraction.outer_optimizer.name == "adam");
  CHECK(fraction.outer_optimizer.lr == 0.001);
  CHECK(fraction.outer_optimizer.weight_decay == 0.05);
  distill::Recipe count =
      distill::parse_recipe(std::string(kRecipe) + "data: {held_out: 64}\n", "r.yaml");
  CHECK(count.data.held_out_count(1000) == 64);

  for (const char* bad : {"-0.5", "2.5", "many"}) {
    std::string message = recipe_error(std::string(kRecipe) + "data: {held_out: " + bad + "}\n");
    INFO(message);
    CHECK(message.find("dir/r.yaml: data.held_out") == 0);
    CHECK(message.find("a fraction in (0, 1) or a count of images >= 1") != std::string::npos);
  }
  CHECK(recipe_error(std::string(kRecipe) + "data: {held_out: 0.1, labeled: 50}\n")
            .find("data.held_out: a held-out split cannot be combined with `labeled`") !=
        std::string::npos);
  CHECK(recipe_error(std::string(kRecipe) + "data: {held_out: 100, limit_train: 100}\n")
            .find("data.held_out: expected fewer held-out images than limit_train = 100") !=
        std::string::npos);
  CHECK(recipe_error(std::string(kRecipe) + "outer_optimizer: {lr: 0}\n")
            .find("outer_optimizer.lr") != std::string::npos);
}
