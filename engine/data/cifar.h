// CIFAR-10 and CIFAR-100 binary batches (https://www.cs.toronto.edu/~kriz/cifar.html); the user
// supplies the files.
//
// Records of 1 label byte (CIFAR-100: coarse then fine label byte) and 3072 pixel bytes: the
// 32x32 red plane, then green, then blue, each row-major, i.e. [3, 32, 32].
#pragma once

#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace tutor::data {

// The records of `files`, concatenated in order; labels in [0, 10).
TensorDataset cifar10(const std::vector<std::string>& files);
// label "fine" (100 classes, the default) or "coarse" (20 superclasses).
TensorDataset cifar100(const std::vector<std::string>& files, const std::string& label = "fine");

// The standard file names under a directory: CIFAR-10 data_batch_1..5.bin (train) or
// test_batch.bin (test); CIFAR-100 train.bin or test.bin.
std::vector<std::string> cifar10_files(const std::string& dir, const std::string& split);
std::vector<std::string> cifar100_files(const std::string& dir, const std::string& split);

}  // namespace tutor::data
