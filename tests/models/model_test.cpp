#include "model_test.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "engine/optim/sgd.h"
#include "support/op_test.h"

namespace tutor::testing {

namespace {

constexpr double kLogitsAtol = 1e-4;
constexpr double kGradAtol = 1e-4, kGradRtol = 1e-3;
constexpr double kLossAtol = 1e-4;

// Two multiply-xorshift rounds on 32 bits, as the script's mix32.
uint64_t mix32(uint64_t x) {
  x = (((x >> 16) ^ x) * 0x45D9F3Bu) & 0xFFFFFFFFu;
  x = (((x >> 16) ^ x) * 0x45D9F3Bu) & 0xFFFFFFFFu;
  return (x >> 16) ^ x;
}

uint64_t fnv1a32(const std::string& text) {
  uint64_t h = 2166136261u;
  for (unsigned char b : text) h = ((h ^ b) * 16777619u) & 0xFFFFFFFFu;
  return h;
}

// A parameter's gradient against whatever the fixture holds for it: the full gradient, or its
// values at the formula's sample indices; and its L1 and L2 norms, within the bounds that the
// elementwise bound |g - g_ref| <= atol + rtol |g_ref| implies:
//   |L1 - L1_ref| <= n atol + rtol L1_ref,   |L2 - L2_ref| <= sqrt(n) atol + rtol L2_ref.
void check_gradient(const FileTensors& file, const std::string& name, const Tensor& grad) {
  CAPTURE(name);
  const std::vector<double> g = grad.to_vector<double>();
  const uint64_t n = g.size();
  if (file.count("grad." + name)) {
    check_close(grad, get(file, "grad." + name), kGradAtol, kGradRtol);
  } else {
    const std::vector<double> expected = get(file, "gradsample." + name).to_vector<double>();
    std::vector<double> sampled;
    for (uint64_t j = 0; j < expected.size(); ++j)
      sampled.push_back(g[formula_hash(name + "#sample", j) % n]);
    check_close(from_vector(sampled), from_vector(expected), kGradAtol, kGradRtol);
  }
  auto norms = file.find("gradnorms." + name);
  if (norms == file.end()) return;
  double l1 = 0, l2 = 0;
  for (double x : g) {
    l1 += std::fabs(x);
    l2 += x * x;
  }
  l2 = std::sqrt(l2);
  const std::vector<double> ref = norms->second.to_vector<double>();
  REQUIRE(ref.size() == 2);
  CHECK(std::fabs(l1 - ref[0]) <= double(n) * kGradAtol + kGradRtol * ref[0]);
  CHECK(std::fabs(l2 - ref[1]) <= std::sqrt(double(n)) * kGradAtol + kGradRtol * ref[1]);
}

// The running statistics (BatchNorm buffers) of the model, by name.
std::vector<std::string> running_buffers(const nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, t] : m.state_dict())
    if (name.find("running") != std::string::npos || name.find("num_batches") != std::string::npos)
      names.push_back(name);
  return names;
}

}  // namespace

std::map<std::string, Listing> pytorch_listings(const std::string& file) {
  const auto path = fixture_path("models") / file;
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot open ", path.string());
  std::map<std::string, Listing> out;
  Listing* current = nullptr;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) {
      const size_t space = line.find(' ', 3);
      current = &out[line.substr(3, space - 3)];
      current->num_parameters = std::stoll(line.substr(space + 1));
    } else if (!line.empty()) {
      REQUIRE(current != nullptr);
      current->lines.push_back(line);
    }
  }
  return out;
}

std::vector<std::string> listing(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, t] : m.state_dict())
    out.push_back(fmt::format("{} {} {}", name, shape_str(t.sizes()), t.dtype()));
  return out;
}

void check_listing(const nn::Module& model, const Listing& expected) {
  CHECK(model.num_parameters() == expected.num_parameters);
  const auto ours = listing(model);
  CHECK(ours.size() == expected.lines.size());
  for (size_t i = 0; i < std::min(ours.size(), expected.lines.size()); ++i) {
    CAPTURE(i);
    CHECK(ours[i] == expected.lines[i]);
  }
}

void check_safetensors_round_trip(models::Model& from, models::Model& into, const Tensor& x) {
  const auto path = std::filesystem::temp_directory_path() /
                    fmt::format("tutor_test_models_{}_{}.safetensors", from.name(), ::getpid());
  save_safetensors(path.string(), from.state_dict());
  const auto contents = load_safetensors(path.string());
  std::filesystem::remove(path);
  nn::NamedTensors state(contents.tensors.begin(), contents.tensors.end());
  CHECK(into.load_state_dict(state).ok());
  for (const auto& [name, t] : from.state_dict()) {
    CAPTURE(name);
    check_close(into.tensor_at(name), t, 0, 0);
  }
  from.eval();
  into.eval();
  NoGradGuard no_grad;
  check_close(into.forward(x), from.forward(x), 0, 0);
}

nn::NamedTensors with_prefix(const FileTensors& file, const std::string& prefix) {
  nn::NamedTensors out;
  for (const auto& [name, t] : file)
    if (name.rfind(prefix + ".", 0) == 0) out.emplace_back(name.substr(prefix.size() + 1), t);
  return out;
}

const Tensor& get(const FileTensors& file, const std::string& name) {
  auto it = file.find(name);
  REQUIRE_MESSAGE(it != file.end(), "the fixture has no tensor ", name);
  return it->second;
}

uint64_t formula_hash(const std::string& key, uint64_t i) { return mix32(mix32(i) ^ fnv1a32(key)); }

void check_parity(const std::filesystem::path& fixture,
                  const std::function<std::shared_ptr<models::Model>()>& make,
                  const ParityOptions& options) {
  const auto file = load_safetensors(fixture.string()).tensors;
  const Tensor& x = get(file, "input");
  const Tensor& labels = get(file, "labels");
  auto m = make();
  // strict: every key of PyTorch's state dict, and no other
  m->load_state_dict(options.initial_state ? options.initial_state(*m, file)
                                           : with_prefix(file, "init"));
  auto train_loss = [&](const Tensor& input) {
    models::Taps taps(options.loss_taps);
    Tensor logits = m->forward(input, &taps);
    Tensor loss = options.loss ? options.loss(logits, taps, file) : cross_entropy(logits, labels);
    return std::make_pair(logits, loss);
  };

  SUBCASE("eval-mode logits and taps") {
    m->eval();
    NoGradGuard no_grad;
    check_close(m->forward(x), get(file, "logits_eval"), kLogitsAtol, 0);
    const nn::NamedTensors expected = with_prefix(file, "taps");
    std::vector<std::string> names;
    for (const auto& [name, t] : expected) names.push_back(name);
    CHECK(names.size() == m->tap_names().size() - 1);  // every tap but logits
    models::Taps taps(names);
    const Tensor head = x.narrow(0, 0, expected.front().second.size(0));
    m->forward(head, &taps);
    for (const auto& [name, t] : expected) {
      CAPTURE(name);
      check_close(taps.at(name), t, kGradAtol, kGradRtol);
    }
  }

  SUBCASE("train-mode logits, loss, every parameter gradient, running statistics") {
    m->train();
    auto [logits, loss] = train_loss(x);
    check_close(logits, get(file, "logits_train"), kLogitsAtol, 0);
    check_close(loss, get(file, "loss"), kLossAtol, 0);
    loss.backward();
    const nn::NamedTensors params = m->named_parameters();
    CHECK(params.size() ==
          with_prefix(file, "grad").size() + with_prefix(file, "gradsample").size());
    for (const auto& [name, p] : params) {
      CAPTURE(name);
      REQUIRE(p.grad().defined());
      check_gradient(file, name, p.grad());
    }
    const nn::NamedTensors after = with_prefix(file, "after");
    CHECK(after.size() == running_buffers(*m).size());
    for (const auto& [name, t] : after) {
      CAPTURE(name);
      check_close(m->tensor_at(name), t, 1e-5, 1e-4);
    }
  }

  SUBCASE("10 steps of SGD with momentum: the losses") {
    m->train();
    optim::SGD sgd(m->parameters(), {.lr = 0.01, .momentum = 0.9});
    const std::vector<double> expected = get(file, "sgd_losses").to_vector<double>();
    REQUIRE(expected.size() == 10);
    for (size_t step = 0; step < expected.size(); ++step) {
      CAPTURE(step);
      sgd.zero_grad();
      Tensor loss = train_loss(x).second;
      CHECK(std::fabs(loss.item<double>() - expected[step]) <= kLossAtol);
      loss.backward();
      sgd.step();
    }
  }
}

}  // namespace tutor::testing
