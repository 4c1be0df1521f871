// `tutor audit`: which backend serves every kernel of every op, per device and dtype, and the op
// list itself. The audits are built from a catalog as data, then rendered as a text table or JSON,
// so tests can audit a small catalog of their own.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/ops/catalog.h"
#include "tools/cli/json.h"

namespace tutor::cli {

// The dtype columns, in order.
inline constexpr std::array<DType, kNumDTypes> kAuditDTypes = {DType::f32, DType::f64, DType::bf16,
                                                               DType::i64, DType::b8};

struct KernelServe {
  std::string kernel;
  // One cell per kAuditDTypes entry. cpu device: "cpu" (fast kernel), "ref" (falls back to the
  // reference backend) or "-" (none). cuda device: "cuda" or "-".
  std::array<std::string, kNumDTypes> cpu, cuda;
};

struct OpServe {
  std::string op;
  bool differentiable;
  std::vector<DType> dtypes;         // what the catalog says each kernel must serve
  std::vector<KernelServe> kernels;  // empty: composite (built from other ops)
};

struct KernelAudit {
  std::vector<OpServe> ops;
  int64_t composite_ops = 0;
  int64_t kernels = 0;      // distinct kernel names across the catalog
  int64_t f32_kernels = 0;  // distinct kernels with an f32 kernel on the cpu device
  int64_t f32_cpu = 0;      // ... of which the fast cpu backend serves
};

// Looks every kernel up in the registry (registering the built-in backends first).
KernelAudit audit_kernels(std::span<const ops::OpInfo> catalog);

std::string kernel_table(const KernelAudit& audit);    // the table and the summary line
std::string kernel_summary(const KernelAudit& audit);  // "130 ops (12 composite), 140 kernels; ..."
JsonObject kernel_json(const KernelAudit& audit);

// `tutor audit ops`: one row per op: differentiable, dtypes, kernels or "(composite)".
std::string op_table(std::span<const ops::OpInfo> catalog);
JsonObject op_json(std::span<const ops::OpInfo> catalog);

}  // namespace tutor::cli
