#include "tools/cli/distill_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tutor::cli {

namespace {

// The baseline run of the same student as `r`.
const RunRecord* find_baseline(const std::vector<RunRecord>& students, const RunRecord& r) {
  for (const RunRecord& b : students)
    if (b.name == "baseline" && b.student == r.student) return &b;
  return nullptr;
}

std::string difference(const RunRecord& r, const std::vector<RunRecord>& students) {
  const RunRecord* baseline = find_baseline(students, r);
  if (!baseline) return "-";
  return fmt::format("{:+.2f}", 100 * (r.test_acc - baseline->test_acc));
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Colour-blind-safe palette (Okabe and Ito).
const char* kColors[] = {"#000000", "#E69F00", "#56B4E9", "#009E73",
                         "#0072B2", "#D55E00", "#CC79A7", "#F0E442"};

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (epoch, value)
  std::string color;
  bool dashed = false;
};

// A line chart: axes with a few ticks, one polyline per series, a legend on the right.
// log_y: the y axis is log10 of the values (every plotted value must be > 0).
std::string svg_chart(const std::string& title, const std::string& y_label,
                      std::vector<Series> series, bool percent, bool log_y) {
  if (log_y)
    for (Series& s : series)
      for (auto& point : s.points)
        point.second =
            point.second > 0 ? std::log10(point.second) : std::numeric_limits<double>::quiet_NaN();
  const double W = 640, H = 320, left = 60, right = 150, top = 30, bottom = 40;
  double x_lo = 1, x_hi = 1, y_lo = std::numeric_limits<double>::infinity(),
         y_hi = -std::numeric_limits<double>::infinity();
  for (const Series& s : series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(y)) continue;
      x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y);
      y_hi = std::max(y_hi, y);
    }
  if (!(y_lo <= y_hi)) y_lo = 0, y_hi = 1;
  if (y_hi - y_lo < 1e-9) y_lo -= 0.5, y_hi += 0.5;
  double pad = 0.05 * (y_hi - y_lo);
  y_lo -= pad;
  y_hi += pad;
  if (x_hi <= x_lo) x_hi = x_lo + 1;
  double pw = W - left - right, ph = H - top - bottom;
  auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * pw; };
  auto py = [&](double y) { return top + (y_hi - y) / (y_hi - y_lo) * ph; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "viewBox=\"0 0 {} {}\" font-family=\"sans-serif\" font-size=\"11\">\n",
      W, H, W, H);
  svg += fmt::format("<text x=\"{}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{}</text>\n",
                     left, escape(title));
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
      "stroke=\"#888\"/>\n",
      left, top, pw, ph);
  for (int i = 0; i <= 4; ++i) {
    double y = y_lo + (y_hi - y_lo) * i / 4;
    double shown = log_y ? std::pow(10.0, y) : y;
    std::string label =
        percent ? fmt::format("{:.1f}%", 100 * shown) : fmt::format("{:.3g}", shown);
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
        "stroke=\"#ddd\"/><text x=\"{:.1f}\" y=\"{:.1f}\" "
        "text-anchor=\"end\">{}</text>\n",
        left, py(y), left + pw, py(y), left - 4, py(y) + 4, label);
  }
  int64_t last = int64_t(std::llround(x_hi));
  int64_t every = std::max<int64_t>(1, (last + 9) / 10);
  for (int64_t e = 1; e <= last; e += every)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                       px(double(e)), top + ph + 14, e);
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">epoch</text>\n",
                     left + pw / 2, H - 6);
  svg += fmt::format(
      "<text transform=\"translate(14,{:.1f}) rotate(-90)\" "
      "text-anchor=\"middle\">{}</text>\n",
      top + ph / 2, escape(y_label));
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    std::string points;
    for (auto [x, y] : s.points)
      if (std::isfinite(y)) points += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    svg += fmt::format(
        "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} "
        "points=\"{}\"/>\n",
        s.color, s.dashed ? " stroke-dasharray=\"6,4\"" : "", points);
    for (auto [x, y] : s.points)
      if (std::isfinite(y))
        svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n", px(x),
                           py(y), s.color);
    double ly = top + 10 + 16 * double(i);
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
        "stroke=\"{}\" stroke-width=\"2\"{}/><text x=\"{:.1f}\" y=\"{:.1f}\">{}"
        "</text>\n",
        left + pw + 10, ly, left + pw + 30, ly, s.color,
        s.dashed ? " stroke-dasharray=\"6,4\"" : "", left + pw + 34, ly + 4, escape(s.name));
  }
  svg += "</svg>\n";
  return svg;
}

std::vector<Series> collect(const std::vector<RunRecord>& teachers,
                            const std::vector<RunRecord>& students, double EpochPoint::*field) {
  std::vector<Series> out;
  size_t color = 0;
  auto add = [&](const RunRecord& r, bool dashed) {
    if (r.epochs.empty()) return;
    Series s{run_label(r), {}, kColors[color++ % std::size(kColors)], dashed};
    for (const EpochPoint& p : r.epochs) s.points.emplace_back(double(p.epoch), p.*field);
    out.push_back(std::move(s));
  };
  for (const RunRecord& r : students) add(r, false);
  for (const RunRecord& r : teachers) add(r, true);
  return out;
}

}  // namespace

std::string run_label(const RunRecord& r) {
  return r.student.empty() ? r.name : r.name + "/" + r.student;
}

std::string results_table(const std::vector<RunRecord>& teachers,
                          const std::vector<RunRecord>& students) {
  size_t name_w = 8, model_w = 5, obj_w = 10;
  for (const auto* list : {&teachers, &students})
    for (const RunRecord& r : *list) {
      name_w = std::max(name_w, run_label(r).size());
      model_w = std::max(model_w, r.model.size());
      obj_w = std::max(obj_w, r.objectives.size());
    }
  std::string out = fmt::format("{:<{}}  {:<{}}  {:<{}}  {:>8}  {:>11}\n", "run", name_w, "model",
                                model_w, "objectives", obj_w, "test acc", "vs baseline");
  for (const RunRecord& r : teachers)
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:>7.2f}%  {:>11}\n", run_label(r), name_w, r.model,
                       model_w, r.objectives, obj_w, 100 * r.test_acc, "");
  for (const RunRecord& r : students)
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:>7.2f}%  {:>11}\n", run_label(r), name_w, r.model,
                       model_w, r.objectives, obj_w, 100 * r.test_acc, difference(r, students));
  return out;
}

std::string html_report(const std::string& title, const std::string& subtitle,
                        const std::vector<RunRecord>& teachers,
                        const std::vector<RunRecord>& students) {
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>{0}</title>\n<style>\nbody {{ font-family: sans-serif; margin: 2em; }}\n"
      "table {{ border-collapse: collapse; margin: 1em 0; }}\n"
      "th, td {{ border: 1px solid #bbb; padding: 4px 10px; }}\n"
      "td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}\n"
      "</style>\n</head>\n<body>\n<h1>{0}</h1>\n<p>{1}</p>\n",
      escape(title), escape(subtitle));
  html +=
      "<table>\n<tr><th>run</th><th>model</th><th>objectives</th><th>epochs</th>"
      "<th>test acc</th><th>test loss</th><th>vs baseline (points)</th><th>seconds</th></tr>\n";
  auto row = [&](const RunRecord& r, bool student) {
    html += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">"
        "{:.2f}%</td><td class=\"num\">{:.4f}</td><td class=\"num\">{}</td><td class=\"num\">"
        "{:.1f}</td></tr>\n",
        escape(run_label(r)), escape(r.model), escape(r.objectives), r.epochs.size(),
        100 * r.test_acc, r.test_loss, student ? difference(r, students) : "", r.seconds);
  };
  for (const RunRecord& r : teachers) row(r, false);
  for (const RunRecord& r : students) row(r, true);
  html += "</table>\n";
  html += svg_chart("Training loss (weighted sum of the objectives, log scale)", "loss",
                    collect(teachers, students, &EpochPoint::train_loss), false, true);
  html += svg_chart("Test accuracy", "accuracy", collect(teachers, students, &EpochPoint::test_acc),
                    true, false);
  html +=
      "<p>Teachers' curves are dashed. Every loss part per epoch is in metrics.jsonl.</p>\n"
      "</body>\n</html>\n";
  return html;
}

}  // namespace tutor::cli
