#include "tools/cli/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace tutor::cli {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?:??";
  int64_t s = int64_t(std::llround(seconds));
  int64_t h = s / 3600, m = s / 60 % 60, sec = s % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, sec);
  return fmt::format("{}:{:02}", m, sec);
}

static std::string format_metric(const Metric& m) {
  switch (m.style) {
    case Metric::Style::decimal:
      return fmt::format("{} {:.{}f}", m.name, m.value, m.precision);
    case Metric::Style::percent:
      return fmt::format("{} {:.{}f}%", m.name, m.value * 100.0, m.precision);
    case Metric::Style::rate:
      return fmt::format("{:.{}f} {}", m.value, m.precision, m.name);
  }
  return m.name;
}

std::string format_progress(const std::string& label, int64_t done, int64_t total,
                            double elapsed_seconds, const std::vector<Metric>& metrics, int width) {
  std::string line = label.empty() ? "" : label + " ";
  double fraction = total > 0 ? std::clamp(double(done) / double(total), 0.0, 1.0) : 0.0;
  int filled = int(std::floor(fraction * width));
  std::string bar(size_t(filled), '=');
  if (filled < width) bar += '>';
  bar.resize(size_t(width), ' ');
  line += fmt::format("[{}] {}/{}", bar, done, total);
  for (const Metric& m : metrics) line += "  " + format_metric(m);
  double eta =
      done > 0 ? elapsed_seconds / double(done) * double(std::max<int64_t>(total - done, 0)) : -1.0;
  line += "  ETA " + format_duration(eta);
  return line;
}

ProgressBar::ProgressBar(std::string label, std::FILE* stream, int is_tty, double interval)
    : label_(std::move(label)),
      stream_(stream ? stream : stderr),
      tty_(is_tty >= 0 ? is_tty != 0 : ::isatty(::fileno(stream_)) != 0),
      interval_(interval) {}

void ProgressBar::update(int64_t done, int64_t total, const std::vector<Metric>& metrics) {
  update_at(clock_.seconds(), done, total, metrics);
}

void ProgressBar::update_at(double elapsed, int64_t done, int64_t total,
                            const std::vector<Metric>& metrics) {
  std::string line = format_progress(label_, done, total, elapsed, metrics);
  if (tty_) {
    // Pad with spaces over what a longer previous line left behind.
    size_t pad = last_width_ > line.size() ? last_width_ - line.size() : 0;
    fmt::print(stream_, "\r{}{}", line, std::string(pad, ' '));
    last_width_ = line.size();
    drawn_ = true;
  } else if (done >= total || last_print_ < 0 || elapsed - last_print_ >= interval_) {
    fmt::print(stream_, "{}\n", line);
    last_print_ = elapsed;
  }
  std::fflush(stream_);
}

void ProgressBar::finish() {
  if (tty_ && drawn_) fmt::print(stream_, "\n");
  std::fflush(stream_);
  drawn_ = false;
  last_width_ = 0;
  last_print_ = -1;
  clock_.reset();
}

}  // namespace tutor::cli
