#include "tools/cli/audit.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "engine/ops/dispatch.h"
#include "kernels/registry.h"

namespace tutor::cli {

using kernels::Backend;

static const Device kCudaDevice{DeviceType::cuda, 0};

// backend_for names the backend dispatch would pick; it answers "reference" also when nothing
// serves the dtype, and on cuda when the cuda kernel is missing (dispatch then fails rather than
// copy to the host), so find_kernel and the device decide whether the cell is "-".
static std::string serve_cell(const ops::Kernel& kernel, Device device, DType dtype) {
  Backend b = ops::backend_for(kernel, device, dtype);
  if (device.is_cuda() && b != Backend::cuda) return "-";
  if (!kernels::find_kernel(kernel.id, b, dtype)) return "-";
  switch (b) {
    case Backend::reference:
      return "ref";
    case Backend::cpu:
      return "cpu";
    case Backend::cuda:
      return "cuda";
  }
  return "-";
}

KernelAudit audit_kernels(std::span<const ops::OpInfo> catalog) {
  kernels::ensure_registered();
  KernelAudit audit;
  std::set<std::string> seen;
  for (const ops::OpInfo& info : catalog) {
    OpServe op{info.name, info.differentiable, info.dtypes, {}};
    if (info.kernels.empty()) ++audit.composite_ops;
    for (const std::string& name : info.kernels) {
      ops::Kernel kernel(name.c_str());
      KernelServe row{name, {}, {}};
      for (size_t i = 0; i < kAuditDTypes.size(); ++i) {
        row.cpu[i] = serve_cell(kernel, kCPU, kAuditDTypes[i]);
        row.cuda[i] = serve_cell(kernel, kCudaDevice, kAuditDTypes[i]);
      }
      if (seen.insert(name).second) {
        ++audit.kernels;
        if (row.cpu[0] != "-") ++audit.f32_kernels;
        if (row.cpu[0] == "cpu") ++audit.f32_cpu;
      }
      op.kernels.push_back(std::move(row));
    }
    audit.ops.push_back(std::move(op));
  }
  return audit;
}

std::string kernel_summary(const KernelAudit& audit) {
  std::string s = fmt::format(
      "{} ops ({} composite), {} kernels; cpu serves {} of {} f32 kernels, the rest fall back to "
      "the reference",
      audit.ops.size(), audit.composite_ops, audit.kernels, audit.f32_cpu, audit.f32_kernels);
  if (int64_t none = audit.kernels - audit.f32_kernels; none > 0)
    s += fmt::format("; {} kernel{} no f32 kernel", none, none == 1 ? " has" : "s have");
  return s;
}

std::string kernel_table(const KernelAudit& audit) {
  size_t w_op = 2, w_kernel = 11;  // "op", "(composite)"
  for (const OpServe& op : audit.ops) {
    w_op = std::max(w_op, op.op.size());
    for (const KernelServe& k : op.kernels) w_kernel = std::max(w_kernel, k.kernel.size());
  }
  constexpr int kCell = 5;  // widest cell: "cuda", "bool"
  std::string dtype_header;
  for (DType d : kAuditDTypes) dtype_header += fmt::format("{:<{}}", dtype_name(d), kCell);
  const std::string group_cpu = fmt::format("{:-^{}}", " cpu device ", kCell * kNumDTypes - 1);
  const std::string group_cuda = fmt::format("{:-^{}}", " cuda device ", kCell * kNumDTypes - 1);
  std::string out =
      fmt::format("{:<{}}  {:<{}}  {}  {}\n", "", w_op, "", w_kernel, group_cpu, group_cuda);
  std::string header = fmt::format("{:<{}}  {:<{}}  {} {}", "op", w_op, "kernel", w_kernel,
                                   dtype_header, dtype_header);
  while (header.back() == ' ') header.pop_back();
  out += header + "\n";
  for (const OpServe& op : audit.ops) {
    if (op.kernels.empty()) {
      out += fmt::format("{:<{}}  (composite)\n", op.op, w_op);
      continue;
    }
    for (const KernelServe& k : op.kernels) {
      std::string cells;
      for (const std::string& c : k.cpu) cells += fmt::format("{:<{}}", c, kCell);
      cells += ' ';
      for (const std::string& c : k.cuda) cells += fmt::format("{:<{}}", c, kCell);
      while (!cells.empty() && cells.back() == ' ') cells.pop_back();
      out += fmt::format("{:<{}}  {:<{}}  {}\n", op.op, w_op, k.kernel, w_kernel, cells);
    }
  }
  return out + "\n" + kernel_summary(audit) + "\n";
}

static JsonObject cells_json(const std::array<std::string, kNumDTypes>& cells) {
  JsonObject o;
  for (size_t i = 0; i < kAuditDTypes.size(); ++i) o.add(dtype_name(kAuditDTypes[i]), cells[i]);
  return o;
}

static JsonArray dtypes_json(const std::vector<DType>& dtypes) {
  JsonArray a;
  for (DType d : dtypes) a.push(dtype_name(d));
  return a;
}

JsonObject kernel_json(const KernelAudit& audit) {
  JsonArray ops;
  for (const OpServe& op : audit.ops) {
    JsonArray ks;
    for (const KernelServe& k : op.kernels)
      ks.push(JsonObject()
                  .add("kernel", k.kernel)
                  .add("cpu", cells_json(k.cpu))
                  .add("cuda", cells_json(k.cuda)));
    ops.push(JsonObject()
                 .add("op", op.op)
                 .add("differentiable", op.differentiable)
                 .add("composite", op.kernels.empty())
                 .add("dtypes", dtypes_json(op.dtypes))
                 .add("kernels", ks));
  }
  JsonObject summary;
  summary.add("ops", int64_t(audit.ops.size()))
      .add("composite_ops", audit.composite_ops)
      .add("kernels", audit.kernels)
      .add("f32_kernels", audit.f32_kernels)
      .add("f32_cpu", audit.f32_cpu);
  return JsonObject().add("ops", ops).add("summary", summary);
}

static std::string kernel_list(const ops::OpInfo& info) {
  return info.kernels.empty() ? "(composite)" : fmt::format("{}", fmt::join(info.kernels, ", "));
}

static std::string dtype_list(const std::vector<DType>& dtypes) {
  std::vector<std::string_view> names;
  for (DType d : dtypes) names.push_back(dtype_name(d));
  return fmt::format("{}", fmt::join(names, ","));
}

std::string op_table(std::span<const ops::OpInfo> catalog) {
  size_t w_op = 2, w_dtypes = 6;
  int64_t differentiable = 0, composite = 0;
  for (const ops::OpInfo& info : catalog) {
    w_op = std::max(w_op, info.name.size());
    w_dtypes = std::max(w_dtypes, dtype_list(info.dtypes).size());
    differentiable += info.differentiable;
    composite += info.kernels.empty();
  }
  std::string out = fmt::format("{:<{}}  {:<14}  {:<{}}  {}\n", "op", w_op, "differentiable",
                                "dtypes", w_dtypes, "kernels");
  for (const ops::OpInfo& info : catalog)
    out += fmt::format("{:<{}}  {:<14}  {:<{}}  {}\n", info.name, w_op,
                       info.differentiable ? "yes" : "no", dtype_list(info.dtypes), w_dtypes,
                       kernel_list(info));
  return out + fmt::format("\n{} ops, {} differentiable, {} composite\n", catalog.size(),
                           differentiable, composite);
}

JsonObject op_json(std::span<const ops::OpInfo> catalog) {
  JsonArray ops;
  for (const ops::OpInfo& info : catalog) {
    JsonArray ks;
    for (const std::string& k : info.kernels) ks.push(k);
    ops.push(JsonObject()
                 .add("op", info.name)
                 .add("differentiable", info.differentiable)
                 .add("dtypes", dtypes_json(info.dtypes))
                 .add("kernels", ks));
  }
  return JsonObject().add("ops", ops);
}

}  // namespace tutor::cli
