// MappedFile: a read-only memory mapping of a whole regular file, unmapped on destruction.
// The bytes are private to this process (MAP_PRIVATE): readers copy what they need out of them.
// A file that another process truncates while it is mapped makes reads of the lost pages raise
// SIGBUS; tutor's own writers never do that, because they replace files by rename.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace tutor {

class MappedFile {
 public:
  // Throws tutor::Error naming `path` and the errno text when the file cannot be opened, is not
  // a regular file, or cannot be mapped. An empty file maps to an empty span.
  explicit MappedFile(std::string path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;

  const std::string& path() const { return path_; }
  size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(data_), size_}; }

 private:
  void release() noexcept;

  std::string path_;
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tutor
