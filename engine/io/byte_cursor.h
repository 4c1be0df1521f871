// ByteCursor: a cursor over the bytes of a file (usually a MappedFile) that never reads past the
// end. Every read names the field it is for, so a truncated or hostile file fails with
//   "FILE: FIELD: need N bytes at offset O, file has M"
// instead of reading out of bounds. For files read whole from memory (safetensors, checkpoints);
// engine/data/byte_reader.h streams files that may be gzip-compressed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tutor {

class ByteCursor {
 public:
  // `file` names the source in error messages; `bytes` must outlive the reader.
  ByteCursor(std::span<const std::byte> bytes, std::string file)
      : bytes_(bytes), file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  size_t size() const { return bytes_.size(); }
  size_t offset() const { return offset_; }
  size_t remaining() const { return bytes_.size() - offset_; }
  bool at_end() const { return offset_ == bytes_.size(); }

  // Throws unless `n` more bytes are available at the cursor.
  void require(size_t n, std::string_view field) const;
  // The next `n` bytes; advances past them.
  std::span<const std::byte> take(size_t n, std::string_view field);
  void skip(size_t n, std::string_view field) { take(n, field); }
  // Moves the cursor to an absolute offset in [0, size()].
  void seek(size_t offset, std::string_view field);

  // Unsigned or signed integers assembled byte by byte, so the result does not depend on the
  // host's byte order (IDX headers are big-endian, safetensors and checkpoints little-endian).
  template <class T>
  T read_le(std::string_view field) {
    return assemble<T>(take(sizeof(T), field), false);
  }
  template <class T>
  T read_be(std::string_view field) {
    return assemble<T>(take(sizeof(T), field), true);
  }

 private:
  template <class T>
  static T assemble(std::span<const std::byte> b, bool big_endian) {
    static_assert(std::is_integral_v<T>, "ByteCursor reads integers");
    using U = std::make_unsigned_t<T>;
    U value = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      size_t k = big_endian ? i : sizeof(T) - 1 - i;
      value = U((value << 8) | U(std::to_integer<uint8_t>(b[k])));
    }
    return static_cast<T>(value);
  }

  std::span<const std::byte> bytes_;
  std::string file_;
  size_t offset_ = 0;
};

}  // namespace tutor
