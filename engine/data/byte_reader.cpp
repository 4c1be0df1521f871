#include "engine/data/byte_reader.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/core/error.h"

namespace tutor::data {

struct ByteReader::Inflater {
  z_stream stream{};
  std::vector<uint8_t> input = std::vector<uint8_t>(size_t(1) << 16);
  bool input_eof = false;
  bool stream_end = false;
};

static bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

ByteReader::ByteReader(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (!file_) fail("{}: cannot open ({})", path_, std::strerror(errno));
  struct stat info {};
  if (fstat(fileno(file_), &info) != 0 || !S_ISREG(info.st_mode)) {
    std::fclose(file_);
    fail("{}: not a regular file", path_);
  }
  raw_size_ = int64_t(info.st_size);
  uint8_t magic[2] = {0, 0};
  size_t got = std::fread(magic, 1, 2, file_);
  std::rewind(file_);
  gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (ends_with(path_, ".gz") && !gzip_) {
    std::fclose(file_);
    fail("{}: named .gz but is not gzip (starts with {:02x} {:02x}, expected 1f 8b)", path_,
         magic[0], magic[1]);
  }
  if (!gzip_) return;
  inflater_ = std::make_unique<Inflater>();
  // 16 + MAX_WBITS: a gzip wrapper, whose CRC-32 and length zlib checks at the end.
  if (inflateInit2(&inflater_->stream, 16 + MAX_WBITS) != Z_OK) {
    std::fclose(file_);
    fail("{}: zlib could not start inflating", path_);
  }
}

ByteReader::~ByteReader() {
  if (inflater_) inflateEnd(&inflater_->stream);
  if (file_) std::fclose(file_);
}

size_t ByteReader::read_some(uint8_t* dst, size_t n) {
  if (!gzip_) {
    size_t got = std::fread(dst, 1, n, file_);
    raw_offset_ += int64_t(got);
    return got;
  }
  Inflater& z = *inflater_;
  z.stream.next_out = dst;
  z.stream.avail_out = uInt(std::min<size_t>(n, size_t(1) << 30));
  uInt wanted = z.stream.avail_out;
  while (z.stream.avail_out == wanted && !z.stream_end) {
    if (z.stream.avail_in == 0 && !z.input_eof) {
      size_t got = std::fread(z.input.data(), 1, z.input.size(), file_);
      z.input_eof = got < z.input.size();
      z.stream.next_in = z.input.data();
      z.stream.avail_in = uInt(got);
    }
    if (z.stream.avail_in == 0 && z.input_eof)
      fail("{}: gzip stream is truncated (the file ends inside the compressed data)", path_);
    int rc = inflate(&z.stream, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      z.stream_end = true;
      if (z.stream.avail_in > 0 || (!z.input_eof && std::fgetc(file_) != EOF))
        fail("{}: bytes follow the end of the gzip stream", path_);
    } else if (rc == Z_DATA_ERROR) {
      fail("{}: corrupt gzip data ({})", path_, z.stream.msg ? z.stream.msg : "no detail");
    } else if (rc == Z_MEM_ERROR) {
      fail("{}: out of memory while inflating", path_);
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      fail("{}: zlib inflate failed with code {}", path_, rc);
    }
  }
  return wanted - z.stream.avail_out;
}

void ByteReader::read(void* dst, size_t n, const char* what) {
  auto* out = static_cast<uint8_t*>(dst);
  size_t done = 0;
  while (done < n) {
    size_t got = read_some(out + done, n - done);
    if (got == 0) fail("{}: {} ends after {} of {} bytes (file truncated)", path_, what, done, n);
    done += got;
  }
}

std::vector<uint8_t> ByteReader::read_vector(size_t n, const char* what) {
  constexpr size_t kChunk = size_t(64) << 20;
  std::vector<uint8_t> out;
  if (!gzip_) {
    if (int64_t(n) > raw_remaining())
      fail("{}: {} needs {} bytes but only {} remain (file truncated)", path_, what, n,
           raw_remaining());
    out.resize(n);
    read(out.data(), n, what);
    return out;
  }
  while (out.size() < n) {
    size_t start = out.size(), step = std::min(kChunk, n - start);
    out.resize(start + step);
    size_t done = 0;
    while (done < step) {
      size_t got = read_some(out.data() + start + done, step - done);
      if (got == 0)
        fail("{}: {} ends after {} of {} bytes (file truncated)", path_, what, start + done, n);
      done += got;
    }
  }
  return out;
}

void ByteReader::expect_end(const char* what) {
  if (!gzip_) {
    if (raw_remaining() > 0)
      fail("{}: {} bytes follow the {} (the header's sizes do not match the file)", path_,
           raw_remaining(), what);
    return;
  }
  uint8_t extra = 0;
  if (read_some(&extra, 1) > 0)
    fail("{}: data follows the {} (the header's sizes do not match the file)", path_, what);
}

}  // namespace tutor::data
