#include "engine/core/storage.h"

#include "engine/core/allocator.h"
#include "engine/core/error.h"

namespace tutor {

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  TUTOR_CHECK(device.is_cpu(),
              "Storage: cannot allocate {} bytes on {}: this build has no CUDA backend", nbytes,
              device.str());
  data_ = cpu_allocator::allocate(nbytes);
}

Storage::~Storage() { cpu_allocator::deallocate(data_, nbytes_); }

}  // namespace tutor
