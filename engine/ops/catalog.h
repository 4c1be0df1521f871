// The catalog of public ops: what `tutor audit` lists and what the coverage test walks. Every op
// family adds its entries next to its definitions, so an op and its catalog line change together.
#pragma once

#include <string>
#include <vector>

#include "engine/core/dtype.h"

namespace tutor::ops {

struct OpInfo {
  std::string name;                  // the public function, e.g. "conv2d"
  bool differentiable = true;        // has a backward rule (and so a gradient test)
  std::vector<std::string> kernels;  // kernel slots it dispatches to; empty: composed of other ops
  std::vector<DType> dtypes = {DType::f32, DType::f64};  // dtypes each kernel must serve
};

const std::vector<OpInfo>& op_catalog();

// One per op family, defined in that family's .cpp.
void add_view_ops(std::vector<OpInfo>& ops);
void add_elementwise_ops(std::vector<OpInfo>& ops);
void add_reduction_ops(std::vector<OpInfo>& ops);
void add_linalg_ops(std::vector<OpInfo>& ops);
void add_activation_ops(std::vector<OpInfo>& ops);
void add_conv_pool_ops(std::vector<OpInfo>& ops);
void add_normalization_ops(std::vector<OpInfo>& ops);
void add_indexing_ops(std::vector<OpInfo>& ops);
void add_shaping_ops(std::vector<OpInfo>& ops);
void add_loss_ops(std::vector<OpInfo>& ops);
void add_resampling_ops(std::vector<OpInfo>& ops);
void add_attention_ops(std::vector<OpInfo>& ops);
void add_fused_ops(std::vector<OpInfo>& ops);
void add_optimizer_ops(std::vector<OpInfo>& ops);

}  // namespace tutor::ops
