#include "engine/ops/optim_update.h"

#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "kernels/optim_params.h"

namespace tutor {

void sgd_update_(const Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
                 const SgdUpdate& o) {
  static const ops::Kernel k("sgd_update");
  ops::check_floating("sgd_update_", param, "param");
  TUTOR_CHECK(grad.defined() && grad.sizes() == param.sizes(),
              "sgd_update_: grad of shape {} does not match param of shape {}",
              grad.defined() ? shape_str(grad.sizes()) : std::string("(undefined)"),
              shape_str(param.sizes()));
  ops::check_same_dtype("sgd_update_", {param, grad, momentum_buffer});
  ops::check_same_device("sgd_update_", {param, grad, momentum_buffer});
  TUTOR_CHECK(non_overlapping_and_dense(param.sizes(), param.strides()),
              "sgd_update_: param of shape {} and strides {} is not dense",
              shape_str(param.sizes()), shape_str(param.strides()));
  const bool use_buffer = o.momentum != 0;
  if (use_buffer && momentum_buffer.defined())
    TUTOR_CHECK(
        momentum_buffer.sizes() == param.sizes() && momentum_buffer.strides() == param.strides(),
        "sgd_update_: momentum_buffer of shape {} and strides {} does not match param of "
        "shape {} and strides {}",
        shape_str(momentum_buffer.sizes()), shape_str(momentum_buffer.strides()),
        shape_str(param.sizes()), shape_str(param.strides()));
  Tensor g = grad;
  if (g.strides() != param.strides()) {
    g = empty_strided(param.sizes(), param.strides(), param.options());
    g.copy_raw_(grad);
  }
  const bool first = use_buffer && !momentum_buffer.defined();
  if (first) momentum_buffer = empty_strided(param.sizes(), param.strides(), param.options());
  kernels::SgdParams p{o.lr, o.momentum, o.dampening, o.weight_decay, o.nesterov, first};
  if (use_buffer)
    ops::dispatch(k, param.dtype(), {g}, {param, momentum_buffer}, &p);
  else
    ops::dispatch(k, param.dtype(), {g}, {param}, &p);
}

void ops::add_optimizer_ops(std::vector<OpInfo>& ops) {
  ops.push_back({"sgd_update_", false, {"sgd_update"}});
}

}  // namespace tutor
