#include "engine/io/byte_cursor.h"

#include "engine/core/error.h"

namespace tutor {

void ByteCursor::require(size_t n, std::string_view field) const {
  // n > remaining() rather than offset_ + n > size(): the sum can overflow for a hostile n.
  TUTOR_CHECK(n <= remaining(), "{}: {}: need {} bytes at offset {}, file has {}", file_, field, n,
              offset_, bytes_.size());
}

std::span<const std::byte> ByteCursor::take(size_t n, std::string_view field) {
  require(n, field);
  std::span<const std::byte> out = bytes_.subspan(offset_, n);
  offset_ += n;
  return out;
}

void ByteCursor::seek(size_t offset, std::string_view field) {
  TUTOR_CHECK(offset <= bytes_.size(), "{}: {}: offset {} is past the end, file has {} bytes",
              file_, field, offset, bytes_.size());
  offset_ = offset;
}

}  // namespace tutor
