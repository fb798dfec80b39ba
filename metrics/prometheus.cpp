#include "metrics/prometheus.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <stdexcept>

namespace oly::metrics {
namespace {

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// `name{a="x",b="y",le="0.5"} value\n`; `le` only when not empty, braces only when any label.
void append_sample(std::string& out, std::string_view name, const Labels& labels,
                   std::string_view le, double value) {
  out += name;
  if (!labels.empty() || !le.empty()) {
    char sep = '{';
    for (const auto& [label, v] : labels) {
      out += sep;
      out += label;
      out += "=\"";
      append_label_value(out, v);
      out += '"';
      sep = ',';
    }
    if (!le.empty()) {
      out += sep;
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_value(value);
  out += '\n';
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_letter(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter(c) || is_digit(c) || c == ':'; });
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !is_letter(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_letter(c) || is_digit(c); });
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char text[64];  // the longest shortest-round-trip double is 24 characters
  std::to_chars_result r;
  // Below 2^53 every whole number is a double of its own, so writing it as an integer is exact.
  if (std::trunc(v) == v && std::fabs(v) < 9007199254740992.0) {
    r = std::to_chars(text, text + sizeof text, static_cast<int64_t>(v));
  } else {
    // The fewest digits that read back to `v`, laid out as %g lays out at its default precision
    // (an exponent below 1e-4 and from 1e6 on): what Prometheus' Go client writes (strconv's
    // 'g', -1). Locale-independent, unlike printf and streams.
    r = std::to_chars(text, text + sizeof text, v, std::chars_format::general);
  }
  return std::string(text, r.ptr);
}

Exposition::Family& Exposition::add(std::string_view name, Type type, std::string_view help,
                                    const Labels& labels) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name " + quoted(name));
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    const std::string& label = sorted[i].first;
    const std::string where = " (metric " + quoted(name) + ")";
    if (!valid_label_name(label)) {
      throw std::invalid_argument("invalid label name " + quoted(label) + where);
    }
    if (i > 0 && sorted[i - 1].first == label) {
      throw std::invalid_argument("label " + quoted(label) + " given twice" + where);
    }
    if (type == Type::kHistogram && label == "le") {
      throw std::invalid_argument("label \"le\" is a histogram's own" + where);
    }
  }

  // The series names this family writes; none may belong to another family.
  std::vector<std::string> series;
  if (type == Type::kHistogram) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      series.push_back(std::string(name) + suffix);
    }
  } else {
    series.emplace_back(name);
  }
  for (const auto& s : series) {
    auto it = owner_.find(s);
    if (it != owner_.end() && it->second != name) {
      throw std::invalid_argument("metric " + quoted(name) + " clashes with metric " +
                                  quoted(it->second) + " (both write " + quoted(s) + ")");
    }
  }

  auto found = index_.find(name);
  if (found != index_.end()) {
    Family& f = families_[found->second];
    if (f.type != type) {
      throw std::invalid_argument("metric " + quoted(name) + " added again with another type");
    }
    if (f.help != help) {
      throw std::invalid_argument("metric " + quoted(name) + " added again with another help text");
    }
    if (!f.label_sets.insert(std::move(sorted)).second) {
      throw std::invalid_argument("metric " + quoted(name) + " added twice with the same labels");
    }
    return f;
  }
  // New family: nothing above threw, so the changes below are the only ones.
  for (auto& s : series) owner_.emplace(std::move(s), std::string(name));
  index_.emplace(std::string(name), families_.size());
  families_.push_back(Family{std::string(name), type, std::string(help), {std::move(sorted)}, {}});
  return families_.back();
}

void Exposition::add_single(std::string_view name, Type type, std::string_view help, double value,
                            const Labels& labels) {
  append_sample(add(name, type, help, labels).samples, name, labels, {}, value);
}

void Exposition::counter(std::string_view name, std::string_view help, double value,
                         const Labels& labels) {
  add_single(name, Type::kCounter, help, value, labels);
}

void Exposition::gauge(std::string_view name, std::string_view help, double value,
                       const Labels& labels) {
  add_single(name, Type::kGauge, help, value, labels);
}

void Exposition::untyped(std::string_view name, std::string_view help, double value,
                         const Labels& labels) {
  add_single(name, Type::kUntyped, help, value, labels);
}

void Exposition::histogram(std::string_view name, std::string_view help, const Histogram& h,
                           const Labels& labels) {
  std::string& out = add(name, Type::kHistogram, help, labels).samples;
  const std::string base(name);
  const std::vector<uint64_t> cumulative = h.cumulative_counts();
  const std::vector<double>& bounds = h.upper_bounds();
  for (size_t i = 0; i < cumulative.size(); ++i) {
    const std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
    append_sample(out, base + "_bucket", labels, le, static_cast<double>(cumulative[i]));
  }
  append_sample(out, base + "_sum", labels, {}, h.sum());
  append_sample(out, base + "_count", labels, {}, static_cast<double>(h.count()));
}

std::string Exposition::str() const {
  static constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram", "untyped"};
  std::string out;
  for (const Family& f : families_) {
    if (!f.help.empty()) {
      out += "# HELP " + f.name + ' ';
      append_help(out, f.help);
      out += '\n';
    }
    out += "# TYPE " + f.name + ' ' + kTypeNames[static_cast<int>(f.type)] + '\n';
    out += f.samples;
  }
  return out;
}

void add_counter_map(Exposition& e, std::string_view prefix,
                     const std::map<std::string, int64_t>& values,
                     const std::set<std::string>& gauges, const Labels& labels) {
  // Into a copy, so that a bad key leaves `e` as it was (as every Exposition method does).
  Exposition out = e;
  for (const auto& [key, value] : values) {
    std::string name = std::string(prefix) + key;
    const auto v = static_cast<double>(value);
    if (gauges.count(key)) {
      out.gauge(name, "Stats gauge " + key, v, labels);
    } else {
      if (!name.ends_with("_total")) name += "_total";
      out.counter(name, "Stats counter " + key, v, labels);
    }
  }
  e = std::move(out);
}

}  // namespace oly::metrics
