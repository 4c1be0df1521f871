#include "engine/core/storage.h"

#include <cstdlib>
#include <new>

#include "engine/core/error.h"

namespace tutor {

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  TUTOR_CHECK(device.is_cpu(),
              "Storage: cannot allocate {} bytes on {}: this build has no CUDA backend", nbytes,
              device.str());
  size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  data_ = std::aligned_alloc(kCpuAlignment, rounded == 0 ? kCpuAlignment : rounded);
  if (!data_) throw std::bad_alloc();
}

Storage::~Storage() { std::free(data_); }

}  // namespace tutor
