// What `tutor distill` reports: the final table (text, on stdout) and a self-contained HTML page
// with inline SVG training curves (no scripts, no external files).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tutor::cli {

struct EpochPoint {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_acc = 0, test_loss = 0, test_acc = 0, lr = 0, seconds = 0;
  std::vector<std::pair<std::string, double>> parts;  // epoch means of every loss part
};

// One trained or loaded model: a teacher, or the student of one experiment.
struct RunRecord {
  std::string name;                // "teacher", "teacher1", "baseline", or the experiment's name
  // Which of several students trained together ("student", "student1", ...); "" otherwise.
  std::string student;
  std::string model;               // registry name
  std::string objectives;          // "0.1 ce + 0.9 kd(T=4)"; for teachers how they were obtained
  std::vector<EpochPoint> epochs;  // empty for loaded teachers
  double test_acc = 0;             // after the last epoch
  double test_loss = 0;
  double seconds = 0;
};

// How a run is named in the table, the charts and the log: its name, or "<name>/<student>" for
// one of several students ("dml/student1").
std::string run_label(const RunRecord& r);

// The table: one row per teacher, then per student run, with the test accuracy and, for
// students, its difference to the baseline's in percentage points ("-" without a baseline); with
// several students each is compared with its own baseline (the same student alone).
std::string results_table(const std::vector<RunRecord>& teachers,
                          const std::vector<RunRecord>& students);

// The HTML page: title, the table, and two SVG charts over the epochs of every student run
// (training loss on a log scale; test accuracy), teachers' curves dashed when they were trained.
std::string html_report(const std::string& title, const std::string& subtitle,
                        const std::vector<RunRecord>& teachers,
                        const std::vector<RunRecord>& students);

}  // namespace tutor::cli
