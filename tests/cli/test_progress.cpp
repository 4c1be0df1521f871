// The progress line as text, how ProgressBar prints it on a terminal and in a log, the stopwatch.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <thread>

#include "tools/cli/progress.h"

using namespace tutor::cli;

using Style = Metric::Style;

// Everything written to a FILE* stream, read back.
struct CaptureFile {
  std::FILE* f = std::tmpfile();
  ~CaptureFile() { std::fclose(f); }
  std::string text() const {
    std::fflush(f);
    long n = std::ftell(f);
    std::string s(size_t(n), '\0');
    std::rewind(f);
    size_t got = std::fread(s.data(), 1, s.size(), f);
    s.resize(got);
    std::fseek(f, 0, SEEK_END);
    return s;
  }
};

TEST_CASE("cli: durations print as m:ss or h:mm:ss") {
  CHECK(format_duration(0) == "0:00");
  CHECK(format_duration(12.4) == "0:12");
  CHECK(format_duration(59.6) == "1:00");
  CHECK(format_duration(725) == "12:05");
  CHECK(format_duration(3723) == "1:02:03");
  CHECK(format_duration(-1) == "?:??");
}

TEST_CASE("cli: the progress line shows bar, counts, metrics and ETA") {
  std::vector<Metric> metrics = {{"loss", 0.41318, Style::decimal},
                                 {"acc", 0.87214, Style::percent, 1},
                                 {"img/s", 1843.4, Style::rate, 0}};
  // 120 of 469 in 20 s: 1/6 s per batch, 349 left: ETA 58.17 s -> 0:58; bar floor(2.56) = 2 cells.
  CHECK(format_progress("epoch 3/15", 120, 469, 20.0, metrics) ==
        "epoch 3/15 [==>       ] 120/469  loss 0.4132  acc 87.2%  1843 img/s  ETA 0:58");
  CHECK(format_progress("", 0, 10, 0.0, {}) == "[>         ] 0/10  ETA ?:??");
  CHECK(format_progress("", 5, 10, 3.0, {}, 4) == "[==> ] 5/10  ETA 0:03");
  CHECK(format_progress("", 10, 10, 7.0, {}) == "[==========] 10/10  ETA 0:00");
  CHECK(format_progress("", 0, 0, 0.0, {}) == "[>         ] 0/0  ETA ?:??");
}

TEST_CASE("cli: on a terminal the bar redraws in place; in a log it prints periodic lines") {
  SUBCASE("terminal") {
    CaptureFile out;
    ProgressBar bar("e", out.f, /*is_tty=*/1);
    bar.update_at(1.0, 1, 4, {{"loss", 12.5, Style::decimal, 1}});
    bar.update_at(2.0, 2, 4, {});
    bar.finish();
    // The shorter second line is padded over the first one's leftovers.
    CHECK(out.text() ==
          "\re [==>       ] 1/4  loss 12.5  ETA 0:03"
          "\re [=====>    ] 2/4  ETA 0:02           \n");
  }
  SUBCASE("log") {
    CaptureFile out;
    ProgressBar bar("e", out.f, /*is_tty=*/0, /*interval=*/10.0);
    bar.update_at(0.5, 1, 100, {});     // first: printed
    bar.update_at(5.0, 10, 100, {});    // within 10 s of the last: skipped
    bar.update_at(11.0, 20, 100, {});   // printed
    bar.update_at(12.0, 100, 100, {});  // completion: always printed
    bar.finish();
    CHECK(out.text() ==
          "e [>         ] 1/100  ETA 0:50\n"
          "e [==>       ] 20/100  ETA 0:44\n"
          "e [==========] 100/100  ETA 0:00\n");
  }
}

TEST_CASE("cli: the stopwatch measures at least the time slept and restarts on reset") {
  Stopwatch w;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  double t = w.seconds();
  CHECK(t >= 0.02);
  CHECK(w.seconds() >= t);
  w.reset();
  CHECK(w.seconds() < t);
}
