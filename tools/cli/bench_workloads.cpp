#include "tools/cli/bench_workloads.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/core/error.h"
#include "engine/io/json.h"
#include "tools/cli/json.h"

namespace tutor::cli {

static size_t dims_expected(const std::string& op) {
  if (op == "conv2d") return 9;
  if (op == "matmul" || op == "linear_gelu" || op == "linear_then_gelu") return 3;
  if (op == "sdpa" || op == "batch_norm") return 4;
  if (op == "layer_norm" || op == "softmax" || op == "cross_entropy") return 2;
  return 0;  // unknown op
}

int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

double forward_flops(const Workload& w) {
  const std::vector<int64_t>& d = w.dims;
  if (w.op == "conv2d") {
    double p = double(conv_out_size(d[2], d[5], d[7], d[8]));
    double q = double(conv_out_size(d[3], d[6], d[7], d[8]));
    return 2.0 * double(d[0]) * double(d[4]) * double(d[1]) * double(d[5]) * double(d[6]) * p * q;
  }
  if (w.op == "matmul" || w.op == "linear_gelu" || w.op == "linear_then_gelu")
    return 2.0 * double(d[0]) * double(d[1]) * double(d[2]);
  if (w.op == "sdpa")
    return 2.0 * 2.0 * double(d[0]) * double(d[1]) * double(d[2]) * double(d[2]) * double(d[3]);
  return 0;
}

bool is_compute_bound(const Workload& w) {
  return w.op == "conv2d" || w.op == "matmul" || w.op == "sdpa" || w.op == "linear_gelu" ||
         w.op == "linear_then_gelu";
}

double workload_flops(const Workload& w) { return forward_flops(w) * (w.backward ? 3.0 : 1.0); }

double workload_bytes(const Workload& w) {
  if (is_compute_bound(w)) return 0;
  double elements = 1;
  for (int64_t v : w.dims) elements *= double(v);
  // cross_entropy's output is a scalar: forward reads the logits; backward writes their gradient.
  double forward = w.op == "cross_entropy" ? elements : 2 * elements;
  double backward =
      w.op == "cross_entropy" ? elements : 3 * elements;  // read x (or y), dy; write dx
  return 4.0 * (forward + (w.backward ? backward : 0));
}

static void add_conv(std::vector<Workload>& list, const std::string& set, int64_t n, int64_t c,
                     int64_t hw, int64_t k, int64_t r, int64_t stride, int64_t pad) {
  std::string base = fmt::format("conv_{}_{}to{}_{}x{}{}", set, c, k, r, r,
                                 stride > 1 ? fmt::format("_s{}", stride) : "");
  for (bool backward : {false, true})
    list.push_back({base + (backward ? "_fwdbwd" : "_fwd"),
                    "conv_" + set,
                    "conv2d",
                    {n, c, hw, hw, k, r, r, stride, pad},
                    backward});
}

static void add_both(std::vector<Workload>& list, const std::string& base, const std::string& group,
                     const std::string& op, std::vector<int64_t> dims) {
  list.push_back({base + "_fwd", group, op, dims, false});
  list.push_back({base + "_fwdbwd", group, op, dims, true});
}

std::vector<Workload> all_workloads() {
  std::vector<Workload> list;
  // CIFAR-style ResNet on 1x28x28 (benchmarks.md), batch 128: stage inputs 28, 28, 14.
  add_conv(list, "cifar", 128, 1, 28, 16, 3, 1, 1);
  add_conv(list, "cifar", 128, 16, 28, 16, 3, 1, 1);
  add_conv(list, "cifar", 128, 16, 28, 32, 3, 2, 1);
  add_conv(list, "cifar", 128, 32, 14, 32, 3, 1, 1);
  add_conv(list, "cifar", 128, 32, 14, 64, 3, 2, 1);
  add_conv(list, "cifar", 128, 64, 7, 64, 3, 1, 1);
  add_conv(list, "cifar", 128, 16, 28, 32, 1, 2, 0);
  add_conv(list, "cifar", 128, 32, 14, 64, 1, 2, 0);
  // torchvision ResNet-18 at 224x224, batch 16: the stem and each stage's 3x3 convs.
  add_conv(list, "r18", 16, 3, 224, 64, 7, 2, 3);
  add_conv(list, "r18", 16, 64, 56, 64, 3, 1, 1);
  add_conv(list, "r18", 16, 64, 56, 128, 3, 2, 1);
  add_conv(list, "r18", 16, 128, 28, 128, 3, 1, 1);
  add_conv(list, "r18", 16, 128, 28, 256, 3, 2, 1);
  add_conv(list, "r18", 16, 256, 14, 256, 3, 1, 1);
  add_conv(list, "r18", 16, 256, 14, 512, 3, 2, 1);
  add_conv(list, "r18", 16, 512, 7, 512, 3, 1, 1);
  for (int64_t n : {256, 512, 1024, 2048})
    list.push_back({fmt::format("matmul_{}", n), "matmul_square", "matmul", {n, n, n}, false});
  // ViT/Mixer (batch 128, 49 tokens, dim 64): qkv, fc1, fc2, token-mixing fc1 and fc2.
  add_both(list, "matmul_vit_qkv_6272x64x192", "matmul_vit_mixer", "matmul", {128 * 49, 64, 192});
  add_both(list, "matmul_vit_fc1_6272x64x128", "matmul_vit_mixer", "matmul", {128 * 49, 64, 128});
  add_both(list, "matmul_vit_fc2_6272x128x64", "matmul_vit_mixer", "matmul", {128 * 49, 128, 64});
  add_both(list, "matmul_mixer_tok1_8192x49x32", "matmul_vit_mixer", "matmul", {128 * 64, 49, 32});
  add_both(list, "matmul_mixer_tok2_8192x32x49", "matmul_vit_mixer", "matmul", {128 * 64, 32, 49});
  // The Mlp's fc1 + GELU (vit_small28, and mixer_small28's token MLP), fused (linear_gelu) and as
  // the composition gelu(linear(...)) it replaces.
  for (const char* op : {"linear_gelu", "linear_then_gelu"}) {
    add_both(list, fmt::format("{}_vit_fc1_6272x64x128", op), "linear_gelu", op,
             {128 * 49, 64, 128});
    add_both(list, fmt::format("{}_mixer_tok1_8192x49x32", op), "linear_gelu", op,
             {128 * 64, 49, 32});
  }
  add_both(list, "sdpa_128x4x49x16", "sdpa", "sdpa", {128, 4, 49, 16});
  add_both(list, "layer_norm_6272x64", "layer_norm", "layer_norm", {128 * 49, 64});
  add_both(list, "batch_norm_128x16x28x28", "batch_norm", "batch_norm", {128, 16, 28, 28});
  add_both(list, "softmax_128x1000", "softmax", "softmax", {128, 1000});
  add_both(list, "cross_entropy_128x1000", "cross_entropy", "cross_entropy", {128, 1000});
  return list;
}

std::vector<Workload> with_channels_last(std::vector<Workload> list) {
  for (Workload& w : list) {
    if ((w.op != "conv2d" && w.op != "batch_norm") || w.channels_last) continue;
    const size_t pass = w.name.rfind('_');
    w.name.insert(pass, "_nhwc");
    w.channels_last = true;
  }
  return list;
}

std::vector<Workload> filter_workloads(const std::vector<Workload>& all,
                                       const std::string& substring) {
  std::vector<Workload> out;
  for (const Workload& w : all)
    if (w.name.find(substring) != std::string::npos) out.push_back(w);
  return out;
}

std::string workloads_json(const std::vector<Workload>& workloads) {
  JsonArray list;
  for (const Workload& w : workloads) {
    JsonArray dims;
    for (int64_t v : w.dims) dims.push(v);
    list.push(JsonObject()
                  .add("name", w.name)
                  .add("group", w.group)
                  .add("op", w.op)
                  .add("dims", dims)
                  .add("backward", int64_t(w.backward ? 1 : 0))
                  .add("channels_last", int64_t(w.channels_last ? 1 : 0)));
  }
  return list.str();
}

static const JsonValue& field(const JsonValue& item, const char* key, JsonValue::Kind kind,
                              const std::string& source, size_t index) {
  const JsonValue* v = item.find(key);
  TUTOR_CHECK(v && v->kind == kind, "{}: workload {}: field '{}' must be a JSON {}", source, index,
              key, json_kind_name(kind));
  return *v;
}

std::vector<Workload> parse_workloads_json(const std::string& text, const std::string& source) {
  JsonValue root = parse_json(text, source);
  TUTOR_CHECK(root.kind == JsonValue::Kind::array, "{}: expected a JSON array of workloads, got {}",
              source, json_kind_name(root.kind));
  std::vector<Workload> out;
  for (size_t i = 0; i < root.array.size(); ++i) {
    const JsonValue& item = root.array[i];
    TUTOR_CHECK(item.kind == JsonValue::Kind::object, "{}: workload {} must be an object", source,
                i);
    Workload w;
    w.name = field(item, "name", JsonValue::Kind::string, source, i).string;
    w.group = field(item, "group", JsonValue::Kind::string, source, i).string;
    w.op = field(item, "op", JsonValue::Kind::string, source, i).string;
    int64_t backward = field(item, "backward", JsonValue::Kind::integer, source, i).integer;
    TUTOR_CHECK(backward == 0 || backward == 1,
                "{}: workload '{}': backward must be 0 or 1, got {}", source, w.name, backward);
    w.backward = backward == 1;
    if (const JsonValue* cl = item.find("channels_last")) {
      TUTOR_CHECK(cl->kind == JsonValue::Kind::integer && (cl->integer == 0 || cl->integer == 1),
                  "{}: workload '{}': channels_last must be 0 or 1", source, w.name);
      TUTOR_CHECK(cl->integer == 0 || w.op == "conv2d" || w.op == "batch_norm",
                  "{}: workload '{}': channels_last applies to conv2d and batch_norm only, not {}",
                  source, w.name, w.op);
      w.channels_last = cl->integer == 1;
    }
    size_t expected = dims_expected(w.op);
    TUTOR_CHECK(expected > 0, "{}: workload '{}': unknown op '{}'", source, w.name, w.op);
    for (const JsonValue& d : field(item, "dims", JsonValue::Kind::array, source, i).array) {
      // Sizes are positive; a conv's padding (its last dim) may be 0.
      bool is_pad = w.op == "conv2d" && w.dims.size() == 8;
      TUTOR_CHECK(
          d.kind == JsonValue::Kind::integer && (d.integer > 0 || (is_pad && d.integer == 0)),
          "{}: workload '{}': dims must be positive integers (a conv's padding may be 0)", source,
          w.name);
      w.dims.push_back(d.integer);
    }
    TUTOR_CHECK(w.dims.size() == expected, "{}: workload '{}': op {} takes {} dims, got {}", source,
                w.name, w.op, expected, w.dims.size());
    out.push_back(std::move(w));
  }
  return out;
}

double median(std::vector<double> values) {
  TUTOR_CHECK(!values.empty(), "median: no values");
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace tutor::cli
