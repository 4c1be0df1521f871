#include "distill/lelp.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Matrix to_matrix(const Tensor& t) {
  std::vector<double> v = t.detach().to(DType::f64).contiguous().to_vector<double>();
  return Eigen::Map<Matrix>(v.data(), t.size(0), t.size(1));
}

Tensor to_tensor(const Matrix& m, const Shape& shape) {
  std::vector<double> v(m.data(), m.data() + m.size());
  return from_vector(v, shape, TensorOptions(DType::f64));
}

}  // namespace

LelpProjection lelp_fit(const Tensor& embeddings, const Tensor& labels,
                        const Tensor& classifier_weight, int64_t k) {
  TUTOR_CHECK(embeddings.dim() == 2 && classifier_weight.dim() == 2 &&
                  classifier_weight.size(1) == embeddings.size(1) &&
                  is_floating(embeddings.dtype()) && is_floating(classifier_weight.dtype()),
              "lelp_fit: embeddings must be floating [N, D] and the classifier weight [C, D], got "
              "{} and {}",
              embeddings.sizes(), classifier_weight.sizes());
  const int64_t N = embeddings.size(0), D = embeddings.size(1), C = classifier_weight.size(0);
  TUTOR_CHECK(labels.dtype() == DType::i64 && labels.dim() == 1 && labels.size(0) == N,
              "lelp_fit: labels must be i64 [{}], got {} {}", N, labels.dtype(), labels.sizes());
  TUTOR_CHECK(k >= 1 && k <= D, "lelp_fit: k must lie in [1, {}] (the embedding size), got {}", D,
              k);
  std::vector<int64_t> y = labels.contiguous().to_vector<int64_t>();
  Matrix H = to_matrix(embeddings), W = to_matrix(classifier_weight);

  Matrix P =
      Matrix::Identity(D, D) - Matrix(W.completeOrthogonalDecomposition().pseudoInverse()) * W;
  Matrix U = H * P;  // P is symmetric: rows are P h

  Matrix means(C, D), directions(C * k, D), scales(C, k);
  for (int64_t c = 0; c < C; ++c) {
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < N; ++i) {
      TUTOR_CHECK(y[size_t(i)] >= 0 && y[size_t(i)] < C,
                  "lelp_fit: labels must lie in [0, {}), got {}", C, y[size_t(i)]);
      if (y[size_t(i)] == c) rows.push_back(i);
    }
    const auto n = int64_t(rows.size());
    TUTOR_CHECK(n >= 2, "lelp_fit: class {} has {} samples; PCA needs at least 2", c, n);
    Matrix Uc(n, D);
    for (int64_t r = 0; r < n; ++r) Uc.row(r) = U.row(rows[size_t(r)]);
    Eigen::RowVectorXd mu = Uc.colwise().mean();
    Matrix centered = Uc.rowwise() - mu;
    Matrix cov = (centered.transpose() * centered) / double(n - 1);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
    TUTOR_CHECK(eig.info() == Eigen::Success, "lelp_fit: eigendecomposition failed for class {}",
                c);
    means.row(c) = mu;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t col = D - 1 - j;  // eigenvalues come in increasing order
      Eigen::VectorXd v = eig.eigenvectors().col(col);
      Eigen::Index at = 0;
      v.cwiseAbs().maxCoeff(&at);
      if (v(at) < 0) v = -v;
      directions.row(c * k + j) = v.transpose();
      scales(c, j) = std::sqrt(std::max(eig.eigenvalues()(col), 1e-12));
    }
  }
  return {to_tensor(P, {D, D}), to_tensor(means, {C, D}), to_tensor(directions, {C, k, D}),
          to_tensor(scales, {C, k})};
}

Tensor lelp_subclass_logits(const LelpProjection& p, const Tensor& teacher_logits,
                            const Tensor& embeddings) {
  TUTOR_CHECK(p.directions.defined() && p.directions.dim() == 3,
              "lelp: no fitted projection (directions {})",
              p.directions.defined() ? p.directions.sizes() : Shape{});
  const int64_t C = p.directions.size(0), k = p.directions.size(1), D = p.directions.size(2);
  TUTOR_CHECK(teacher_logits.dim() == 2 && teacher_logits.size(1) == C && embeddings.dim() == 2 &&
                  embeddings.size(1) == D && embeddings.size(0) == teacher_logits.size(0),
              "lelp: the projection is fitted for {} classes and embeddings of size {}; got "
              "teacher logits {} and embeddings {}",
              C, D, teacher_logits.sizes(), embeddings.sizes());
  NoGradGuard no_grad;
  const DType dt = teacher_logits.dtype();
  Tensor u = matmul(embeddings.detach(), p.null_projector.to(dt));                      // [B, D]
  Tensor centered = u.unsqueeze(1) - p.means.to(dt).unsqueeze(0);                       // [B, C, D]
  Tensor coords = (centered.unsqueeze(2) * p.directions.to(dt).unsqueeze(0)).sum({3});  // [B, C, k]
  Tensor split = log_softmax(coords / p.scales.to(dt).unsqueeze(0), 2);
  Tensor sub = teacher_logits.detach().unsqueeze(2) + split;
  return sub.reshape({teacher_logits.size(0), C * k});
}

Tensor class_logits_of_subclasses(const Tensor& logits, int64_t k) {
  TUTOR_CHECK(k >= 1 && logits.dim() == 2 && logits.size(1) % k == 0,
              "lelp: subclass logits must be [B, C*k] with k = {}, got {}", k, logits.sizes());
  if (k == 1) return logits;
  return logsumexp(logits.reshape({logits.size(0), logits.size(1) / k, k}), {2});
}

void save_lelp_projection(const std::string& path, const LelpProjection& p) {
  save_safetensors(path, NamedTensors{{"null_projector", p.null_projector},
                                      {"means", p.means},
                                      {"directions", p.directions},
                                      {"scales", p.scales}});
}

LelpProjection load_lelp_projection(const std::string& path) {
  SafetensorsContents file = load_safetensors(path);
  auto get = [&](const char* name) {
    auto it = file.tensors.find(name);
    TUTOR_CHECK(it != file.tensors.end(), "lelp: projection file {} has no tensor '{}'", path,
                name);
    return it->second;
  };
  return {get("null_projector"), get("means"), get("directions"), get("scales")};
}

}  // namespace tutor::distill
