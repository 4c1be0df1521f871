// `tutor bench ops`: the FLOP and byte formulas against hand-computed values, the median, the
// workload list and its JSON form, and one quick end-to-end run. No timing is asserted.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/core/error.h"
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
  }
  std::vector<Workload> one = filter_workloads(all, "matmul_256");
  REQUIRE(one.size() == 1);
  CHECK(one[0].dims == std::vector<int64_t>{256, 256, 256});
  CHECK(filter_workloads(all, "").size() == all.size());
  CHECK(filter_workloads(all, "conv_r18").size() == 16);
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

TEST_CASE("cli: bench ops rejects a filter that matches nothing and a zero repeat") {
  std::ostringstream out, err;
  CHECK(run_cli({"bench", "ops", "--only", "nosuchop"}, out, err) == 2);
  CHECK(err.str().find("no workload name contains 'nosuchop'") != std::string::npos);
  CHECK(run_cli({"bench", "ops", "--repeat", "0"}, out, err) == 2);
}
