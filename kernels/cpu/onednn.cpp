#include "kernels/cpu/onednn.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "engine/core/error.h"
#include "kernels/cpu/threads.h"

namespace tutor::kernels::cpu::onednn {

const dnnl::engine& engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

memory::data_type data_type(DType dtype, std::string_view op) {
  switch (dtype) {
    case DType::f32:
      return memory::data_type::f32;
    case DType::bf16:
      return memory::data_type::bf16;
    default:
      break;
  }
  throw Error(fmt::format("{}: the oneDNN backend has no {} kernels (f32 and bf16 only)", op,
                          dtype_name(dtype)));
}

bool addressable(const Tensor& t) {
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.size(d) > 1 && t.stride(d) <= 0) return false;
  return true;
}

Tensor addressable_or_packed(const Tensor& t) { return addressable(t) ? t : t.contiguous_raw(); }

memory::desc strided_desc(DType dtype, const Shape& dims, const Shape& strides) {
  memory::dims s(strides.begin(), strides.end());
  for (size_t i = dims.size(); i-- > 0;)
    if (dims[i] == 1) s[i] = i + 1 < dims.size() ? s[i + 1] * std::max<int64_t>(dims[i + 1], 1) : 1;
  return memory::desc(memory::dims(dims.begin(), dims.end()), data_type(dtype, "oneDNN"), s);
}

memory::desc plain_desc(const Tensor& t) { return strided_desc(t.dtype(), t.sizes(), t.strides()); }

memory::desc any_desc(DType dtype, const Shape& dims) {
  return memory::desc(memory::dims(dims.begin(), dims.end()), data_type(dtype, "oneDNN"),
                      memory::format_tag::any);
}

// ---- keys ----

Key::Key(std::string_view op) : text_(op) { add(num_threads()); }

Key& Key::add(int64_t v) {
  fmt::format_to(std::back_inserter(text_), ",{}", v);
  return *this;
}

Key& Key::add(const Shape& v) {
  text_ += ",[";
  for (int64_t x : v) fmt::format_to(std::back_inserter(text_), "{} ", x);
  text_ += ']';
  return *this;
}

Key& Key::add(const Tensor& t) {
  if (!t.defined()) {
    text_ += ",-";
    return *this;
  }
  fmt::format_to(std::back_inserter(text_), ",{}", dtype_name(t.dtype()));
  return add(t.sizes()).add(t.strides());
}

// ---- the primitive cache: an LRU list with a map into it ----

namespace {

class PrimitiveCache {
 public:
  bool find(const std::string& key, Primitive* out) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    order_.splice(order_.begin(), order_, it->second);
    *out = it->second->second;
    return true;
  }

  size_t size() {
    std::lock_guard lock(mu_);
    return order_.size();
  }

  void insert(const std::string& key, const Primitive& p) {
    std::lock_guard lock(mu_);
    if (index_.count(key)) return;  // another thread made it meanwhile
    order_.emplace_front(key, p);
    index_.emplace(key, order_.begin());
    if (order_.size() > kCacheCapacity) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

 private:
  std::mutex mu_;
  std::list<std::pair<std::string, Primitive>> order_;
  std::unordered_map<std::string, std::list<std::pair<std::string, Primitive>>::iterator> index_;
};

PrimitiveCache& cache() {
  static PrimitiveCache c;
  return c;
}

// Runs `make` outside the cache's lock (primitive creation can take milliseconds); an
// unimplemented descriptor gives an empty entry. oneDNN splits a primitive's work for the OpenMP
// thread count it sees at creation and runs that many threads whatever the count at execution,
// so the count is set first (the key holds it): else a primitive made before the first run
// would use every core under --threads 1.
Primitive create(const std::string& key, const std::function<Primitive()>& make) {
  apply_num_threads();
  try {
    return make();
  } catch (const dnnl::error& e) {
    if (e.status != dnnl_unimplemented)
      throw Error(fmt::format("oneDNN: cannot create the primitive {}: {}", key, e.what()));
    return Primitive{};
  }
}

}  // namespace

Primitive cached(const Key& key, const std::function<dnnl::primitive_desc()>& make) {
  Primitive p;
  if (cache().find(key.str(), &p)) return p;
  p = create(key.str(), [&] {
    const dnnl::primitive_desc pd = make();
    return Primitive{dnnl::primitive(pd), pd};
  });
  cache().insert(key.str(), p);
  return p;
}

size_t cache_size() { return cache().size(); }

// ---- execution ----

namespace {

struct FreeBytes {
  void operator()(char* p) const { std::free(p); }
};

// The thread's buffers for blocked copies of tensors, kept between calls: fresh memory costs a
// page fault per 4 KiB (DESIGN.md, Performance). Large ones are 2 MiB aligned and ask for huge
// pages.
class Workspace {
 public:
  void* get(size_t slot, size_t bytes) {
    if (slot >= buffers_.size()) buffers_.resize(slot + 1);
    Buffer& b = buffers_[slot];
    if (b.size < bytes) {
      const size_t align = bytes >= kHuge ? kHuge : 64;
      const size_t size = (bytes + align - 1) / align * align;
      b.data.reset(static_cast<char*>(std::aligned_alloc(align, size)));
      TUTOR_CHECK(b.data != nullptr, "oneDNN adapter: cannot allocate a {} byte workspace", size);
      if (align == kHuge) madvise(b.data.get(), size, MADV_HUGEPAGE);
      b.size = size;
    }
    return b.data.get();
  }

  size_t top = 0;  // slots below are in use by live Execs (a stack: Execs nest by scope)

 private:
  static constexpr size_t kHuge = size_t(2) << 20;
  struct Buffer {
    std::unique_ptr<char, FreeBytes> data;
    size_t size = 0;
  };
  std::vector<Buffer> buffers_;
};

Workspace& workspace() {
  thread_local Workspace w;
  return w;
}

}  // namespace

Exec::Exec(Primitive p, const Key& key)
    : p_(std::move(p)), key_(key.str()), first_slot_(workspace().top) {}

Exec::~Exec() { workspace().top = first_slot_; }

memory Exec::temporary(const memory::desc& desc) {
  Workspace& w = workspace();
  return memory(desc, engine(), w.get(w.top++, desc.get_size()));
}

Primitive Exec::reorder(int arg, const memory::desc& from, const memory::desc& to) {
  const std::string key = fmt::format("{}#reorder{}", key_, arg);
  Primitive p;
  if (cache().find(key, &p)) return p;
  p = create(key, [&] {
    const dnnl::reorder::primitive_desc pd(engine(), from, engine(), to);
    return Primitive{dnnl::reorder(pd), pd};
  });
  TUTOR_CHECK(p.prim, "oneDNN: no reorder for argument {} of {}", arg, key_);
  cache().insert(key, p);
  return p;
}

void Exec::input(int arg, const Tensor& t, const memory::desc& user, const memory::desc& want) {
  memory mine(user, engine(), t.raw_data());
  if (user == want) {
    args_.emplace(arg, mine);
    return;
  }
  memory theirs = temporary(want);
  reorders_in_.emplace_back(reorder(arg, user, want).prim, std::make_pair(mine, theirs));
  args_.emplace(arg, theirs);
}

namespace {

// A kept reordered input: where in its storage it starts, its layout there and the primitive's,
// the version it was reordered at, and the copy.
struct Kept {
  int64_t offset = 0;
  memory::desc user, want;
  uint64_t version = 0;
  std::shared_ptr<char> data;  // shared with the Execs that run on it
  memory mem;
};

// The copies of one storage's tensors, checked against the storage itself: a storage freed and
// another allocated at its address gives an expired `from`, hence fresh copies.
struct KeptOfStorage {
  std::weak_ptr<Storage> from;
  std::vector<Kept> copies;
};

// Keyed by the source storage's address. A tensor gets one copy per (offset, source layout,
// primitive layout), shared by every primitive that wants that layout (a weight seen with many
// input shapes is kept once), and at most kMaxCopies per storage, the oldest dropped first. Copies
// of storages that are gone are swept as the map grows.
class KeptInputs {
 public:
  // The kept copy of `t` in layout `want`, reordered by `reorder` first when missing or stale,
  // and its buffer, which the caller holds while it uses the copy.
  std::pair<memory, std::shared_ptr<char>> get(const Tensor& t, const memory::desc& user,
                                               const memory::desc& want,
                                               const std::function<void(const memory&)>& reorder) {
    std::lock_guard lock(mu_);
    const std::shared_ptr<Storage>& storage = t.storage();
    auto [it, added] = map_.try_emplace(storage.get());
    KeptOfStorage& of = it->second;
    if (of.from.lock() != storage) {
      of.from = storage;
      of.copies.clear();
    }
    auto k = std::find_if(of.copies.begin(), of.copies.end(), [&](const Kept& c) {
      return c.offset == t.offset() && c.user == user && c.want == want;
    });
    if (k == of.copies.end()) {
      if (of.copies.size() == kMaxCopies) of.copies.erase(of.copies.begin());
      Kept& c = of.copies.emplace_back();
      const size_t bytes = (want.get_size() + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
      c.data.reset(static_cast<char*>(std::aligned_alloc(kCpuAlignment, bytes)), FreeBytes());
      TUTOR_CHECK(c.data != nullptr, "oneDNN adapter: cannot allocate {} bytes for a kept input",
                  bytes);
      c.offset = t.offset();
      c.user = user;
      c.want = want;
      c.mem = memory(want, engine(), c.data.get());
      c.version = t.version() + 1;  // not yet reordered
      k = of.copies.end() - 1;
    }
    if (k->version != t.version()) {
      reorder(k->mem);
      k->version = t.version();
    }
    std::pair<memory, std::shared_ptr<char>> out(k->mem, k->data);
    if (added && map_.size() >= sweep_at_) sweep();
    return out;
  }

  size_t size() {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& [storage, of] : map_) n += of.copies.size();
    return n;
  }

  static constexpr size_t kMaxCopies = 4;

 private:
  void sweep() {
    std::erase_if(map_, [](const auto& entry) { return entry.second.from.expired(); });
    sweep_at_ = 2 * map_.size() + 64;
  }

  std::mutex mu_;
  std::unordered_map<const Storage*, KeptOfStorage> map_;
  size_t sweep_at_ = 64;
};

KeptInputs& kept_inputs() {
  static KeptInputs k;
  return k;
}

}  // namespace

size_t kept_size() { return kept_inputs().size(); }

void Exec::input_kept(int arg, const Tensor& t, const memory::desc& user,
                      const memory::desc& want) {
  if (user == want) return input(arg, t, user, want);
  auto [copy, buffer] = kept_inputs().get(t, user, want, [&](const memory& to) {
    apply_num_threads();
    memory from(user, engine(), t.raw_data());
    dnnl::stream& s = stream();
    reorder(arg, user, want).prim.execute(s, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
    s.wait();
  });
  args_.emplace(arg, copy);
  kept_.push_back(std::move(buffer));
}

void Exec::output(int arg, const Tensor& t, const memory::desc& user, const memory::desc& want) {
  memory mine(user, engine(), t.raw_data());
  if (user == want) {
    args_.emplace(arg, mine);
    return;
  }
  memory theirs = temporary(want);
  reorders_out_.emplace_back(reorder(-arg, want, user).prim, std::make_pair(theirs, mine));
  args_.emplace(arg, theirs);
}

void Exec::inout(int arg, const Tensor& t, const memory::desc& user, const memory::desc& want) {
  memory mine(user, engine(), t.raw_data());
  if (user == want) {
    args_.emplace(arg, mine);
    return;
  }
  memory theirs = temporary(want);
  reorders_in_.emplace_back(reorder(arg, user, want).prim, std::make_pair(mine, theirs));
  reorders_out_.emplace_back(reorder(-arg, want, user).prim, std::make_pair(theirs, mine));
  args_.emplace(arg, theirs);
}

void Exec::run() {
  apply_num_threads();
  dnnl::stream& s = stream();
  auto reorder_all = [&s](const auto& reorders) {
    for (const auto& [prim, mem] : reorders)
      prim.execute(s, {{DNNL_ARG_FROM, mem.first}, {DNNL_ARG_TO, mem.second}});
  };
  reorder_all(reorders_in_);
  p_.prim.execute(s, args_);
  reorder_all(reorders_out_);
  s.wait();
}

}  // namespace tutor::kernels::cpu::onednn
