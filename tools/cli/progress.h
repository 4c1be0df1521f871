// Timing and progress display for long-running commands.
//
// format_progress() builds the line from plain numbers, so it is tested as text:
//   epoch 3/15 [==>       ] 120/469  loss 0.4132  acc 87.2%  1843 img/s  ETA 0:12
// ProgressBar prints it: redrawn in place with '\r' when the stream is a terminal, otherwise as
// plain lines at most every `interval` seconds (and always at completion), so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace tutor::cli {

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void reset() { start_ = std::chrono::steady_clock::now(); }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

struct Metric {
  enum class Style {
    decimal,  // "loss 0.4132": name, then the value with `precision` decimals
    percent,  // "acc 87.2%": a fraction in [0, 1] shown as a percentage with `precision` decimals
    rate,     // "1843 img/s": items per second; the name is the unit
  };
  std::string name;
  double value;
  Style style = Style::decimal;
  int precision = 4;
};

// "0:07", "12:05", "1:02:03" (hours only when needed); negative or non-finite: "?:??".
std::string format_duration(double seconds);

// The whole line, no newline. `label` comes first ("epoch 3/15"; empty: omitted). The bar is
// `width` cells: floor(done / total * width) '=' then '>' while unfinished, then spaces. ETA is
// elapsed / done * (total - done); "ETA ?:??" before the first item.
std::string format_progress(const std::string& label, int64_t done, int64_t total,
                            double elapsed_seconds, const std::vector<Metric>& metrics,
                            int width = 10);

class ProgressBar {
 public:
  // `stream` null: stderr. `is_tty` is detected from the stream when not given.
  explicit ProgressBar(std::string label, std::FILE* stream = nullptr, int is_tty = -1,
                       double interval = 10.0);

  void set_label(std::string label) { label_ = std::move(label); }
  // Shows progress at the stopwatch's current time.
  void update(int64_t done, int64_t total, const std::vector<Metric>& metrics);
  // The same at a given elapsed time (what update() calls; tests drive it directly).
  void update_at(double elapsed, int64_t done, int64_t total, const std::vector<Metric>& metrics);
  // Ends the in-place line on a terminal; restarts the clock for the next phase.
  void finish();

 private:
  std::string label_;
  std::FILE* stream_;
  bool tty_;
  double interval_;
  Stopwatch clock_;
  double last_print_ = -1;  // elapsed time of the last plain line; <0: none yet
  size_t last_width_ = 0;   // length of the last redrawn line, to blank leftovers
  bool drawn_ = false;
};

}  // namespace tutor::cli
