// Whole-file writes that never leave a half-written file at the destination: the content goes to
// "<path>.tmp", is flushed to disk (fsync), then renamed over <path> (rename is atomic on POSIX).
// The CLI's one place for this, to be replaced by engine/io's atomic writer once that lands.
#pragma once

#include <string>
#include <string_view>

namespace tutor::cli {

// Throws tutor::Error naming the file and the failed step; removes the temporary file on failure.
void write_file_atomic(const std::string& path, std::string_view content);

}  // namespace tutor::cli
