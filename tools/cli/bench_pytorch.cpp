#include "tools/cli/bench_pytorch.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace tutor::cli {

static constexpr const char* kPython = "/usr/bin/python3";
static constexpr const char* kOpenblasOpenmp = "/usr/lib/x86_64-linux-gnu/openblas-openmp";

std::string bench_script(const std::string& file) {
  return TUTOR_SOURCE_DIR "/tools/bench/" + file;
}

// 'text' for sh, with each ' written as '\''.
static std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `command` through sh and returns its stdout and exit status.
static ChildOutput capture(const std::string& command) {
  std::FILE* pipe = popen(command.c_str(), "r");
  TUTOR_CHECK(pipe, "bench: cannot start '{}'", command);
  ChildOutput result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  int raw = pclose(pipe);
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return result;
}

ChildOutput run_child(const std::string& environment, const std::vector<std::string>& argv) {
  std::string command = "env";
  for (const std::string& word : argv) {
    command += ' ';  // appended apart: GCC 12 warns (-Wrestrict, falsely) on " " + quoted
    command += shell_quote(word);
  }
  if (!environment.empty()) command.insert(3, " " + environment);
  return capture(command);
}

ChildOutput run_pytorch_script(const PytorchPeer& peer, const std::vector<std::string>& args) {
  std::vector<std::string> argv{kPython, peer.script};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_child(peer.environment, argv);
}

// The libblas.so.3 that Debian's alternatives system points at (netlib's reference BLAS is
// .../blas/libblas.so.3), or "unknown".
static std::string selected_blas() {
  std::error_code ec;
  std::filesystem::path target =
      std::filesystem::read_symlink("/etc/alternatives/libblas.so.3-x86_64-linux-gnu", ec);
  return ec ? "unknown" : target.string();
}

PytorchPeer find_pytorch_peer(const std::string& script) {
  TUTOR_CHECK(access(kPython, X_OK) == 0,
              "bench: --vs-pytorch needs {} (Debian's python3 with python3-torch); not found",
              kPython);
  TUTOR_CHECK(
      run_child("", {"sh", "-c", fmt::format("{} -c 'import torch' >/dev/null 2>&1", kPython)})
              .status == 0,
      "bench: --vs-pytorch needs torch: '{} -c \"import torch\"' failed (install "
      "python3-torch)",
      kPython);
  TUTOR_CHECK(std::filesystem::is_regular_file(script),
              "bench: --pytorch-script: '{}' is not a file", script);
  PytorchPeer peer{script, "", ""};
  if (std::filesystem::is_directory(kOpenblasOpenmp))
    peer.environment = fmt::format("LD_LIBRARY_PATH={} ", kOpenblasOpenmp);
  else
    peer.note = fmt::format(
        "libopenblas0-openmp is not installed ({} missing): PyTorch runs with the BLAS Debian's "
        "alternatives select ({}), not its strongest configuration for BLAS-backed ops",
        kOpenblasOpenmp, selected_blas());
  peer.environment +=
      "OPENBLAS_CORETYPE=SkylakeX "
      "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold="
      "4294967296:glibc.malloc.hugetlb=1";
  return peer;
}

std::vector<double> read_run_ms(const JsonValue& result, const std::string& source,
                                const std::string& name) {
  const JsonValue* runs = result.find("run_ns");
  TUTOR_CHECK(runs && runs->kind == JsonValue::Kind::array && !runs->array.empty(),
              "bench: {}: {}: expected a non-empty 'run_ns' array", source, name);
  std::vector<double> ms;
  for (const JsonValue& ns : runs->array) {
    TUTOR_CHECK(ns.kind == JsonValue::Kind::integer, "bench: {}: {}: run_ns not integers", source,
                name);
    ms.push_back(double(ns.integer) / 1e6);
  }
  return ms;
}

std::vector<std::vector<double>> run_pytorch(const PytorchPeer& peer,
                                             const std::vector<Workload>& workloads, int threads,
                                             int warmup, int repeat, std::string* torch_version) {
  std::filesystem::path list = std::filesystem::temp_directory_path() /
                               fmt::format("tutor-bench-workloads-{}.json", getpid());
  write_file_atomic(list.string(), workloads_json(workloads));
  ChildOutput child = run_pytorch_script(peer, {list.string(), std::to_string(threads),
                                                std::to_string(warmup), std::to_string(repeat)});
  std::filesystem::remove(list);
  TUTOR_CHECK(child.status == 0, "bench ops: {} exited with status {} (its stderr is above)",
              peer.script, child.status);
  JsonValue root = parse_json(child.out, peer.script);
  const JsonValue* results = root.find("results");
  TUTOR_CHECK(results && results->kind == JsonValue::Kind::array &&
                  results->array.size() == workloads.size(),
              "bench ops: {}: expected 'results' with {} entries", peer.script, workloads.size());
  if (const JsonValue* v = root.find("torch"); v && v->kind == JsonValue::Kind::string)
    *torch_version = v->string;
  std::vector<std::vector<double>> ms;
  for (size_t i = 0; i < workloads.size(); ++i) {
    const JsonValue& r = results->array[i];
    const JsonValue* name = r.find("name");
    TUTOR_CHECK(name && name->kind == JsonValue::Kind::string && name->string == workloads[i].name,
                "bench ops: {}: result {} is not '{}'", peer.script, i, workloads[i].name);
    ms.push_back(read_run_ms(r, peer.script, workloads[i].name));
  }
  return ms;
}

}  // namespace tutor::cli
