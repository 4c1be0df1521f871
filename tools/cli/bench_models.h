// The workloads of `tutor bench`: shared/spec/benchmarks.md's table, each a step of a model (or a
// teacher and a student) on a random batch, with the FLOPs that step does (bench_flops.h).
//   forward  eval mode under no-grad: the teacher's forward (_teacher_fwd) and batch-1 inference
//   train    train mode; CE; zero_grad; backward; SGD(lr 0.05, momentum 0.9, weight decay 5e-4)
//   kd       teacher in eval mode under no-grad, student in train mode;
//            0.1 CE + 0.9 T^2 KL(softmax(t/T) || softmax(s/T)) (batchmean), T = 4; then as train
// The same description, written by model_workload_json(), is what tools/bench/pytorch_workloads.py
// runs, so both sides run the same models on the same shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/cli/bench_flops.h"

namespace tutor::cli {

enum class StepKind { forward, train, kd };
const char* step_kind_name(StepKind kind);  // "forward", "train", "kd"

struct ModelWorkload {
  std::string name;   // "small/resnet8_kd_from_resnet20"
  std::string suite;  // "small" (1x28x28, 10 classes) or "large" (3x224x224, 1000 classes)
  StepKind kind = StepKind::forward;
  std::string model;    // the model run or trained (the student of a KD step)
  std::string teacher;  // the KD step's teacher; empty otherwise
  ModelInput input;
};

// benchmarks.md's 15 workloads in its order.
const std::vector<ModelWorkload>& model_workloads();
// Those of `suite` ("small", "large" or "all") whose name contains `only` (any when empty); a
// UsageError for an unknown suite.
std::vector<ModelWorkload> select_model_workloads(const std::string& suite,
                                                  const std::string& only);
// The workload named exactly `name`; a tutor::Error listing the names otherwise.
const ModelWorkload& find_model_workload(const std::string& name);

// FLOPs of one step: F(model) for forward, 3 F(model) for train, F(teacher) + 3 F(model) for kd.
double step_flops(const ModelWorkload& w);

// {"name":..., "step":..., "model":..., "teacher":..., "batch":..., "channels":..., "size":...,
//  "classes":...}
std::string model_workload_json(const ModelWorkload& w);

}  // namespace tutor::cli
