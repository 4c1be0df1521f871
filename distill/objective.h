// A distillation objective: a module with a registered name, documented parameters with
// defaults, and a formula. It reads named tensors (the student's and teachers' logits and taps,
// the labels) and returns its loss plus named parts for logging. It may own learnable modules
// (connectors, extra heads); their parameters join the student's optimizer.
//
// Input names (the same in `tutor loss` files, recipes and tests):
//   student.logits, teacher.logits        final logits [B, C]
//   student.<tap>, teacher.<tap>          any tap a model fills (layer3, pooled, layer2_preact...)
//   teacher1.logits, teacher2.<tap> ...   further teachers (teacher is teacher 0)
//   peer.logits, peer1.<tap> ...          other students trained in the same step (online
//                                         distillation, distill/distiller.h): the reader's first
//                                         peer, second, ... in student order, skipping itself;
//                                         constants (detached)
//   labels                                class indices, i64 [B]
// An objective lists what it reads in its spec (ObjectiveSpec::inputs); one whose inputs depend
// on its parameters (which tap to match) overrides Objective::inputs().
//
// Writing one: a file distill/objectives/<name>.cpp with a header comment giving the formula and
// its source, a class deriving from Objective, and a function `ObjectiveSpec <name>_objective()`
// listed in distill/objectives/list.inc. kd.cpp is the model to copy.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/nn/module.h"

namespace tutor::distill {

// Named tensors an objective reads. at() throws an Error naming the missing input and the given
// ones.
class Inputs {
 public:
  Inputs() = default;
  explicit Inputs(std::map<std::string, Tensor> tensors) : tensors_(std::move(tensors)) {}

  void set(const std::string& name, Tensor t) { tensors_[name] = std::move(t); }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const Tensor& at(const std::string& name) const;
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }

 private:
  std::map<std::string, Tensor> tensors_;
};

// Where training stands, for objectives whose loss depends on it (DKD's warm-up, WKD's decay).
struct Context {
  int64_t epoch = 0;   // 0-based epoch being trained
  int64_t epochs = 1;  // total epochs of the run
  int64_t step = 0;    // optimizer steps taken so far in the run
};

struct Result {
  Tensor loss;  // scalar; what the Distiller weights and sums
  // Named components for logging (e.g. DKD's "tckd" and "nckd"); scalars.
  std::vector<std::pair<std::string, Tensor>> parts;
};

struct ParamSpec {
  std::string name;
  std::string default_value;  // as written in a recipe or `--set`; "" means required
  std::string help;
};

struct InputSpec {
  std::string name;  // e.g. "student.logits"
  std::string help;  // shape and meaning, e.g. "[B, C] student logits"
  bool required = true;
};

class Params;
class Objective;

// Sizes of the available inputs, for objectives that build modules sized by the data (a
// connector from the student's channels to the teacher's).
using Shapes = std::map<std::string, std::vector<int64_t>>;

struct ObjectiveSpec {
  std::string name;     // registry key, e.g. "kd"
  std::string summary;  // one line for `tutor loss --list`
  std::string source;   // the reference implementation it agrees with
  std::vector<InputSpec> inputs;
  std::vector<ParamSpec> params;
  std::function<std::shared_ptr<Objective>(const Params&, const Shapes&)> make;
};

// Parameter values given as text (from a recipe or `--set key=value`), checked against the
// spec: an unknown key is an Error naming the objective, the key and the known keys. Typed
// getters parse the given value or the spec's default and name the objective and key on a bad
// value.
class Params {
 public:
  Params(const ObjectiveSpec& spec, std::map<std::string, std::string> values);

  double number(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  bool flag(const std::string& key) const;  // true/false, 1/0, yes/no
  std::string text(const std::string& key) const;
  std::vector<double> numbers(const std::string& key) const;  // comma-separated

  const std::string& objective() const { return objective_; }
  const std::map<std::string, std::string>& given() const { return values_; }

 private:
  const std::string& raw(const std::string& key) const;
  std::string objective_;
  std::map<std::string, std::string> defaults_;
  std::map<std::string, std::string> values_;
};

class Objective : public nn::Module {
 public:
  explicit Objective(std::string name) : nn::Module(name), name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  virtual Result compute(const Inputs& in, const Context& ctx) = 0;

  // The input names compute() reads. Default: the spec's required inputs.
  virtual std::vector<std::string> inputs() const;

  // Tap names this objective needs from the student and from teacher k, derived from inputs():
  // "student.layer3" -> "layer3" for the student. "logits" is always available.
  std::vector<std::string> student_taps() const;
  std::vector<std::string> teacher_taps(int64_t teacher) const;
  std::vector<std::string> peer_taps(int64_t peer) const;

  const ObjectiveSpec& spec() const;

 private:
  std::string name_;
};

// The registry of built-in objectives (distill/objectives/list.inc).
const std::vector<ObjectiveSpec>& objective_specs();
// The spec named `name`; an Error listing the known names otherwise.
const ObjectiveSpec& objective_spec(const std::string& name);
// Builds objective `name` with the given parameter values (unknown keys are an Error) and the
// shapes of the inputs it will see.
std::shared_ptr<Objective> make_objective(const std::string& name,
                                          const std::map<std::string, std::string>& values = {},
                                          const Shapes& shapes = {});

// The prefix of an input name that says whose it is ("student", "teacher", "teacher1") and the
// rest ("logits", "layer3"); {"", name} for inputs that belong to no model ("labels").
std::pair<std::string, std::string> split_input_name(const std::string& name);

// Whose inputs teacher k's are: "teacher" for k = 0, "teacher<k>" otherwise.
std::string teacher_prefix(int64_t k);

// Whose inputs peer p's are: "peer" for p = 0, "peer<p>" otherwise.
std::string peer_prefix(int64_t p);

// The index K of an owner "<base>" (0) or "<base><K>" ("teacher1" -> 1 for base "teacher"); -1
// when `owner` is not of that form.
int64_t prefix_index(const std::string& owner, const std::string& base);

}  // namespace tutor::distill
