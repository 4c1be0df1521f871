#include "engine/io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "engine/core/error.h"

namespace tutor {

namespace {

// Closes the descriptor when the constructor leaves, by return or by throw.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

MappedFile::MappedFile(std::string path) : path_(std::move(path)) {
  int fd;
  do {
    fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  TUTOR_CHECK(fd >= 0, "{}: cannot open for reading: {}", path_, std::strerror(errno));
  FdCloser closer{fd};

  struct stat st {};
  TUTOR_CHECK(::fstat(fd, &st) == 0, "{}: cannot stat: {}", path_, std::strerror(errno));
  TUTOR_CHECK(S_ISREG(st.st_mode), "{}: not a regular file", path_);
  size_ = size_t(st.st_size);
  if (size_ == 0) return;  // mmap rejects a zero length; an empty span needs no mapping

  void* data = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  TUTOR_CHECK(data != MAP_FAILED, "{}: cannot map {} bytes: {}", path_, size_,
              std::strerror(errno));
  data_ = data;
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void MappedFile::release() noexcept {
  if (data_) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace tutor
