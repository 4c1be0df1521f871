#include "tools/cli/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/core/error.h"

namespace tutor::cli {

void write_file_atomic(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  TUTOR_CHECK(fd >= 0, "{}: cannot create {} ({})", path, tmp, std::strerror(errno));
  const char* step = nullptr;
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      step = "write";
      break;
    }
    written += size_t(n);
  }
  if (!step && ::fsync(fd) != 0) step = "fsync";
  int saved = errno;
  if (::close(fd) != 0 && !step) step = "close", saved = errno;
  if (!step && std::rename(tmp.c_str(), path.c_str()) != 0) step = "rename", saved = errno;
  if (step) {
    ::unlink(tmp.c_str());
    fail("{}: {} of {} failed ({})", path, step, tmp, std::strerror(saved));
  }
}

}  // namespace tutor::cli
