#include "distill/objective.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "engine/core/error.h"

namespace tutor::distill {

namespace {

std::vector<std::string> keys_of(const std::map<std::string, std::string>& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}

double parse_number(const std::string& objective, const std::string& key,
                    const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  TUTOR_CHECK(!text.empty() && end == begin + text.size() && errno == 0,
              "objective {}: parameter '{}' must be a number, got '{}'", objective, key, text);
  return v;
}

}  // namespace

const Tensor& Inputs::at(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    std::vector<std::string> given;
    for (const auto& [k, v] : tensors_) given.push_back(k);
    fail("input '{}' is missing (given: {})", name,
         given.empty() ? std::string("none") : fmt::format("{}", fmt::join(given, ", ")));
  }
  return it->second;
}

Params::Params(const ObjectiveSpec& spec, std::map<std::string, std::string> values)
    : objective_(spec.name), values_(std::move(values)) {
  for (const ParamSpec& p : spec.params) defaults_[p.name] = p.default_value;
  for (const auto& [key, value] : values_)
    TUTOR_CHECK(defaults_.count(key), "objective {}: unknown parameter '{}' (known: {})",
                objective_, key,
                defaults_.empty() ? std::string("none")
                                  : fmt::format("{}", fmt::join(keys_of(defaults_), ", ")));
}

const std::string& Params::raw(const std::string& key) const {
  auto given = values_.find(key);
  if (given != values_.end()) return given->second;
  auto def = defaults_.find(key);
  TUTOR_CHECK(def != defaults_.end(), "objective {}: parameter '{}' is not in its spec",
              objective_, key);
  TUTOR_CHECK(!def->second.empty(), "objective {}: parameter '{}' is required", objective_,
              key);
  return def->second;
}

double Params::number(const std::string& key) const {
  return parse_number(objective_, key, raw(key));
}

int64_t Params::integer(const std::string& key) const {
  double v = number(key);
  TUTOR_CHECK(v == double(int64_t(v)), "objective {}: parameter '{}' must be an integer, got '{}'",
              objective_, key, raw(key));
  return int64_t(v);
}

bool Params::flag(const std::string& key) const {
  const std::string& v = raw(key);
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  fail("objective {}: parameter '{}' must be true or false, got '{}'", objective_, key, v);
}

std::string Params::text(const std::string& key) const { return raw(key); }

std::vector<double> Params::numbers(const std::string& key) const {
  std::vector<double> out;
  const std::string& v = raw(key);
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    std::string item = v.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" []"));
    item.erase(item.find_last_not_of(" []") + 1);
    out.push_back(parse_number(objective_, key, item));
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> Objective::inputs() const {
  std::vector<std::string> out;
  for (const InputSpec& in : spec().inputs)
    if (in.required) out.push_back(in.name);
  return out;
}

static std::vector<std::string> taps_of(const std::vector<std::string>& inputs,
                                        const std::string& owner) {
  std::vector<std::string> out;
  for (const std::string& name : inputs) {
    auto [who, tap] = split_input_name(name);
    if (who == owner && tap != "logits" &&
        std::find(out.begin(), out.end(), tap) == out.end())
      out.push_back(tap);
  }
  return out;
}

std::vector<std::string> Objective::student_taps() const { return taps_of(inputs(), "student"); }

std::vector<std::string> Objective::teacher_taps(int64_t teacher) const {
  return taps_of(inputs(), teacher_prefix(teacher));
}

std::vector<std::string> Objective::peer_taps(int64_t peer) const {
  return taps_of(inputs(), peer_prefix(peer));
}

const ObjectiveSpec& Objective::spec() const { return objective_spec(name_); }

// One line per objective in list.inc; each file defines `ObjectiveSpec <name>_objective()`.
#define TUTOR_OBJECTIVE(name) ObjectiveSpec name##_objective();
#include "distill/objectives/list.inc"
#undef TUTOR_OBJECTIVE

const std::vector<ObjectiveSpec>& objective_specs() {
  static const std::vector<ObjectiveSpec> specs = [] {
    std::vector<ObjectiveSpec> all = {
#define TUTOR_OBJECTIVE(name) name##_objective(),
#include "distill/objectives/list.inc"
#undef TUTOR_OBJECTIVE
    };
    std::set<std::string> names;
    for (const ObjectiveSpec& s : all)
      TUTOR_CHECK(names.insert(s.name).second, "objective '{}' is registered twice", s.name);
    std::sort(all.begin(), all.end(),
              [](const ObjectiveSpec& a, const ObjectiveSpec& b) { return a.name < b.name; });
    return all;
  }();
  return specs;
}

const ObjectiveSpec& objective_spec(const std::string& name) {
  for (const ObjectiveSpec& s : objective_specs())
    if (s.name == name) return s;
  std::vector<std::string> known;
  for (const ObjectiveSpec& s : objective_specs()) known.push_back(s.name);
  fail("unknown objective '{}' (known: {})", name, fmt::join(known, ", "));
}

std::shared_ptr<Objective> make_objective(const std::string& name,
                                          const std::map<std::string, std::string>& values,
                                          const Shapes& shapes) {
  const ObjectiveSpec& spec = objective_spec(name);
  return spec.make(Params(spec, values), shapes);
}

std::string teacher_prefix(int64_t k) { return k == 0 ? "teacher" : fmt::format("teacher{}", k); }

std::string peer_prefix(int64_t p) { return p == 0 ? "peer" : fmt::format("peer{}", p); }

int64_t prefix_index(const std::string& owner, const std::string& base) {
  if (owner.rfind(base, 0) != 0) return -1;
  if (owner.size() == base.size()) return 0;
  std::string digits = owner.substr(base.size());
  // "teacher0" and "teacher01" name no teacher: teacher 0 is "teacher".
  if (digits.size() > 9 || digits.front() == '0' ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(digits);
}

std::pair<std::string, std::string> split_input_name(const std::string& name) {
  size_t dot = name.find('.');
  if (dot == std::string::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

}  // namespace tutor::distill
