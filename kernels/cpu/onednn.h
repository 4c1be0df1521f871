// The one place that speaks oneDNN (2.x API: operation descriptor, then primitive descriptor, then
// primitive). It owns the engine and the streams, describes tutor tensors as dnnl::memory, caches
// primitives, and converts between the plain strided tensors users see and the blocked layouts
// primitives prefer. A move to oneDNN 3.x changes this file and the descriptor construction in the
// kernels, nothing else.
#pragma once

#include <dnnl.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor::kernels::cpu::onednn {

using dnnl::memory;

const dnnl::engine& engine();
dnnl::stream& stream();  // one per thread

// f32 and bf16; anything else is a tutor::Error naming `op` (oneDNN has no f64 on the CPU).
memory::data_type data_type(DType dtype, std::string_view op);

// True when oneDNN can address `t` through its strides: every dim of size > 1 has a positive
// stride. Size-1 dims and stride-0 broadcasts of size 1 do not matter.
bool addressable(const Tensor& t);
// `t` if addressable, else a packed copy.
Tensor addressable_or_packed(const Tensor& t);

// A plain strided descriptor. Strides of size-1 dims are replaced by the contiguous value, which
// oneDNN's format checks expect and which addresses the same elements.
memory::desc strided_desc(DType dtype, const Shape& dims, const Shape& strides);
memory::desc plain_desc(const Tensor& t);  // t's own sizes and strides
// A descriptor that lets the primitive pick its layout.
memory::desc any_desc(DType dtype, const Shape& dims);

// A cache key: the op, then every shape, stride, dtype and attribute that changes the primitive.
// It starts with the thread count: oneDNN partitions work for the count at creation time.
class Key {
 public:
  explicit Key(std::string_view op);
  Key& add(int64_t v);
  Key& add(const Shape& v);
  Key& add(const Tensor& t);  // dtype, sizes and strides; "-" when undefined
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

// A primitive and its descriptor. `prim` is empty when oneDNN has no implementation for the
// descriptor (an unimplemented status), so a caller can fall back without asking again.
struct Primitive {
  dnnl::primitive prim;
  dnnl::primitive_desc_base pd;
};

// The cached primitive for `key`, created by `make` on a miss; `make` builds the primitive
// descriptor. Keeps the kCacheCapacity most recently used entries. Errors other than
// "unimplemented" become a tutor::Error naming the key.
Primitive cached(const Key& key, const std::function<dnnl::primitive_desc()>& make);
inline constexpr size_t kCacheCapacity = 512;
size_t cache_size();  // entries now held (primitives and reorders)
size_t kept_size();   // reordered copies now kept (Exec::input_kept)

// One execution of a primitive. Inputs and outputs are tutor tensors with their plain strided
// descriptors; where the primitive wants another layout (`want`), the tensor is reordered into a
// temporary before the run, or out of one after it. The temporaries live in buffers that the
// thread keeps and reuses; an Exec holds its buffers until it is destroyed.
class Exec {
 public:
  Exec(Primitive p, const Key& key);
  ~Exec();
  Exec(const Exec&) = delete;
  Exec& operator=(const Exec&) = delete;
  void input(int arg, const Tensor& t, const memory::desc& user, const memory::desc& want);
  // An input that usually stays the same from call to call (a weight): its reordered copy is kept
  // and reused while `t`'s storage lives and its version is unchanged, so a model run for
  // inference (or a frozen teacher) reorders each weight once. A new version is reordered into the
  // same buffer. tutor's ops bump the version of what they change in place; a tensor written
  // through raw pointers must call bump_version() to be seen here.
  void input_kept(int arg, const Tensor& t, const memory::desc& user, const memory::desc& want);
  void output(int arg, const Tensor& t, const memory::desc& user, const memory::desc& want);
  // An output that the primitive also reads (a `sum` post-op adds the product to it): reordered
  // into the wanted layout before the run as well as back after it.
  void inout(int arg, const Tensor& t, const memory::desc& user, const memory::desc& want);
  void run();

 private:
  Primitive reorder(int arg, const memory::desc& from, const memory::desc& to);
  memory temporary(const memory::desc& desc);

  Primitive p_;
  std::string key_;
  size_t first_slot_;  // the thread's workspace slots from here on are this Exec's
  std::unordered_map<int, memory> args_;
  std::vector<std::pair<dnnl::primitive, std::pair<memory, memory>>> reorders_in_, reorders_out_;
  std::vector<std::shared_ptr<char>> kept_;  // the kept copies' buffers this Exec runs on
};

}  // namespace tutor::kernels::cpu::onednn
