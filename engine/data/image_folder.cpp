#include "engine/data/image_folder.h"

#include <stb/stb_image.h>  // the implementation is compiled into libstb.so

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "engine/core/error.h"

namespace tutor::data {

namespace fs = std::filesystem;

static bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

static std::vector<uint8_t> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

static std::vector<fs::path> sorted_entries(const fs::path& dir, bool directories) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (directories ? it->is_directory(ec) : (it->is_regular_file(ec) && is_image(p)))
      out.push_back(p);
  }
  if (ec) fail("{}: cannot list the folder ({})", dir.string(), ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

TensorDataset image_folder(const std::string& root, int channels) {
  TUTOR_CHECK(channels == 1 || channels == 3, "image_folder: channels must be 1 or 3, got {}",
              channels);
  std::error_code ec;
  TUTOR_CHECK(fs::is_directory(root, ec), "{}: not a directory", root);
  std::vector<fs::path> classes = sorted_entries(root, true);
  TUTOR_CHECK(!classes.empty(), "{}: no class sub-folders", root);
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  std::vector<std::string> names;
  int width = 0, height = 0;
  std::string first_file;
  for (size_t label = 0; label < classes.size(); ++label) {
    names.push_back(classes[label].filename().string());
    std::vector<fs::path> files = sorted_entries(classes[label], false);
    TUTOR_CHECK(!files.empty(), "{}: class folder holds no .png/.jpg/.jpeg/.bmp file",
                classes[label].string());
    for (const fs::path& file : files) {
      std::vector<uint8_t> bytes = read_file(file);
      TUTOR_CHECK(bytes.size() <= size_t(INT32_MAX), "{}: file is larger than 2 GiB",
                  file.string());
      int w = 0, h = 0, c = 0;
      std::unique_ptr<uint8_t, void (*)(void*)> img(
          stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &c, channels),
          stbi_image_free);
      if (!img) fail("{}: cannot decode image ({})", file.string(), stbi_failure_reason());
      if (first_file.empty()) {
        width = w, height = h, first_file = file.string();
      } else {
        TUTOR_CHECK(w == width && h == height,
                    "{}: image is {}x{} (WxH) but {} is {}x{}; image_folder does not resize",
                    file.string(), w, h, first_file, width, height);
      }
      // stb gives interleaved HWC; datasets hold planar CHW.
      size_t base = pixels.size(), plane = size_t(w) * size_t(h);
      pixels.resize(base + plane * size_t(channels));
      for (size_t p = 0; p < plane; ++p)
        for (size_t ch = 0; ch < size_t(channels); ++ch)
          pixels[base + ch * plane + p] = img.get()[p * size_t(channels) + ch];
      labels.push_back(int64_t(label));
    }
  }
  TensorDataset ds(std::move(pixels), {channels, height, width}, std::move(labels),
                   int64_t(classes.size()));
  ds.set_class_names(std::move(names));
  return ds;
}

}  // namespace tutor::data
