#include "engine/ops/catalog.h"

namespace tutor::ops {

const std::vector<OpInfo>& op_catalog() {
  static const std::vector<OpInfo> catalog = [] {
    std::vector<OpInfo> ops;
    add_view_ops(ops);
    add_elementwise_ops(ops);
    add_reduction_ops(ops);
    add_linalg_ops(ops);
    add_activation_ops(ops);
    add_conv_pool_ops(ops);
    add_normalization_ops(ops);
    add_indexing_ops(ops);
    add_shaping_ops(ops);
    add_loss_ops(ops);
    add_resampling_ops(ops);
    add_attention_ops(ops);
    add_fused_ops(ops);
    add_optimizer_ops(ops);
    return ops;
  }();
  return catalog;
}

}  // namespace tutor::ops
