// The tape. Every differentiable op that sees an input requiring grad (with grad mode on) makes a
// Node: it remembers where each input's gradient goes (an edge to the input's own node, or to the
// AccumulateGrad node of a leaf) and how to turn output gradients into input gradients.
// backward() walks the nodes in reverse topological order (see engine.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor {

using TensorList = std::vector<Tensor>;

namespace autograd {

// A tensor kept for backward. Inputs keep their identity (their own grad_fn), so a backward pass
// with create_graph differentiates through them; outputs are kept detached, to avoid a reference
// cycle node -> output -> node, and get this node back as grad_fn when unpacked. The version seen
// at save time detects in-place changes made afterwards.
struct SavedTensor {
  Tensor data;
  uint64_t version = 0;
  int output_nr = -1;  // -1: an input (or any other tensor); k: output k of the saving node
};

SavedTensor save(const Tensor& t);                          // an input or other tensor
SavedTensor save_output(const Tensor& t, int output_nr = 0);  // an output of this op

class Node : public std::enable_shared_from_this<Node> {
 public:
  struct Edge {
    std::shared_ptr<Node> node;  // null: this input needs no gradient
    int input_nr = 0;            // which output of `node` the gradient belongs to
  };
  struct Meta {  // an input's or output's geometry, to check and to materialize zero gradients
    Shape shape;
    DType dtype;
    Device device;
  };

  explicit Node(std::string name);
  virtual ~Node();

  const std::string& name() const { return name_; }
  uint64_t sequence_nr() const { return sequence_nr_; }
  // Whether input i's gradient is used: it has an edge and, while autograd::grad runs, that edge
  // leads to one of grad's inputs (PyTorch's exec_info). A rule may then skip the others, which
  // also lets a gradient be differentiated again along one path when its rule has a second
  // derivative only along that path (the losses: in the incoming gradient, engine/ops/losses.h).
  bool needs_input_grad(size_t i) const;

  // Output gradients in, one gradient per input out (undefined where not needed).
  virtual TensorList apply(const TensorList& grad_outputs) = 0;
  // Drops saved tensors once the graph is not retained.
  virtual void release() {}

  // Restores a saved tensor, checking that it was not modified in place since it was saved.
  Tensor unpack(const SavedTensor& saved) const;

  std::vector<Edge> next_;
  std::vector<Meta> input_meta_;
  std::vector<Meta> output_meta_;
  std::vector<std::weak_ptr<TensorImpl>> retained_;  // outputs that called retain_grad()

 private:
  std::string name_;
  uint64_t sequence_nr_;
};

class FunctionNode;
using BackwardFn = std::function<TensorList(const FunctionNode& node, const TensorList& grads)>;

// A node whose backward is a closure over what it saved; built by record().
class FunctionNode final : public Node {
 public:
  FunctionNode(std::string name, BackwardFn fn) : Node(std::move(name)), fn_(std::move(fn)) {}
  ~FunctionNode() override;
  TensorList apply(const TensorList& grad_outputs) override;
  void release() override;

 private:
  BackwardFn fn_;
};

// The sink of a leaf's gradient: adds it into leaf.grad().
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(Tensor leaf);
  TensorList apply(const TensorList& grad_outputs) override;

 private:
  Tensor leaf_;
};

// Where the gradient of `t` should go: its grad_fn, a leaf's accumulator, or nowhere.
Node::Edge gradient_edge(const Tensor& t);

// True when grad mode is on and any of the tensors requires grad.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const TensorList& inputs);

// Attaches a new node to `outputs` if grad mode is on and any input requires grad; returns it.
std::shared_ptr<Node> record(std::string name, const TensorList& inputs, const TensorList& outputs,
                             BackwardFn fn);

// Computes gradients of `roots` (seeded with `grad_roots`, 1 for one-element roots by default)
// and accumulates them into the leaves' .grad().
void backward(const TensorList& roots, const TensorList& grad_roots = {},
              bool retain_graph = false, bool create_graph = false);

// Returns d(sum roots * grad_roots)/d(inputs) without touching .grad(), as torch.autograd.grad.
TensorList grad(const TensorList& roots, const TensorList& inputs,
                const TensorList& grad_roots = {}, bool retain_graph = false,
                bool create_graph = false);

}  // namespace autograd
}  // namespace tutor
