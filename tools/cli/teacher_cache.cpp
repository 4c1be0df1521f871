#include "tools/cli/teacher_cache.h"

#include <algorithm>
#include <cstring>

#include "distill/distiller.h"
#include "engine/core/error.h"

namespace tutor::cli {

TeacherCache::TeacherCache(int64_t rows, int64_t teachers)
    : rows_(rows), teachers_(teachers), logits_(size_t(teachers)), filled_(size_t(rows), 0) {}

distill::Inputs TeacherCache::get(const std::vector<int64_t>& ids,
                                  const std::function<distill::Inputs()>& compute) {
  for (int64_t id : ids)
    TUTOR_CHECK(id >= 0 && id < rows_, "teacher cache: image {} outside [0, {})", id, rows_);
  bool all = std::all_of(ids.begin(), ids.end(), [&](int64_t id) { return filled_[size_t(id)]; });
  distill::Inputs out;
  int64_t n = int64_t(ids.size());
  if (!all) {
    ++misses_;
    distill::Inputs computed = compute();
    for (int64_t k = 0; k < teachers_; ++k) {
      std::string key = distill::teacher_prefix(k) + ".logits";
      const Tensor& t = computed.at(key);
      TUTOR_CHECK(t.dtype() == DType::f32 && t.dim() == 2 && t.size(0) == n,
                  "teacher cache: {} must be f32 [{}, C], got {} {}", key, n, t.dtype(), t.sizes());
      if (classes_ == 0) classes_ = t.size(1);
      TUTOR_CHECK(t.size(1) == classes_, "teacher cache: {} has {} classes, earlier {}", key,
                  t.size(1), classes_);
      std::vector<float>& store = logits_[size_t(k)];
      if (store.empty()) store.assign(size_t(rows_ * classes_), 0.f);
      std::vector<float> values = t.to_vector<float>();
      for (int64_t i = 0; i < n; ++i)
        std::memcpy(&store[size_t(ids[size_t(i)] * classes_)], &values[size_t(i * classes_)],
                    sizeof(float) * size_t(classes_));
    }
    for (int64_t id : ids) filled_[size_t(id)] = 1;
    return computed;
  }
  ++hits_;
  for (int64_t k = 0; k < teachers_; ++k) {
    Tensor t = empty({n, classes_});
    float* dst = t.data<float>();
    const std::vector<float>& store = logits_[size_t(k)];
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(dst + i * classes_, &store[size_t(ids[size_t(i)] * classes_)],
                  sizeof(float) * size_t(classes_));
    out.set(distill::teacher_prefix(k) + ".logits", t);
  }
  return out;
}

}  // namespace tutor::cli
