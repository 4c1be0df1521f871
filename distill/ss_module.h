// SSKD's self-supervision module (Xu et al. ECCV 2020; torchdistill models/wrapper.py::
// SSWrapper4SSKD): an MLP on a model's pooled feature h [B, d],
//   ss_feat = Linear(d, d) -> ReLU -> Linear(d, d)   (children "0", "2" as nn.Sequential's)
// whose outputs on a rotation batch (distill/rotation.h) objectives sskd and sskd_aux read as
// "<model>.ss_feat". The teacher's module is trained first with sskd_aux on its frozen backbone
// (stage 1); the student's trains with the student (stage 2).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "distill/distiller.h"
#include "engine/nn/containers.h"

namespace tutor::distill {

std::shared_ptr<nn::Sequential> make_ss_module(int64_t features);

// `model` with the tap `tap` = head(<source tap> flattened): its module holds the model (child
// "model") and the head (child `head_name`), so parameters, train/eval and requires_grad cover
// both. Other taps pass through unchanged. (Also the aspect head of multi_aspect.)
Participant with_head(const Participant& model, std::shared_ptr<nn::Module> head,
                      const std::string& tap, const std::string& head_name,
                      const std::string& source = "pooled");

// with_head(model, ss_module, "ss_feat", "ss_module").
Participant with_ss_module(const Participant& model, std::shared_ptr<nn::Module> ss_module,
                           const std::string& source = "pooled");

}  // namespace tutor::distill
