// The workloads of `tutor bench ops`: one op at one shape, forward only or forward plus backward,
// with the work it does (FLOPs, or bytes moved for memory-bound ops). The same list, written as
// JSON by workloads_json(), is what tools/bench/pytorch_ops.py runs, so both sides time the same
// shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tutor::cli {

// `dims` by op:
//   conv2d         N, C, H, W, K, R, S, stride, pad  (input [N,C,H,W], weight [K,C,R,S], no bias)
//   matmul         M, K, N                           ([M,K] x [K,N])
//   linear_gelu    M, K, N                           (gelu(x W^T + b), x [M,K], W [N,K]; fused)
//   linear_then_gelu  M, K, N                        (the same as gelu(linear(...)), unfused)
//   sdpa           B, heads, L, E                    (q, k, v [B,heads,L,E])
//   layer_norm     rows, cols                        (normalized over cols, with weight and bias)
//   batch_norm     N, C, H, W                        (training mode, with weight and bias)
//   softmax        rows, cols                        (over cols)
//   cross_entropy  rows, classes                     (class-index targets, mean reduction)
struct Workload {
  std::string name;   // "conv_cifar_16to32_3x3_s2_fwd"
  std::string group;  // "conv_cifar": --vs-pytorch alternates tutor and PyTorch per group
  std::string op;
  std::vector<int64_t> dims;
  bool backward = false;  // time forward + backward (autograd) instead of forward alone
  // conv2d and batch_norm: the input and the output gradient in channels-last (NHWC) memory, the
  // layout tutor's CNN models run in, instead of contiguous NCHW.
  bool channels_last = false;
};

// The FLOPs of one forward pass: conv 2*N*K*C*R*S*P*Q (groups 1), matmul 2*M*N*K, sdpa
// 2 * 2*B*heads*L*L*E (q k^T and p v); 0 for the memory-bound ops.
double forward_flops(const Workload& w);
// With backward: the backward of a conv, matmul or sdpa costs two forwards (the gradient of each
// operand), so forward + backward = 3 forwards.
double workload_flops(const Workload& w);
// Bytes a memory-bound op must move at least, f32: forward reads the input and writes the
// output; backward also reads the output gradient (and the input) and writes the input gradient.
// 0 for the compute-bound ops.
double workload_bytes(const Workload& w);
bool is_compute_bound(const Workload& w);

// Conv output size: (H + 2 pad - R) / stride + 1.
int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad);

// The full list: CIFAR-ResNet convs (batch 128, 28x28), ResNet-18 convs (batch 16, 224x224),
// square and ViT/Mixer matmuls, attention, layer_norm, batch_norm, softmax, cross_entropy.
std::vector<Workload> all_workloads();
// `list` with every conv2d and batch_norm workload turned channels-last:
// "conv_cifar_16to32_1x1_s2_fwd" becomes "conv_cifar_16to32_1x1_s2_nhwc_fwd"; the other ops are
// left as they are.
std::vector<Workload> with_channels_last(std::vector<Workload> list);
// Those whose name contains `substring` (all when it is empty).
std::vector<Workload> filter_workloads(const std::vector<Workload>& all,
                                       const std::string& substring);

// [{"name":..., "group":..., "op":..., "dims":[...], "backward":0 or 1, "channels_last":0 or 1},
// ...] (integers: the reader shared with safetensors takes objects, arrays, strings and integers
// only). "channels_last" may be left out (0).
std::string workloads_json(const std::vector<Workload>& workloads);
// The inverse of workloads_json (checks every field; a tutor::Error names `source` and the field).
std::vector<Workload> parse_workloads_json(const std::string& text, const std::string& source);

// The median of `values` (the mean of the middle two for an even count); values must not be empty.
double median(std::vector<double> values);

}  // namespace tutor::cli
