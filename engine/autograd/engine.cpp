// The backward pass. Nodes are discovered from the roots, each is given the number of edges that
// feed it, and a node runs once all of them have delivered (summed) gradients. Among ready nodes
// the most recently created runs first, as in PyTorch, so the order is deterministic.
#include <atomic>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/elementwise.h"

namespace tutor::autograd {

static std::atomic<uint64_t> next_sequence_nr{0};

// Set while grad() runs: the nodes from which a captured edge can be reached.
static thread_local const std::unordered_set<const Node*>* needed_nodes = nullptr;

bool Node::needs_input_grad(size_t i) const {
  if (i >= next_.size() || next_[i].node == nullptr) return false;
  return needed_nodes == nullptr || needed_nodes->count(next_[i].node.get()) > 0;
}

Node::Node(std::string name) : name_(std::move(name)), sequence_nr_(next_sequence_nr++) {}

// Freeing a graph frees nodes that own the next nodes (through edges and saved tensors), so a
// naive destructor recurses once per op and a long chain overflows the stack. Instead, a dying
// node hands what it owns to a per-thread queue that the outermost destructor drains in a loop.
namespace {
struct Graveyard {
  std::vector<std::shared_ptr<Node>> nodes;
  std::vector<BackwardFn> closures;
  bool draining = false;

  void drain() {
    if (draining) return;
    draining = true;
    while (!nodes.empty() || !closures.empty()) {
      if (!closures.empty()) {
        BackwardFn dying = std::move(closures.back());
        closures.pop_back();
      } else {
        std::shared_ptr<Node> dying = std::move(nodes.back());
        nodes.pop_back();
      }
    }
    draining = false;
  }
};
thread_local Graveyard graveyard;
}  // namespace

Node::~Node() {
  for (Edge& e : next_)
    if (e.node) graveyard.nodes.push_back(std::move(e.node));
  graveyard.drain();
}

FunctionNode::~FunctionNode() {
  if (fn_) graveyard.closures.push_back(std::move(fn_));
}

void FunctionNode::release() {
  if (fn_) graveyard.closures.push_back(std::move(fn_));
  fn_ = nullptr;
  graveyard.drain();
}

SavedTensor save(const Tensor& t) {
  if (!t.defined()) return {};
  return {t, t.version(), -1};
}

SavedTensor save_output(const Tensor& t, int output_nr) {
  return {t.as_strided_raw(t.sizes(), t.strides(), t.offset()), t.version(), output_nr};
}

Tensor Node::unpack(const SavedTensor& saved) const {
  if (!saved.data.defined()) return {};
  TUTOR_CHECK(saved.data.version() == saved.version,
              "backward of '{}': a tensor of shape {} that it saved was modified in place "
              "afterwards (version {} when saved, {} now); clone it before changing it",
              name_, shape_str(saved.data.sizes()), saved.version, saved.data.version());
  if (saved.output_nr < 0) return saved.data;
  Tensor t = saved.data.as_strided_raw(saved.data.sizes(), saved.data.strides(),
                                       saved.data.offset());
  // Only a graph being differentiated again needs the output's history back.
  if (GradMode::is_enabled())
    t.set_history(std::const_pointer_cast<Node>(shared_from_this()), saved.output_nr);
  return t;
}

TensorList FunctionNode::apply(const TensorList& grad_outputs) {
  TUTOR_CHECK(fn_ != nullptr,
              "backward of '{}': the graph was already freed by an earlier backward(); pass "
              "retain_graph=true to the first call to backward through it twice",
              name());
  return fn_(*this, grad_outputs);
}

AccumulateGrad::AccumulateGrad(Tensor leaf) : Node("AccumulateGrad"), leaf_(std::move(leaf)) {}

// Whether nothing but the engine's buffer can reach g (its tensor and its storage held once) and
// g is dense from the storage's start in `format`: such a gradient can become a leaf's .grad() as
// it is, as PyTorch's AccumulateGrad steals it, instead of being copied (a copy of every
// parameter's gradient per step; 6% of layer_norm's forward and backward on [6272, 64]).
static bool exclusively_held(const Tensor& g, MemoryFormat format) {
  return g.impl_ptr().use_count() == 1 && g.storage().use_count() == 1 && g.offset() == 0 &&
         g.is_contiguous(format);
}

TensorList AccumulateGrad::apply(const TensorList& grad_outputs) {
  const Tensor& g = grad_outputs.at(0);
  Tensor& grad = leaf_.mutable_grad();
  if (!grad.defined()) {
    // The gradient takes the leaf's layout (PyTorch's layout contract: a channels-last leaf gets
    // a channels-last gradient, not an element-wise transposing copy into NCHW).
    const MemoryFormat format = leaf_.suggest_memory_format();
    if (GradMode::is_enabled() || exclusively_held(g, format)) {
      grad = g;
    } else {  // a fresh tensor, so the leaf never aliases another leaf's or the caller's gradient
      grad = empty(g.sizes(), g.options(), format);
      grad.copy_raw_(g);
    }
  } else {
    grad = GradMode::is_enabled() ? add(grad, g) : add(grad.detach(), g.detach());
  }
  return {};
}

Node::Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  if (t.grad_fn()) return {t.grad_fn(), t.output_nr()};
  if (!t.requires_grad()) return {};
  TensorImpl* impl = t.impl();
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    impl->grad_accumulator = acc;
  }
  return {acc, 0};
}

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

bool needs_grad(const TensorList& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

static Node::Meta meta_of(const Tensor& t) {
  if (!t.defined()) return {{}, DType::f32, kCPU};
  return {t.sizes(), t.dtype(), t.device()};
}

std::shared_ptr<Node> record(std::string name, const TensorList& inputs, const TensorList& outputs,
                             BackwardFn fn) {
  if (!needs_grad(inputs)) return nullptr;
  auto node = std::make_shared<FunctionNode>(std::move(name), std::move(fn));
  for (const Tensor& in : inputs) {
    node->next_.push_back(in.defined() && in.requires_grad() ? gradient_edge(in) : Node::Edge{});
    node->input_meta_.push_back(meta_of(in));
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    TUTOR_CHECK(outputs[k].is_floating_point(), "{}: output {} is {}, only floating outputs can "
                "carry gradients", node->name(), k, outputs[k].dtype());
    outputs[k].set_history(node, int(k));
    node->output_meta_.push_back(meta_of(outputs[k]));
  }
  node->retained_.resize(outputs.size());
  return node;
}

namespace {

struct ByNewest {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

// Runs the graph; when `capture` is non-empty, gradients arriving at those edges are stored in
// `captured` and leaves' .grad() is left alone (torch.autograd.grad); otherwise leaves accumulate.
void run_backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph,
                  bool create_graph, const std::vector<Node::Edge>& capture, TensorList* captured) {
  TUTOR_CHECK(grad_roots.empty() || grad_roots.size() == roots.size(),
              "backward: {} roots but {} root gradients", roots.size(), grad_roots.size());
  std::unordered_map<Node*, TensorList> buffers;
  std::unordered_map<Node*, int> pending;  // incoming edges not yet delivered
  std::vector<std::shared_ptr<Node>> keep_alive;

  auto deliver = [&](const Node::Edge& edge, const Tensor& g) {
    if (!g.defined()) return;
    TensorList& buf = buffers[edge.node.get()];
    if (buf.empty()) buf.resize(std::max<size_t>(edge.node->output_meta_.size(), 1));
    Tensor& slot = buf[size_t(edge.input_nr)];
    slot = slot.defined() ? add(slot, g) : g;
  };

  std::vector<Node*> root_nodes;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    TUTOR_CHECK(r.defined() && r.requires_grad(),
                "backward: root {} does not require grad and has no grad_fn", i);
    Tensor g = grad_roots.empty() ? Tensor() : grad_roots[i];
    if (!g.defined()) {
      TUTOR_CHECK(r.numel() == 1, "backward: a gradient can be implied only for a one-element "
                  "output, but root {} has shape {}; pass grad_output", i, shape_str(r.sizes()));
      g = ones(r.sizes(), r.options());
    }
    TUTOR_CHECK(g.sizes() == r.sizes(), "backward: gradient of shape {} for root {} of shape {}",
                shape_str(g.sizes()), i, shape_str(r.sizes()));
    Node::Edge edge = gradient_edge(r);
    keep_alive.push_back(edge.node);
    deliver(edge, g);
    root_nodes.push_back(edge.node.get());
  }

  // Discover the graph and count incoming edges.
  // Roots that share a node (two outputs of one op) start the walk once, so each edge is
  // counted once.
  std::unordered_set<Node*> seen(root_nodes.begin(), root_nodes.end());
  std::vector<Node*> stack(seen.begin(), seen.end());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Node::Edge& e : n->next_) {
      if (!e.node) continue;
      ++pending[e.node.get()];
      if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
    }
  }

  // With captures, only nodes that lead to a captured edge run; the rest of the graph is walked
  // (to count edges and free it) but not computed.
  std::unordered_set<const Node*> needed;
  if (!capture.empty()) {
    std::unordered_map<const Node*, std::vector<const Node*>> parents;
    for (Node* n : seen)
      for (const Node::Edge& e : n->next_)
        if (e.node) parents[e.node.get()].push_back(n);
    std::vector<const Node*> todo;
    for (const Node::Edge& e : capture)
      if (e.node && needed.insert(e.node.get()).second) todo.push_back(e.node.get());
    while (!todo.empty()) {
      const Node* n = todo.back();
      todo.pop_back();
      for (const Node* p : parents[n])
        if (needed.insert(p).second) todo.push_back(p);
    }
  }
  struct Restore {
    const std::unordered_set<const Node*>* previous = needed_nodes;
    ~Restore() { needed_nodes = previous; }
  } restore;
  needed_nodes = capture.empty() ? nullptr : &needed;

  std::priority_queue<Node*, std::vector<Node*>, ByNewest> ready;
  for (Node* n : std::unordered_set<Node*>(root_nodes.begin(), root_nodes.end()))
    if (pending[n] == 0) ready.push(n);

  EnableGradGuard grad_mode(create_graph);
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    TensorList grads = std::move(buffers[node]);
    buffers.erase(node);
    grads.resize(std::max<size_t>(node->output_meta_.size(), 1));

    for (size_t c = 0; c < capture.size(); ++c)
      if (capture[c].node.get() == node && grads[size_t(capture[c].input_nr)].defined())
        (*captured)[c] = grads[size_t(capture[c].input_nr)];

    bool any = false;
    for (const Tensor& g : grads) any = any || g.defined();
    TensorList input_grads;
    bool is_sink = dynamic_cast<AccumulateGrad*>(node) != nullptr;
    const bool skip = !capture.empty() && (is_sink || !needed.count(node));
    if (any && !skip) {
      for (size_t k = 0; k < node->retained_.size(); ++k)
        if (auto impl = node->retained_[k].lock(); impl && grads[k].defined()) {
          Tensor& rg = impl->grad;
          rg = rg.defined() ? add(rg, grads[k]) : grads[k].detach();
        }
      for (size_t k = 0; k < grads.size() && k < node->output_meta_.size(); ++k)
        if (!grads[k].defined()) {
          const Node::Meta& m = node->output_meta_[k];
          grads[k] = zeros(m.shape, TensorOptions(m.dtype).device(m.device));
        }
      input_grads = node->apply(grads);
      if (!is_sink)
        TUTOR_CHECK(input_grads.size() == node->next_.size(),
                    "backward of '{}' returned {} gradients for {} inputs", node->name(),
                    input_grads.size(), node->next_.size());
      for (size_t i = 0; i < input_grads.size(); ++i) {
        const Tensor& g = input_grads[i];
        if (!g.defined() || !node->next_[i].node) continue;
        TUTOR_CHECK(g.sizes() == node->input_meta_[i].shape,
                    "backward of '{}' returned a gradient of shape {} for input {} of shape {}",
                    node->name(), shape_str(g.sizes()), i, shape_str(node->input_meta_[i].shape));
      }
    }
    if (!retain_graph) node->release();
    for (size_t i = 0; i < node->next_.size(); ++i) {
      const Node::Edge& e = node->next_[i];
      if (!e.node) continue;
      if (i < input_grads.size()) deliver(e, input_grads[i]);
      if (--pending[e.node.get()] == 0) ready.push(e.node.get());
    }
  }
}

}  // namespace

void backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph,
              bool create_graph) {
  run_backward(roots, grad_roots, retain_graph || create_graph, create_graph, {}, nullptr);
}

TensorList grad(const TensorList& roots, const TensorList& inputs, const TensorList& grad_roots,
                bool retain_graph, bool create_graph) {
  std::vector<Node::Edge> capture;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TUTOR_CHECK(inputs[i].defined() && inputs[i].requires_grad(),
                "grad: input {} does not require grad", i);
    capture.push_back(gradient_edge(inputs[i]));
  }
  TensorList captured(inputs.size());
  run_backward(roots, grad_roots, retain_graph || create_graph, create_graph, capture, &captured);
  return captured;
}

}  // namespace tutor::autograd

namespace tutor {

void Tensor::backward(const Tensor& grad_output, bool retain_graph, bool create_graph) const {
  autograd::backward({*this}, {grad_output}, retain_graph, create_graph);
}

void Tensor::retain_grad() const {
  TUTOR_CHECK(requires_grad(), "retain_grad: the tensor does not require grad");
  if (is_leaf()) return;
  grad_fn()->retained_[size_t(output_nr())] = impl_ptr();
}

}  // namespace tutor
