// `tutor bench ops` and `tutor bench`: the FLOP and byte formulas against hand-computed values
// (and, for the model FLOP counter, against counts taken by PyTorch forward hooks), the median,
// the workload lists, their filters and JSON form, argument errors, and quick end-to-end runs
// whose JSON must hold sane figures. No timing is asserted.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/cli_test.h"
#include "engine/core/error.h"
#include "support/op_test.h"
#include "tools/cli/bench_flops.h"
#include "tools/cli/bench_model_report.h"
#include "tools/cli/bench_models.h"
#include "tools/cli/bench_workloads.h"
#include "tools/cli/command.h"

using namespace tutor::cli;

static Workload find(const std::string& name) {
  for (const Workload& w : all_workloads())
    if (w.name == name) return w;
  FAIL("no workload ", name);
  return {};
}

TEST_CASE("cli: bench FLOP formulas match hand-computed values") {
  // 16->32 3x3 stride 2 pad 1 on 28x28, batch 128: output 14x14; 2*128*32*16*9*196.
  Workload c = find("conv_cifar_16to32_3x3_s2_fwd");
  CHECK(conv_out_size(28, 3, 2, 1) == 14);
  CHECK(forward_flops(c) == 231211008.0);
  CHECK(workload_flops(find("conv_cifar_16to32_3x3_s2_fwdbwd")) == 3 * 231211008.0);
  // ResNet-18 stem: 3->64 7x7 stride 2 pad 3 on 224, batch 16: output 112; 2*16*64*3*49*112*112.
  CHECK(conv_out_size(224, 7, 2, 3) == 112);
  CHECK(forward_flops(find("conv_r18_3to64_7x7_s2_fwd")) == 3776446464.0);
  // 1x1 stride-2 shortcut 32->64 on 14x14, batch 128: output 7x7; 2*128*64*32*49.
  CHECK(forward_flops(find("conv_cifar_32to64_1x1_s2_fwd")) == 25690112.0);
  CHECK(forward_flops(find("matmul_256")) == 33554432.0);  // 2*256^3
  CHECK(forward_flops(find("matmul_vit_qkv_6272x64x192_fwd")) == 2.0 * 6272 * 64 * 192);
  // Attention: q k^T and p v, each 2*B*h*L*L*E = 2*128*4*49*49*16.
  CHECK(forward_flops(find("sdpa_128x4x49x16_fwd")) == 78675968.0);
  CHECK(forward_flops(find("layer_norm_6272x64_fwd")) == 0);
}

TEST_CASE("cli: bench bytes of memory-bound ops") {
  // layer_norm forward: read x and write y, f32: 2 * 4 * 6272*64.
  CHECK(workload_bytes(find("layer_norm_6272x64_fwd")) == 3211264.0);
  // forward + backward adds reading x and dy and writing dx: 5 * 4 * elements.
  CHECK(workload_bytes(find("layer_norm_6272x64_fwdbwd")) == 5 * 4 * 401408.0);
  // cross_entropy: forward reads the logits; backward writes their gradient.
  CHECK(workload_bytes(find("cross_entropy_128x1000_fwd")) == 512000.0);
  CHECK(workload_bytes(find("cross_entropy_128x1000_fwdbwd")) == 1024000.0);
  CHECK(workload_bytes(find("matmul_256")) == 0);
}

TEST_CASE("cli: bench median") {
  CHECK(median({3, 1, 2}) == 2);
  CHECK(median({4, 1, 3, 2}) == 2.5);
  CHECK(median({7}) == 7);
  CHECK_THROWS_AS(median({}), tutor::Error);
}

TEST_CASE("cli: bench workload list round-trips through JSON and filters by name") {
  std::vector<Workload> all = all_workloads();
  std::set<std::string> names;
  for (const Workload& w : all) names.insert(w.name);
  CHECK(names.size() == all.size());
  std::vector<Workload> back = parse_workloads_json(workloads_json(all), "list");
  REQUIRE(back.size() == all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(back[i].name == all[i].name);
    CHECK(back[i].group == all[i].group);
    CHECK(back[i].op == all[i].op);
    CHECK(back[i].dims == all[i].dims);
    CHECK(back[i].backward == all[i].backward);
    CHECK(!back[i].channels_last);
  }
  std::vector<Workload> one = filter_workloads(all, "matmul_256");
  REQUIRE(one.size() == 1);
  CHECK(one[0].dims == std::vector<int64_t>{256, 256, 256});
  CHECK(filter_workloads(all, "").size() == all.size());
  CHECK(filter_workloads(all, "conv_r18").size() == 16);
}

TEST_CASE("cli: bench ops --channels-last turns the conv and batch_norm workloads channels-last") {
  std::vector<Workload> list = with_channels_last(filter_workloads(all_workloads(), "_1x1_s2"));
  list.push_back(find("matmul_256"));
  list.push_back(find("batch_norm_128x16x28x28_fwdbwd"));
  list = with_channels_last(list);  // twice changes nothing more
  REQUIRE(list.size() == 6);
  CHECK(list[5].name == "batch_norm_128x16x28x28_nhwc_fwdbwd");
  CHECK(list[5].channels_last);
  CHECK(list[0].name == "conv_cifar_16to32_1x1_s2_nhwc_fwd");
  CHECK(list[1].name == "conv_cifar_16to32_1x1_s2_nhwc_fwdbwd");
  CHECK(list[0].channels_last);
  CHECK(list[4].name == "matmul_256");
  CHECK(!list[4].channels_last);
  std::vector<Workload> back = parse_workloads_json(workloads_json(list), "list");
  REQUIRE(back.size() == list.size());
  for (size_t i = 0; i < list.size(); ++i) CHECK(back[i].channels_last == list[i].channels_last);
}

TEST_CASE("cli: bench workload JSON rejects malformed entries") {
  auto message = [](const std::string& text) {
    try {
      parse_workloads_json(text, "w.json");
    } catch (const tutor::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message(R"([{"name":"a","group":"g","op":"matmul","dims":[1,2],"backward":0}])") ==
        "w.json: workload 'a': op matmul takes 3 dims, got 2");
  CHECK(message(R"([{"name":"a","group":"g","op":"gemm","dims":[1,2,3],"backward":0}])") ==
        "w.json: workload 'a': unknown op 'gemm'");
  CHECK(message(R"([{"name":"a","group":"g","op":"matmul","dims":[1,2,3]}])") ==
        "w.json: workload 0: field 'backward' must be a JSON integer");
  CHECK(message(R"([{"name":"a","group":"g","op":"matmul","dims":[1,0,3],"backward":0}])") ==
        "w.json: workload 'a': dims must be positive integers (a conv's padding may be 0)");
  CHECK(message(R"({"name":"a"})") == "w.json: expected a JSON array of workloads, got object");
  CHECK(message(R"([{"name":"a","group":"g","op":"matmul","dims":[1,2,3],"backward":0,)"
                R"("channels_last":1}])") ==
        "w.json: workload 'a': channels_last applies to conv2d and batch_norm only, not matmul");
  CHECK(message(R"([{"name":"a","group":"g","op":"conv2d","dims":[1,1,3,3,1,3,3,1,1],)"
                R"("backward":0,"channels_last":2}])") ==
        "w.json: workload 'a': channels_last must be 0 or 1");
}

TEST_CASE("cli: bench ops runs one workload and writes its JSON") {
  std::filesystem::path json =
      std::filesystem::temp_directory_path() / ("tutor-test-bench-" + std::to_string(getpid()));
  std::ostringstream out, err;
  int code = run_cli(
      {"bench", "ops", "--only", "matmul_256", "--repeat", "3", "--json", json.string()}, out, err);
  CHECK(code == 0);
  std::string table = out.str();
  CHECK(table.starts_with("peak "));
  CHECK(table.find("\nmatmul_256 ") != std::string::npos);
  CHECK(table.find("matmul_2048") == std::string::npos);
  std::ifstream in(json);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(json);
  CHECK(text.find(R"("name":"matmul_256")") != std::string::npos);
  CHECK(text.find(R"("tutor_runs_ms":[)") != std::string::npos);
}

TEST_CASE("cli: bench ops --channels-last runs a conv workload channels-last") {
  std::ostringstream out, err;
  CHECK(run_cli({"bench", "ops", "--only", "conv_cifar_32to64_1x1_s2_fwdbwd", "--channels-last",
                 "--repeat", "1", "--warmup", "0"},
                out, err) == 0);
  CHECK(out.str().find("\nconv_cifar_32to64_1x1_s2_nhwc_fwdbwd ") != std::string::npos);
}

TEST_CASE("cli: bench ops rejects a filter that matches nothing and a zero repeat") {
  std::ostringstream out, err;
  CHECK(run_cli({"bench", "ops", "--only", "nosuchop"}, out, err) == 2);
  CHECK(err.str().find("no workload name contains 'nosuchop'") != std::string::npos);
  CHECK(run_cli({"bench", "ops", "--repeat", "0"}, out, err) == 2);
}

// ---- tutor bench: whole-model workloads ----

TEST_CASE("cli: bench model FLOPs of resnet8 worked out by hand") {
  // 1x28x28 input, batch 1; a conv costs 2 * K * C * R * S * P * Q.
  const double stem = 2.0 * 16 * 1 * 9 * 28 * 28;           // 1->16 3x3, 28x28
  const double layer1 = 2 * (2.0 * 16 * 16 * 9 * 28 * 28);  // two 16->16 3x3, 28x28
  const double layer2 = 2.0 * 32 * 16 * 9 * 14 * 14         // 16->32 3x3/2 -> 14x14
                        + 2.0 * 32 * 32 * 9 * 14 * 14       // 32->32 3x3
                        + 2.0 * 32 * 16 * 1 * 14 * 14;      // shortcut 1x1/2
  const double layer3 =
      2.0 * 64 * 32 * 9 * 7 * 7 + 2.0 * 64 * 64 * 9 * 7 * 7 + 2.0 * 64 * 32 * 1 * 7 * 7;
  const double fc = 2.0 * 64 * 10;
  const double total = stem + layer1 + layer2 + layer3 + fc;
  CHECK(total == 18691840.0);
  ModelInput one{1, 1, 28, 10};
  CHECK(model_forward_flops("resnet8", one) == total);
  std::vector<Workload> layers = model_layers("resnet8", one);
  REQUIRE(layers.size() == 10);  // stem, 2 + 3 + 3 block convs, fc
  CHECK(layers[0].name == "conv1");
  CHECK(layers[5].name == "layer2.0.downsample.0");
  CHECK(layers[5].dims == std::vector<int64_t>{1, 16, 28, 28, 32, 1, 1, 2, 0});
  CHECK(layers[9].name == "fc");
  CHECK(model_forward_flops("resnet8", {128, 1, 28, 10}) == 128 * total);
}

TEST_CASE("cli: bench model FLOPs of the ResNets match PyTorch's forward hooks") {
  // Conv2d and Linear forward hooks summing 2 * out.numel() * in_channels * kh * kw (and
  // 2 * out.numel() * in_features) over CifarResNet (tools/golden/make_resnet_fixtures.py) and
  // torchvision's resnet18 and resnet50, batch 1.
  CHECK(model_forward_flops("resnet20", {1, 1, 28, 10}) == 62043904.0);
  CHECK(model_forward_flops("resnet18", {1, 3, 224, 1000}) == 3628146688.0);
  CHECK(model_forward_flops("resnet50", {1, 3, 224, 1000}) == 8178368512.0);
}

TEST_CASE("cli: bench model FLOPs of the transformers worked out by hand") {
  // vit_small28: patch conv 1->64 4x4/4 -> 49 tokens; per block qkv 49x64x192, attention
  // 2 * (2 * 4 heads * 49 * 49 * 16), proj 49x64x64, fc1 49x64x128, fc2 49x128x64; head 64x10.
  const double vit_block = 2.0 * 49 * 64 * 192 + 2 * (2.0 * 4 * 49 * 49 * 16) + 2.0 * 49 * 64 * 64 +
                           2 * (2.0 * 49 * 64 * 128);
  CHECK(model_forward_flops("vit_small28", {1, 1, 28, 10}) ==
        2.0 * 64 * 16 * 49 + 4 * vit_block + 2.0 * 64 * 10);
  // mixer_small28: token MLP on 64 rows of 49 -> 32 -> 49, channel MLP on 49 rows 64->128->64.
  const double mixer_block = 2 * (2.0 * 64 * 49 * 32) + 2 * (2.0 * 49 * 64 * 128);
  CHECK(model_forward_flops("mixer_small28", {1, 1, 28, 10}) ==
        2.0 * 64 * 16 * 49 + 4 * mixer_block + 2.0 * 64 * 10);
  // deit_tiny: patch conv 3->192 16x16/16 -> 196 patches + class token = 197 tokens, 3 heads
  // of 64, MLP 768, 12 blocks, head 192x1000.
  const double deit_block = 2.0 * 197 * 192 * 576 + 2 * (2.0 * 3 * 197 * 197 * 64) +
                            2.0 * 197 * 192 * 192 + 2 * (2.0 * 197 * 192 * 768);
  CHECK(model_forward_flops("deit_tiny", {1, 3, 224, 1000}) ==
        2.0 * 192 * 3 * 256 * 196 + 12 * deit_block + 2.0 * 192 * 1000);
  CHECK(model_forward_flops("deit_tiny", {1, 3, 224, 1000}) == 2507366400.0);
  CHECK_THROWS_WITH_AS(model_forward_flops("lenet", {}),
                       doctest::Contains("no FLOP count for model 'lenet'"), tutor::Error);
}

TEST_CASE("cli: bench step FLOPs: forward F, train 3F, KD F(teacher) + 3F(student)") {
  const ModelInput small{128, 1, 28, 10};
  const double r8 = model_forward_flops("resnet8", small),
               r20 = model_forward_flops("resnet20", small);
  CHECK(step_flops(find_model_workload("small/resnet20_teacher_fwd")) == r20);
  CHECK(step_flops(find_model_workload("small/resnet8_train")) == 3 * r8);
  CHECK(step_flops(find_model_workload("small/resnet8_kd_from_resnet20")) == r20 + 3 * r8);
}

TEST_CASE("cli: bench model workloads are benchmarks.md's table, filtered by suite and name") {
  const std::vector<std::string> expected{"small/resnet20_teacher_fwd",
                                          "small/resnet20_train",
                                          "small/resnet8_train",
                                          "small/resnet8_kd_from_resnet20",
                                          "small/vit_train",
                                          "small/vit_kd_from_resnet20",
                                          "small/mixer_train",
                                          "small/mixer_kd_from_resnet20",
                                          "large/resnet18_train",
                                          "large/resnet50_teacher_fwd",
                                          "large/resnet18_kd_from_resnet50",
                                          "large/deit_tiny_train",
                                          "large/mixer_s16_train",
                                          "large/resnet18_infer_bs1",
                                          "large/deit_tiny_infer_bs1"};
  const std::vector<ModelWorkload>& all = model_workloads();
  REQUIRE(all.size() == expected.size());
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].name == expected[i]);
    CHECK(all[i].name.starts_with(all[i].suite + "/"));
    CHECK(all[i].input.batch == (all[i].suite == "small"         ? 128
                                 : all[i].name.ends_with("_bs1") ? 1
                                                                 : 16));
    CHECK(all[i].input.size == (all[i].suite == "small" ? 28 : 224));
    CHECK(all[i].teacher.empty() == (all[i].kind != StepKind::kd));
    CHECK(step_flops(all[i]) > 0);  // every model has a FLOP count
  }
  CHECK(select_model_workloads("all", "").size() == 15);
  CHECK(select_model_workloads("small", "").size() == 8);
  CHECK(select_model_workloads("large", "").size() == 7);
  CHECK(select_model_workloads("large", "resnet18").size() == 3);
  CHECK(select_model_workloads("small", "resnet18").empty());
  std::vector<ModelWorkload> kd = select_model_workloads("all", "_kd_");
  CHECK(kd.size() == 4);
  const ModelWorkload& w = find_model_workload("large/resnet18_kd_from_resnet50");
  CHECK(w.kind == StepKind::kd);
  CHECK(w.model == "resnet18");
  CHECK(w.teacher == "resnet50");
  CHECK(model_workload_json(w) ==
        R"({"name":"large/resnet18_kd_from_resnet50","step":"kd","model":"resnet18",)"
        R"("teacher":"resnet50","batch":16,"channels":3,"size":224,"classes":1000})");
  CHECK_THROWS_WITH_AS(find_model_workload("small/lenet"),
                       doctest::Contains("unknown workload 'small/lenet'"), tutor::Error);
}

TEST_CASE("cli: bench rejects bad arguments") {
  using tutor::testing::run;
  tutor::testing::Run r = run({"bench", "--suite", "medium"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--suite must be small, large or all, got 'medium'") != std::string::npos);
  r = run({"bench", "--suite", "small", "--only", "resnet50"});
  CHECK(r.code == 2);
  CHECK(r.err.find("no workload of suite 'small' has a name containing 'resnet50'") !=
        std::string::npos);
  r = run({"bench", "--steps", "0"});
  CHECK(r.code == 2);
  CHECK(r.err.find("tutor bench: --steps must be between 1 and 100000, got 0") !=
        std::string::npos);
  CHECK(run({"bench", "--warmup", "-1"}).code == 2);
  CHECK(run({"bench", "--threads", "0"}).code == 2);
  CHECK(run({"bench", "--bogus"}).code == 2);
  // --worker is internal: accepted, but not in the help.
  r = run({"bench", "--help"});
  CHECK(r.code == 0);
  CHECK(r.out.find("--vs-pytorch") != std::string::npos);
  CHECK(r.out.find("--worker") == std::string::npos);
}

// The number after "key": at or after `from` in `json`; NaN when absent.
static double number_after(const std::string& json, const std::string& key, size_t from = 0) {
  size_t at = json.find("\"" + key + "\":", from);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(json.c_str() + at + key.size() + 3, nullptr);
}

static std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Points `tutor bench` at the real binary for its child processes, for one test.
struct WorkerBinary {
  WorkerBinary() { ::setenv("TUTOR_BENCH_WORKER", TUTOR_BIN_PATH, 1); }
  ~WorkerBinary() { ::unsetenv("TUTOR_BENCH_WORKER"); }
};

TEST_CASE("cli: bench runs resnet8's train step in a child process and writes sane JSON") {
  WorkerBinary worker;
  tutor::testing::ScratchDir scratch;
  std::filesystem::path json = scratch.dir / "bench.json";
  tutor::testing::Run r = tutor::testing::run({"bench", "--only", "small/resnet8_train", "--steps",
                                               "2", "--warmup", "1", "--json", json.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.starts_with("peak "));
  CHECK(r.out.find("\nsmall/resnet8_train ") != std::string::npos);
  CHECK(r.out.find("resnet20") == std::string::npos);
  std::string text = read_text(json);
  CHECK(text.find(R"("name":"small/resnet8_train","suite":"small","step":"train")") !=
        std::string::npos);
  CHECK(number_after(text, "peak_gflops") > 0);
  CHECK(number_after(text, "threads") == 2);
  CHECK(number_after(text, "gflop_per_step") == doctest::Approx(3 * 128 * 18691840.0 / 1e9));
  size_t tutor = text.find(R"("tutor":{)");
  REQUIRE(tutor != std::string::npos);
  const double ms = number_after(text, "ms", tutor);
  CHECK(ms > 0);
  CHECK(number_after(text, "images_per_s", tutor) == doctest::Approx(128 / (ms / 1e3)));
  CHECK(number_after(text, "gflops", tutor) > 0);
  CHECK(number_after(text, "percent_of_peak", tutor) > 0);
  CHECK(number_after(text, "peak_rss_mb", tutor) > 1);
  size_t runs = text.find(R"("runs_ms":[)", tutor);
  REQUIRE(runs != std::string::npos);
  CHECK(std::count(text.begin() + long(runs), text.begin() + long(text.find(']', runs)), ',') == 1);
  CHECK(text.find("pytorch") == std::string::npos);
}

// Every workload's model is in the registry now, so a row's error path ("tutor: create_model:
// unknown model ...") has no real case left to exercise; this checks a transformer row runs.
TEST_CASE("cli: bench runs a transformer workload (small/vit_train) without a row error") {
  WorkerBinary worker;
  tutor::testing::Run r =
      tutor::testing::run({"bench", "--only", "small/vit_train", "--steps", "1", "--warmup", "0"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("small/vit_train: tutor:") == std::string::npos);
  CHECK(r.out.find("     error") == std::string::npos);
}

TEST_CASE("cli: bench folds an eval-only model's BatchNorms unless --no-fuse, and says which") {
  WorkerBinary worker;
  tutor::testing::ScratchDir scratch;
  for (bool fuse : {true, false}) {
    std::filesystem::path json = scratch.dir / "bench.json";
    std::vector<std::string> args{"bench",   "--only", "small/resnet20_teacher_fwd",
                                  "--steps", "1",      "--warmup",
                                  "0",       "--json", json.string()};
    if (!fuse) args.push_back("--no-fuse");
    tutor::testing::Run r = tutor::testing::run(args);
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("\nsmall/resnet20_teacher_fwd ") != std::string::npos);
    CHECK((r.out.find("folded into their convs") != std::string::npos) == fuse);
    CHECK(read_text(json).find(fuse ? R"("tutor_fuse":true)" : R"("tutor_fuse":false)") !=
          std::string::npos);
  }
}

TEST_CASE("cli: bench --profile prints where the step time goes, by kernel") {
  WorkerBinary worker;
  tutor::testing::ScratchDir scratch;
  std::filesystem::path json = scratch.dir / "bench.json";
  tutor::testing::Run r =
      tutor::testing::run({"bench", "--only", "small/resnet8_train", "--steps", "2", "--warmup",
                           "1", "--profile", "--json", json.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  INFO(r.out);
  CHECK(r.out.find("\nprofile of small/resnet8_train: ") != std::string::npos);
  CHECK(r.out.find("\nconv2d_backward_weight ") != std::string::npos);
  CHECK(r.out.find("\n(outside kernels) ") != std::string::npos);
  std::string text = read_text(json);
  CHECK(text.find(R"("kernels":[{"kernel":")") != std::string::npos);
  // resnet8 has 9 convs (the stem, two per block, two shortcuts): 18 calls in the 2 timed steps.
  CHECK(text.find(R"("kernel":"conv2d","backend":"cpu","calls":18,)") != std::string::npos);
}

TEST_CASE("cli: bench kernel profiles round-trip through JSON and reject malformed entries") {
  using tutor::ops::KernelTime;
  std::vector<KernelTime> times{{"matmul", "cpu", 3, 1500}, {"add", "reference", 1, 0}};
  std::string text = tutor::cli::kernel_times_json(times).str();
  std::vector<KernelTime> back =
      tutor::cli::read_kernel_times(tutor::parse_json(text, "t"), "worker", "w");
  REQUIRE(back.size() == 2);
  CHECK(back[0].kernel == "matmul");
  CHECK(back[0].calls == 3);
  CHECK(back[0].ns == 1500);
  CHECK(back[1].backend == "reference");
  for (const char* bad :
       {R"({"kernel":"x"})", R"([{"kernel":"x","backend":"cpu","calls":0,"ns":1}])",
        R"([{"kernel":"x","backend":"cpu","calls":1}])"})
    tutor::testing::check_error(
        [&] { tutor::cli::read_kernel_times(tutor::parse_json(bad, "t"), "worker", "w"); },
        {"bench: worker: w: 'kernels'"});
}

TEST_CASE("cli: bench needs the tutor binary for its child processes") {
  ::unsetenv("TUTOR_BENCH_WORKER");
  tutor::testing::Run r = tutor::testing::run({"bench", "--only", "small/resnet8_train"});
  CHECK(r.code == 1);
  CHECK(r.err.find("set TUTOR_BENCH_WORKER to the tutor binary") != std::string::npos);
}

TEST_CASE("cli: bench --vs-pytorch runs PyTorch's resnet8 train step beside tutor's") {
  if (std::system("/usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: /usr/bin/python3 cannot import torch and torchvision");
    return;
  }
  WorkerBinary worker;
  tutor::testing::ScratchDir scratch;
  std::filesystem::path json = scratch.dir / "bench.json";
  tutor::testing::Run r =
      tutor::testing::run({"bench", "--only", "small/resnet8_train", "--steps", "1", "--warmup",
                           "0", "--vs-pytorch", "--json", json.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\nPyTorch 1.") != std::string::npos);
  CHECK(r.out.find("ratio = PyTorch ms / tutor ms") != std::string::npos);
  std::string text = read_text(json);
  CHECK(text.find(R"("torch":"1.)") != std::string::npos);
  size_t pytorch = text.find(R"("pytorch":{)");
  REQUIRE(pytorch != std::string::npos);
  const double torch_ms = number_after(text, "ms", pytorch);
  CHECK(torch_ms > 0);
  CHECK(number_after(text, "peak_rss_mb", pytorch) > 1);
  const double tutor_ms = number_after(text, "ms", text.find(R"("tutor":{)"));
  CHECK(number_after(text, "ratio") == doctest::Approx(torch_ms / tutor_ms));
  CHECK(number_after(text, "rss_ratio") > 0);
}
