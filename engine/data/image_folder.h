// A folder of images, one sub-folder per class, as torchvision's ImageFolder lays it out:
// root/<class name>/<image>.png|.jpg|.jpeg|.bmp (extensions in any case). Classes are the
// sub-folders sorted by name (label i is the i-th name); files are taken sorted by name. Images
// are decoded with stb_image and must all have one size: nothing is resized.
#pragma once

#include <string>

#include "engine/data/dataset.h"

namespace tutor::data {

// channels: 3 (RGB, the default, as torchvision's loader converts to RGB) or 1 (grey).
TensorDataset image_folder(const std::string& root, int channels = 3);

}  // namespace tutor::data
