// CIFAR binary batches and image folders, on tiny files written here.
#include <doctest/doctest.h>
#include <stb/stb_image_write.h>  // the implementation is compiled into libstb.so

#include <filesystem>

#include "engine/data/cifar.h"
#include "engine/data/image_folder.h"
#include "tests/data/data_test.h"

using namespace tutor;
using namespace tutor::data;
using namespace tutor::data::test;

// One record: label bytes, then 3072 pixels where channel c, row y, column x holds
// (c * 7 + y * 3 + x + seed) mod 256.
static Bytes cifar_record(const Bytes& label_bytes, int seed) {
  Bytes r = label_bytes;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) r.push_back(uint8_t((c * 7 + y * 3 + x + seed) % 256));
  return r;
}

static Bytes concat(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST_CASE("data: CIFAR-10 and CIFAR-100 records") {
  TempDir dir;
  std::string a = dir.file("a.bin"), b = dir.file("b.bin");
  write_file(a, concat({cifar_record({3}, 0), cifar_record({9}, 1)}));
  write_file(b, cifar_record({0}, 2));
  TensorDataset ds = cifar10({a, b});
  CHECK(ds.size() == 3);
  CHECK(ds.sample_shape() == Shape{3, 32, 32});
  CHECK(ds.labels().to_vector<int64_t>() == std::vector<int64_t>{3, 9, 0});
  CHECK(ds.class_names().at(3) == "cat");
  Batch batch = ds.get({1, 2});
  // Record 1 (seed 1), channel 2, row 5, column 6: (14 + 15 + 6 + 1) = 36.
  std::vector<float> px = batch.images.to_vector<float>();
  CHECK(px[size_t((2 * 32 + 5) * 32 + 6)] == 36.0f / 255.0f);
  // Record 2 (seed 2), channel 0, row 31, column 31: (93 + 31 + 2) = 126.
  CHECK(px[size_t(3072 + 31 * 32 + 31)] == 126.0f / 255.0f);

  std::string c = dir.file("c100.bin");
  write_file(c, concat({cifar_record({4, 71}, 0), cifar_record({19, 99}, 5)}));
  CHECK(cifar100({c}).labels().to_vector<int64_t>() == std::vector<int64_t>{71, 99});
  CHECK(cifar100({c}).num_classes() == 100);
  TensorDataset coarse = cifar100({c}, "coarse");
  CHECK(coarse.labels().to_vector<int64_t>() == std::vector<int64_t>{4, 19});
  CHECK(coarse.num_classes() == 20);
  // CIFAR-100 pixels start after two label bytes: record 1 (seed 5), channel 0, (0, 0) = 5.
  CHECK(coarse.pixels()[3072] == 5);

  CHECK(cifar10_files("/d", "train").at(4) == "/d/data_batch_5.bin");
  CHECK(cifar10_files("/d", "test") == std::vector<std::string>{"/d/test_batch.bin"});
  CHECK(cifar100_files("/d", "test") == std::vector<std::string>{"/d/test.bin"});
}

TEST_CASE("data: CIFAR malformed files fail naming the file") {
  TempDir dir;
  std::string p = dir.file("bad.bin");
  Bytes two = concat({cifar_record({1}, 0), cifar_record({2}, 0)});
  write_file(p, Bytes(two.begin(), two.end() - 1));
  check_error([&] { cifar10({p}); }, {p, "size 6145 bytes", "record size 3073"});
  write_file(p, two);  // two CIFAR-10 records are not a whole number of CIFAR-100 records
  check_error([&] { cifar100({p}); }, {p, "size 6146 bytes", "record size 3074"});
  write_file(p, {});
  check_error([&] { cifar10({p}); }, {p, "size 0 bytes"});
  write_file(p, concat({cifar_record({1}, 0), cifar_record({10}, 0)}));
  check_error([&] { cifar10({p}); }, {p, "record 1 has label 10 (expected 0..9)"});
  write_file(p, cifar_record({20, 5}, 0));
  check_error([&] { cifar100({p}, "coarse"); }, {p, "record 0 has label 20 (expected 0..19)"});
  check_error([&] { cifar100({p}, "medium"); }, {"cifar100", "\"medium\""});
  check_error([&] { cifar10({dir.file("none.bin")}); }, {dir.file("none.bin"), "cannot open"});
  check_error([&] { cifar10({}); }, {"cifar10: no files"});
}

// A w x h RGB PNG whose pixel (x, y) is (r0 + x, g0 + y, 200).
static void write_png(const std::string& path, int w, int h, int r0, int g0) {
  Bytes rgb;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) rgb.insert(rgb.end(), {uint8_t(r0 + x), uint8_t(g0 + y), 200});
  REQUIRE(stbi_write_png(path.c_str(), w, h, 3, rgb.data(), w * 3) != 0);
}

TEST_CASE("data: image folder reads classes sorted by name, pixels as CHW") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "zebra");
  std::filesystem::create_directories(dir.path() / "ant");
  write_png(dir.file("zebra/b.png"), 3, 2, 10, 20);
  write_png(dir.file("zebra/a.PNG"), 3, 2, 30, 40);
  write_png(dir.file("ant/x.png"), 3, 2, 50, 60);
  write_file(dir.file("ant/notes.txt"), {'h', 'i'});  // not an image: ignored

  TensorDataset ds = image_folder(dir.path().string());
  CHECK(ds.size() == 3);
  CHECK(ds.sample_shape() == Shape{3, 2, 3});
  CHECK(ds.class_names() == std::vector<std::string>{"ant", "zebra"});
  CHECK(ds.labels().to_vector<int64_t>() == std::vector<int64_t>{0, 1, 1});
  // Sample 1 is zebra/a.PNG (files sorted): R plane then G plane then B plane.
  const uint8_t* s = ds.pixels().data() + 18;
  CHECK(Bytes(s, s + 18) ==
        Bytes{30, 31, 32, 30, 31, 32, 40, 40, 40, 41, 41, 41, 200, 200, 200, 200, 200, 200});

  TensorDataset grey = image_folder(dir.path().string(), 1);
  CHECK(grey.sample_shape() == Shape{1, 2, 3});
  // stb's luma: (77 r + 150 g + 29 b) >> 8 on pixel (0, 0) of ant/x.png: (50, 60, 200).
  CHECK(int(grey.pixels()[0]) == (77 * 50 + 150 * 60 + 29 * 200) >> 8);
}

TEST_CASE("data: image folder errors name the file") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "a");
  write_png(dir.file("a/1.png"), 3, 2, 0, 0);
  write_png(dir.file("a/2.png"), 4, 2, 0, 0);
  check_error([&] { image_folder(dir.path().string()); },
              {dir.file("a/2.png"), "4x2", dir.file("a/1.png"), "3x2", "does not resize"});
  std::filesystem::remove(dir.file("a/2.png"));
  write_file(dir.file("a/3.jpg"), {0xff, 0xd8, 0xff, 0x00, 0x01});
  check_error([&] { image_folder(dir.path().string()); }, {dir.file("a/3.jpg"), "cannot decode"});
  std::filesystem::remove(dir.file("a/3.jpg"));
  std::filesystem::create_directories(dir.path() / "b");
  check_error([&] { image_folder(dir.path().string()); }, {(dir.path() / "b").string(), "no .png"});
  check_error([&] { image_folder(dir.file("nothing")); }, {dir.file("nothing"), "not a directory"});
  check_error([&] { image_folder(dir.path().string(), 2); }, {"channels must be 1 or 3"});
}
