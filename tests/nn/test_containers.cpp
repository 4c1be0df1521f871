// Sequential, ModuleList and ModuleDict: names, order, indexing, chaining and printing.
#include <doctest/doctest.h>

#include "nn_test.h"

using namespace tutor;
using testing::state_listing;

TEST_CASE("containers: Sequential chains forwards and names entries 0, 1, ...") {
  auto fc1 = std::make_shared<nn::Linear>(3, 4);
  auto fc2 = std::make_shared<nn::Linear>(4, 2, false);
  nn::Sequential seq{fc1, std::make_shared<nn::ReLU>()};
  seq.push_back(fc2);
  // torch.nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2, bias=False)).state_dict()
  CHECK(state_listing(seq) ==
        std::vector<std::string>{"0.weight [4, 3] f32", "0.bias [4] f32", "2.weight [2, 4] f32"});
  CHECK(seq.size() == 3);
  CHECK(seq[0].get() == fc1.get());
  CHECK(seq[-1].get() == fc2.get());
  CHECK(seq.at<nn::Linear>(2)->out_features == 2);
  testing::check_error([&] { seq.at<nn::Linear>(1); }, {"Sequential", "entry 1", "ReLU"});
  testing::check_error([&] { seq[3]; }, {"Sequential", "index 3", "3 entries"});
  testing::check_error([&] { seq[-4]; }, {"index -4"});

  Tensor x = tensor({{1, -2, 3}, {0.5, 0, -1}});
  testing::check_close(seq(x), linear(relu(linear(x, fc1->weight, fc1->bias)), fc2->weight));
  CHECK(seq.str() ==
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=4, out_features=2, bias=False)\n"
        ")");
  nn::Sequential empty_seq;
  CHECK(empty_seq(x).is_same(x));
}

TEST_CASE("containers: Sequential with named entries, nested") {
  auto outer = std::make_shared<nn::Sequential>(nn::NamedModules{
      {"body",
       std::make_shared<nn::Sequential>(nn::NamedModules{{"fc", std::make_shared<nn::Linear>(2, 3)},
                                                         {"act", std::make_shared<nn::GELU>()}})},
      {"head", std::make_shared<nn::Linear>(3, 1)}});
  CHECK(state_listing(*outer) ==
        std::vector<std::string>{"body.fc.weight [3, 2] f32", "body.fc.bias [3] f32",
                                 "head.weight [1, 3] f32", "head.bias [1] f32"});
  CHECK(outer->forward(ones({5, 2})).sizes() == Shape{5, 1});
  testing::check_error([&] { outer->push_back("head", std::make_shared<nn::ReLU>()); },
                       {"Sequential", "'head'", "already"});
}

TEST_CASE("containers: ModuleList holds entries and has no forward") {
  nn::ModuleList list{std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(1, 1)};
  list.push_back(std::make_shared<nn::Linear>(1, 2));
  // torch.nn.ModuleList([nn.ReLU(), nn.Linear(1, 1), nn.Linear(1, 2)]).state_dict()
  CHECK(state_listing(list) == std::vector<std::string>{"1.weight [1, 1] f32", "1.bias [1] f32",
                                                        "2.weight [2, 1] f32", "2.bias [2] f32"});
  std::vector<std::string> names;
  for (const auto& [name, m] : list) names.push_back(name + ":" + m->type_name());
  CHECK(names == std::vector<std::string>{"0:ReLU", "1:Linear", "2:Linear"});
  testing::check_error([&] { list(ones({1})); }, {"ModuleList", "no single-tensor forward"});
  CHECK(list.str() ==
        "ModuleList(\n  (0): ReLU()\n  (1): Linear(in_features=1, out_features=1, bias=True)\n"
        "  (2): Linear(in_features=1, out_features=2, bias=True)\n)");
}

TEST_CASE("containers: ModuleDict keeps insertion order and replaces in place") {
  nn::ModuleDict dict(
      {{"b", std::make_shared<nn::Linear>(2, 2)}, {"a", std::make_shared<nn::Identity>()}});
  CHECK(dict.keys() == std::vector<std::string>{"b", "a"});
  CHECK(dict.contains("a"));
  CHECK(!dict.contains("c"));
  dict.insert("b", std::make_shared<nn::Linear>(2, 5));  // same position, new module
  dict.insert("c", std::make_shared<nn::ReLU>());
  CHECK(dict.keys() == std::vector<std::string>{"b", "a", "c"});
  CHECK(dict.at<nn::Linear>("b")->out_features == 5);
  CHECK(state_listing(dict) == std::vector<std::string>{"b.weight [5, 2] f32", "b.bias [5] f32"});
  testing::check_error([&] { dict["z"]; }, {"ModuleDict", "'z'", "b, a, c"});
  testing::check_error([&] { dict.at<nn::Linear>("c"); }, {"'c'", "ReLU"});
  CHECK(dict.str() ==
        "ModuleDict(\n  (b): Linear(in_features=2, out_features=5, bias=True)\n  (a): Identity()\n"
        "  (c): ReLU()\n)");
}
