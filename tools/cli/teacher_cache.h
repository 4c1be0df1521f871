// Teacher logits computed once per training image and reused across epochs and experiments.
//
// Valid only when a teacher's output for an image depends on nothing but that image: no random
// augmentation of the teacher's view (no crop, no flip) and the teacher in eval mode (batch
// statistics would tie a sample's logits to its batch), and when the objectives read only the
// teachers' logits. `tutor distill` turns it on under exactly these conditions, unless the run
// reads or writes a teacher-outputs file (teacher_outputs.h), which serves the logits instead.
//
// Exactness: the CPU kernels block their loops by the batch size, so an image's logits computed
// in a batch of 8 and in a batch of 32 may differ in the last bit (measured: at most 7.5e-8 on
// resnet8 logits). A run with the cache equals the run without it bit for bit when each image's
// batch size is the same in every epoch (every batch full, as the test checks); otherwise the
// cached logits may differ from recomputed ones by that rounding.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "distill/objective.h"

namespace tutor::cli {

class TeacherCache {
 public:
  // `rows`: how many distinct images there are (ids run over [0, rows)); `teachers`: how many.
  TeacherCache(int64_t rows, int64_t teachers);

  // The teacher outputs ("teacher.logits", "teacher1.logits", ...) of the images `ids`, in
  // order. When any is missing, `compute` runs the teachers on the whole batch and every row is
  // stored.
  distill::Inputs get(const std::vector<int64_t>& ids,
                      const std::function<distill::Inputs()>& compute);

  int64_t hits() const { return hits_; }      // batches served from the cache
  int64_t misses() const { return misses_; }  // batches the teachers ran on

 private:
  int64_t rows_, teachers_, classes_ = 0;
  std::vector<std::vector<float>> logits_;  // per teacher: [rows, classes], row-major
  std::vector<char> filled_;
  int64_t hits_ = 0, misses_ = 0;
};

}  // namespace tutor::cli
