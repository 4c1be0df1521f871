#include "engine/nn/embedding.h"

#include "engine/autograd/grad_mode.h"
#include "engine/nn/init.h"
#include "engine/ops/indexing.h"

namespace tutor::nn {

namespace {

std::optional<int64_t> normalized_padding(int64_t n, std::optional<int64_t> idx) {
  if (!idx) return idx;
  TUTOR_CHECK(*idx >= -n && *idx < n, "Embedding: padding_idx {} is outside [-{}, {})", *idx, n, n);
  return *idx < 0 ? *idx + n : *idx;
}

}  // namespace

Embedding::Embedding(int64_t num, int64_t dim, std::optional<int64_t> padding)
    : Module("Embedding"),
      num_embeddings(num),
      embedding_dim(dim),
      padding_idx(normalized_padding(num, padding)) {
  TUTOR_CHECK(num > 0 && dim > 0,
              "Embedding: num_embeddings ({}) and embedding_dim ({}) must be positive", num, dim);
  weight = register_parameter("weight", empty({num, dim}));
  reset_parameters();
}

void Embedding::reset_parameters() {
  init::normal_(weight);
  if (padding_idx) {
    NoGradGuard no_grad;
    weight.select(0, *padding_idx).zero_();
  }
}

Tensor Embedding::forward(const Tensor& indices) {
  TUTOR_CHECK(indices.dtype() == DType::i64, "{}: indices must be i64, got {} of shape {}", str(),
              indices.dtype(), shape_str(indices.sizes()));
  return embedding(weight, indices, padding_idx);
}

std::string Embedding::extra_repr() const {
  std::string s = fmt::format("{}, {}", num_embeddings, embedding_dim);
  if (padding_idx) s += fmt::format(", padding_idx={}", *padding_idx);
  return s;
}

}  // namespace tutor::nn
