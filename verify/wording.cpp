#include "verify/wording.h"

#include <algorithm>
#include <cstdlib>

#include "verify/text.h"

namespace oly::verify {

Verdict verdict(std::string name) {
  Verdict v;
  v.guarantee = std::move(name);
  return v;
}

void example(Verdict& v, std::string s) {
  if (v.examples.size() < kMaxExamples) v.examples.push_back(std::move(s));
}

std::string plural(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Seconds since `start`, for people ("12.30 s").
std::string at_text(TimePoint t, TimePoint start) {
  return fixed(to_ms(t - start) / 1000.0, 2) + " s";
}

std::string ms_text(Duration d) { return fixed(to_ms(d), 1); }
std::string ms_text(const std::optional<Duration>& d) { return d ? ms_text(*d) : "-"; }
std::string spread_text(const Spread& s) {
  if (s.n == 0) return "-";
  return ms_text(s.p50) + "/" + ms_text(s.p99) + "/" + ms_text(s.max);
}

// freshness.cpp describes a read's time as "at t=<steady us>us": make it relative to `start`.
std::string relative_times(std::string s, TimePoint start) {
  const std::string mark = "at t=";
  for (size_t pos = s.find(mark); pos != std::string::npos; pos = s.find(mark, pos + 1)) {
    size_t digits = pos + mark.size();
    size_t end = digits;
    if (end < s.size() && s[end] == '-') ++end;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    if (end == digits || s.compare(end, 2, "us") != 0) continue;
    const int64_t us = std::strtoll(s.c_str() + digits, nullptr, 10);
    s.replace(pos, end + 2 - pos, "at " + at_text(from_us(us), start));
  }
  return s;
}

std::string describe_ack(const AckRecord& a, TimePoint start) {
  std::string what = a.key + (a.detail.empty() ? "" : " " + a.detail);
  return a.publisher + " seq " + std::to_string(a.seq) + " (" + what + ") acknowledged v" +
         std::to_string(a.version) + " via " + a.via + " at " + at_text(a.acked, start);
}

std::string describe_failure(const Failure& f, TimePoint start) {
  return f.node + " (" + f.how + ") at " + at_text(f.at, start);
}

const char* role_of(const Failure& f) {
  if (f.database) return "database";
  return f.was_master ? "master" : "peer";
}

// "fe1 25 fe2 25", config order first.
std::string split_text(const Split& s, const std::vector<std::string>& frontends) {
  if (!s.judged) return "-";
  std::string out;
  auto add = [&](const std::string& fe, size_t n) {
    out += (out.empty() ? "" : " ") + fe + " " + std::to_string(n);
  };
  for (const auto& fe : frontends) {
    auto it = s.tablets.find(fe);
    add(fe, it == s.tablets.end() ? 0 : it->second);
  }
  for (const auto& [fe, n] : s.tablets) {
    if (std::find(frontends.begin(), frontends.end(), fe) == frontends.end()) add(fe, n);
  }
  return out;
}


}  // namespace oly::verify
