// torch.nn.Embedding: a lookup table of num_embeddings vectors of embedding_dim.
#pragma once

#include <optional>

#include "engine/nn/module.h"

namespace tutor::nn {

class Embedding : public Module {
 public:
  // weight [num_embeddings, embedding_dim]. padding_idx (negative counts from the end, and is
  // stored normalized, as PyTorch) names a row that starts at zero and gets no gradient.
  Embedding(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx = {});

  // i64 indices of any shape -> indices.shape + [embedding_dim].
  Tensor forward(const Tensor& indices) override;

  // PyTorch's reset_parameters: weight ~ N(0, 1), then the padding row set to 0.
  void reset_parameters();

  const int64_t num_embeddings, embedding_dim;
  const std::optional<int64_t> padding_idx;
  Tensor weight;

 protected:
  std::string extra_repr() const override;
};

}  // namespace tutor::nn
