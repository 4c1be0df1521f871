// Atomic file writes: the target path holds either its old content or the complete new content,
// never a prefix, even if the process dies or the machine loses power midway.
//
// write_file_atomic(path, fill) creates a temporary file in the target's directory (a rename is
// atomic only within one file system), lets `fill` write the content, fsyncs the file, renames it
// over `path` and fsyncs the directory so the rename itself is durable. On any failure (`fill`
// throws, a write or fsync fails, the rename fails) the temporary file is removed, the target is
// left as it was, and a tutor::Error names the target and the errno text. A symlink at `path`
// is replaced by the new file, not written through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace tutor {

// The sink `fill` writes through. write() either writes every byte or throws.
class FileWriter {
 public:
  void write(const void* data, size_t nbytes);
  void write(std::span<const std::byte> bytes) { write(bytes.data(), bytes.size()); }
  void write(std::string_view text) { write(text.data(), text.size()); }
  uint64_t bytes_written() const { return bytes_written_; }
  const std::string& path() const { return path_; }  // the target, not the temporary file

 private:
  friend void write_file_atomic(const std::string&, const std::function<void(FileWriter&)>&);
  FileWriter(int fd, const std::string& path) : fd_(fd), path_(path) {}

  int fd_;
  const std::string& path_;
  uint64_t bytes_written_ = 0;
};

void write_file_atomic(const std::string& path, const std::function<void(FileWriter&)>& fill);
void write_file_atomic(const std::string& path, std::span<const std::byte> bytes);
void write_file_atomic(const std::string& path, std::string_view text);

}  // namespace tutor
