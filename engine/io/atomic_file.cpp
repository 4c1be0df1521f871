#include "engine/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "engine/core/error.h"

namespace tutor {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// The target's directory, "." for a bare file name.
std::string directory_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// Creates "<dir>/.<name>.tmp-<pid>-<n>" exclusively (O_EXCL), so two writers never share one;
// a hidden name keeps globs over the directory from picking up a half-written file. Mode 0666
// minus the umask, as a plain open() of the target would give.
int create_temporary(const std::string& path, std::string& temp_path) {
  static std::atomic<uint64_t> counter{0};
  std::filesystem::path target(path);
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name =
        fmt::format(".{}.tmp-{}-{}", target.filename().string(), ::getpid(), counter++);
    temp_path = (std::filesystem::path(directory_of(path)) / name).string();
    int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST && errno != EINTR) break;
  }
  int err = errno;
  fail("{}: cannot create a temporary file in {}: {}", path, directory_of(path), errno_text(err));
}

// fsync of the directory makes the rename durable (POSIX leaves it to the directory's fsync).
void sync_directory(const std::string& path) {
  std::string dir = directory_of(path);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  TUTOR_CHECK(fd >= 0, "{}: written, but cannot open its directory {} to sync it: {}", path, dir,
              errno_text(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some file systems cannot sync a directory (EINVAL); the rename is then as durable as they
  // allow.
  TUTOR_CHECK(rc == 0 || err == EINVAL, "{}: written, but syncing its directory {} failed: {}",
              path, dir, errno_text(err));
}

}  // namespace

void FileWriter::write(const void* data, size_t nbytes) {
  const char* p = static_cast<const char*>(data);
  size_t left = nbytes;
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    // No file name here: write_file_atomic adds the target's to everything `fill` throws.
    TUTOR_CHECK(n > 0, "write failed after {} bytes: {}", bytes_written_,
                n < 0 ? errno_text(errno) : std::string("no progress"));
    p += n;
    left -= size_t(n);
    bytes_written_ += uint64_t(n);
  }
}

void write_file_atomic(const std::string& path, const std::function<void(FileWriter&)>& fill) {
  std::string temp_path;
  int fd = create_temporary(path, temp_path);
  try {
    FileWriter writer(fd, path);
    try {
      fill(writer);
    } catch (const Error& e) {
      fail("{}: not written, the file is unchanged: {}", path, e.what());
    }
    TUTOR_CHECK(::fsync(fd) == 0, "{}: fsync of {} failed: {}", path, temp_path, errno_text(errno));
    int rc = ::close(fd);
    fd = -1;  // closed even when close() reports an error
    TUTOR_CHECK(rc == 0, "{}: closing {} failed: {}", path, temp_path, errno_text(errno));
    TUTOR_CHECK(::rename(temp_path.c_str(), path.c_str()) == 0, "{}: cannot rename {} over it: {}",
                path, temp_path, errno_text(errno));
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp_path.c_str());
    throw;
  }
  sync_directory(path);
}

void write_file_atomic(const std::string& path, std::span<const std::byte> bytes) {
  write_file_atomic(path, [&](FileWriter& w) { w.write(bytes); });
}

void write_file_atomic(const std::string& path, std::string_view text) {
  write_file_atomic(path, [&](FileWriter& out) { out.write(text); });
}

}  // namespace tutor
