// Reads a data file front to back, inflating it on the fly when it is gzip (it starts with the
// gzip magic 1f 8b). Every failure names the file and what was being read, so the readers built
// on it (IDX, CIFAR) report "<file>: <field> ..." for truncated, corrupt or oversized input.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace tutor::data {

class ByteReader {
 public:
  explicit ByteReader(std::string path);
  ~ByteReader();
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_; }
  // Bytes left in an uncompressed file; -1 for gzip, whose inflated size is only known at its end.
  int64_t raw_remaining() const { return gzip_ ? -1 : raw_size_ - raw_offset_; }

  // Reads exactly n bytes of `what` or fails with "<path>: <what> ends after k of n bytes".
  void read(void* dst, size_t n, const char* what);
  // Reads n bytes into a vector that grows only as data arrives, so a header that claims a huge
  // size cannot make us allocate it up front.
  std::vector<uint8_t> read_vector(size_t n, const char* what);
  // Fails if anything follows the data; for gzip this also checks the stream's CRC and length.
  void expect_end(const char* what);

 private:
  size_t read_some(uint8_t* dst, size_t n);  // 0 only at the end of the data

  std::string path_;
  std::FILE* file_ = nullptr;
  bool gzip_ = false;
  int64_t raw_size_ = 0, raw_offset_ = 0;
  struct Inflater;
  std::unique_ptr<Inflater> inflater_;
};

}  // namespace tutor::data
