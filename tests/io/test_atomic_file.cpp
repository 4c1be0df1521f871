// write_file_atomic: the target holds the old or the complete new content and no temporary file
// survives a failure; MappedFile: mapping, empty files and errors.
#include <doctest/doctest.h>

#include <cstring>
#include <stdexcept>

#include "engine/io/atomic_file.h"
#include "engine/io/mapped_file.h"
#include "io/io_test_util.h"

using namespace tutor;
using namespace tutor::io_test;

namespace {

std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

}  // namespace

TEST_CASE("io: atomic write creates and replaces a file") {
  TempDir dir;
  std::string target = dir.file("out.bin");
  write_file_atomic(target, as_bytes("first version"));
  CHECK(read_file(target) == "first version");
  write_file_atomic(target, [](FileWriter& w) {
    w.write(std::string_view("second"));
    w.write(" version, longer", 16);
    CHECK(w.bytes_written() == 22);
  });
  CHECK(read_file(target) == "second version, longer");
  write_file_atomic(target, as_bytes(""));
  CHECK(read_file(target).empty());
  CHECK(dir.listing() == std::vector<std::string>{"out.bin"});
}

TEST_CASE("io: atomic write leaves the target untouched when the content throws midway") {
  TempDir dir;
  std::string target = dir.file("model.bin");
  write_file_atomic(target, as_bytes("old content"));

  std::string message = error_of([&] {
    write_file_atomic(target, [](FileWriter& w) {
      w.write(std::string_view("half of the new content"));
      fail("tensor {} exploded", "w");
    });
  });
  CHECK(contains(message, target));
  CHECK(contains(message, "unchanged"));
  CHECK(contains(message, "tensor w exploded"));
  CHECK(read_file(target) == "old content");
  CHECK(dir.listing() == std::vector<std::string>{"model.bin"});

  // Exceptions other than tutor::Error pass through unchanged, with the same cleanup.
  CHECK_THROWS_AS(write_file_atomic(target,
                                    [](FileWriter& w) {
                                      w.write(std::string_view("x"));
                                      throw std::runtime_error("not ours");
                                    }),
                  std::runtime_error);
  CHECK(read_file(target) == "old content");
  CHECK(dir.listing() == std::vector<std::string>{"model.bin"});
}

TEST_CASE("io: atomic write fails cleanly when the disk refuses the bytes") {
  TempDir dir;
  std::string target = dir.file("big.bin");
  write_file_atomic(target, as_bytes("small"));
  std::string big(64 * 1024, 'x');
  std::string message;
  {
    FileSizeLimit limit(4096);
    message = error_of([&] { write_file_atomic(target, as_bytes(big)); });
  }
  CHECK(contains(message, target));
  CHECK(contains(message, "write failed after 4096 bytes"));
  CHECK(contains(message, std::strerror(EFBIG)));
  CHECK(read_file(target) == "small");
  CHECK(dir.listing() == std::vector<std::string>{"big.bin"});
}

TEST_CASE("io: atomic write names the path and errno when the target cannot be written") {
  TempDir dir;
  // A directory that does not exist: the temporary file cannot be created.
  std::string missing = dir.file("no/such/dir/out.bin");
  std::string message = error_of([&] { write_file_atomic(missing, as_bytes("x")); });
  CHECK(contains(message, missing));
  CHECK(contains(message, std::strerror(ENOENT)));

  // A parent that is a regular file.
  std::string plain = dir.file("plain");
  write_file_atomic(plain, as_bytes("not a directory"));
  message = error_of([&] { write_file_atomic(plain + "/out.bin", as_bytes("x")); });
  CHECK(contains(message, std::strerror(ENOTDIR)));

  // A directory without write permission (root writes anyway, so only checked for other users).
  if (::geteuid() != 0) {
    std::filesystem::create_directory(dir.file("locked"));
    std::filesystem::permissions(dir.file("locked"), std::filesystem::perms::owner_read |
                                                         std::filesystem::perms::owner_exec);
    message = error_of([&] { write_file_atomic(dir.file("locked/out.bin"), as_bytes("x")); });
    CHECK(contains(message, std::strerror(EACCES)));
    std::filesystem::remove(dir.file("locked"));
  }

  // A target that is a non-empty directory: the rename fails after the data was written, and the
  // temporary file is removed.
  std::filesystem::create_directory(dir.file("taken"));
  write_file_atomic(dir.file("taken/inside"), as_bytes("keep"));
  message = error_of([&] { write_file_atomic(dir.file("taken"), as_bytes("x")); });
  CHECK(contains(message, dir.file("taken")));
  CHECK(contains(message, "rename"));
  CHECK(dir.listing() == std::vector<std::string>{"plain", "taken"});
  CHECK(read_file(dir.file("taken/inside")) == "keep");
}

TEST_CASE("io: mapped file") {
  TempDir dir;
  write_file(dir.file("data"), std::string("\x01\x02\x03", 3));
  MappedFile mapped(dir.file("data"));
  REQUIRE(mapped.size() == 3);
  CHECK(mapped.bytes()[2] == std::byte(3));
  MappedFile moved = std::move(mapped);
  CHECK(moved.size() == 3);
  CHECK(moved.bytes()[0] == std::byte(1));

  write_file(dir.file("empty"), "");
  CHECK(MappedFile(dir.file("empty")).bytes().empty());

  std::string message = error_of([&] { MappedFile m(dir.file("absent")); });
  CHECK(contains(message, dir.file("absent")));
  CHECK(contains(message, std::strerror(ENOENT)));
  CHECK(error_of([&] { MappedFile m(dir.path().string()); }) ==
        dir.path().string() + ": not a regular file");
}
