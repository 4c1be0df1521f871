// Tensor's op methods (declared in engine/core/tensor.h): each forwards to the free function.
#include "engine/ops/ops.h"

namespace tutor {

Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const {
  return tutor::sum(*this, dims, keepdim);
}
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const {
  return tutor::mean(*this, dims, keepdim);
}
Tensor Tensor::amax(const std::vector<int64_t>& dims, bool keepdim) const {
  return tutor::amax(*this, dims, keepdim);
}
Tensor Tensor::argmax(std::optional<int64_t> dim, bool keepdim) const {
  return tutor::argmax(*this, dim, keepdim);
}
Tensor Tensor::abs() const { return tutor::abs(*this); }
Tensor Tensor::exp() const { return tutor::exp(*this); }
Tensor Tensor::log() const { return tutor::log(*this); }
Tensor Tensor::sqrt() const { return tutor::sqrt(*this); }
Tensor Tensor::square() const { return tutor::square(*this); }
Tensor Tensor::pow(double exponent) const { return tutor::pow(*this, exponent); }
Tensor Tensor::relu() const { return tutor::relu(*this); }
Tensor Tensor::sigmoid() const { return tutor::sigmoid(*this); }
Tensor Tensor::tanh() const { return tutor::tanh(*this); }
Tensor Tensor::matmul(const Tensor& other) const { return tutor::matmul(*this, other); }
Tensor Tensor::softmax(int64_t dim) const { return tutor::softmax(*this, dim); }
Tensor Tensor::log_softmax(int64_t dim) const { return tutor::log_softmax(*this, dim); }
Tensor Tensor::masked_fill(const Tensor& mask, double value) const {
  return tutor::masked_fill(*this, mask, value);
}
const Tensor& Tensor::add_(const Tensor& other) const { return tutor::add_(*this, other); }
const Tensor& Tensor::sub_(const Tensor& other) const { return tutor::sub_(*this, other); }
const Tensor& Tensor::mul_(const Tensor& other) const { return tutor::mul_(*this, other); }
const Tensor& Tensor::mul_(double factor) const { return tutor::mul_(*this, factor); }

}  // namespace tutor
