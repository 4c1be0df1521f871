// The FLOP count of a model's forward pass, worked out from its architecture: every convolution,
// Linear and attention product as the `tutor bench ops` workload of the same shape (conv2d,
// matmul with M = the rows the Linear sees, sdpa), summed with that file's forward_flops().
// Normalization, activations, pooling, residual sums and bias adds are left out (they are a few
// percent of the total at most and bound by memory, not by the FMA units). One count serves
// every `tutor bench` workload: a forward step costs F, a train step 3F (the backward of a conv
// or matmul is two products of the forward's size), a KD step F(teacher) + 3F(student).
//
// The ResNets are read from models/resnet.h's configuration (the one the model is built from).
// The transformers are the architectures of shared/spec/benchmarks.md (vit_small28,
// mixer_small28, deit_tiny, mixer_s16).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/cli/bench_workloads.h"

namespace tutor::cli {

// A batch of `channels` x `size` x `size` images for a model with `classes` outputs.
struct ModelInput {
  int64_t batch = 1, channels = 3, size = 224, classes = 1000;
};

// The model's convolutions, Linears and attention products in forward order, each named after
// its module ("layer2.0.conv1", "blocks.3.attn"); a tutor::Error for a model it does not know.
std::vector<Workload> model_layers(const std::string& model, const ModelInput& input);
// The sum of forward_flops() over model_layers().
double model_forward_flops(const std::string& model, const ModelInput& input);

}  // namespace tutor::cli
