// torch.nn.MultiheadAttention (Vaswani et al. 2017) with PyTorch 1.13's packed input projection:
// parameters in_proj_weight [3E, E] (rows: query, key, value projections), in_proj_bias [3E], and
// the child out_proj (weight [E, E], bias [E]), so checkpoints load by name.
#pragma once

#include <memory>

#include "engine/nn/linear.h"
#include "engine/nn/module.h"

namespace tutor::nn {

struct MultiheadAttentionOutput {
  Tensor output;   // [L, N, E], or [N, L, E] with batch_first, or [L, E] unbatched
  Tensor weights;  // [N, L, S] averaged over heads, or [N, H, L, S]; undefined unless asked for
};

class MultiheadAttention : public Module {
 public:
  // embed_dim E must be a multiple of num_heads H; dropout applies to the attention weights in
  // training. Keys and values have embed_dim features (PyTorch's kdim = vdim = None).
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, double dropout = 0, bool bias = true,
                     bool batch_first = false);

  // query [L, N, E], key and value [S, N, E] ([N, L, E] and [N, S, E] with batch_first; [L, E] and
  // [S, E] for one unbatched sample), with PyTorch's mask conventions:
  //   key_padding_mask [N, S] ([S] unbatched): bool, true = the key is padding and is ignored; or
  //     additive, of the query's dtype.
  //   attn_mask [L, S] or [N * H, L, S]: bool, true = the query may NOT attend to the key; or
  //     additive. Given both, they combine (or of the bools, sum of the additive forms).
  // need_weights returns the softmax weights (before dropout), averaged over the heads when
  // average_attn_weights. Differences from PyTorch 1.13: a query whose keys are all masked gets a
  // zero output and zero weights (PyTorch 1.13 gives NaN); with dropout in training the returned
  // weights are the ones before dropout (PyTorch returns the dropped ones).
  MultiheadAttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                   const Tensor& key_padding_mask = Tensor(),
                                   bool need_weights = true, const Tensor& attn_mask = Tensor(),
                                   bool average_attn_weights = true);
  using Module::forward;  // the single-tensor forward is not offered (it throws)

  // PyTorch's _reset_parameters: in_proj_weight ~ xavier_uniform_, in_proj_bias = 0,
  // out_proj.bias = 0; out_proj.weight keeps Linear's kaiming_uniform_(a = sqrt(5)).
  void reset_parameters();

  const int64_t embed_dim, num_heads, head_dim;
  double dropout;  // may be changed between steps
  const bool batch_first;
  Tensor in_proj_weight, in_proj_bias;
  std::shared_ptr<NonDynamicallyQuantizableLinear> out_proj;

 private:
  std::string name() const;  // "MultiheadAttention(embed_dim=E, num_heads=H)", for errors
};

}  // namespace tutor::nn
