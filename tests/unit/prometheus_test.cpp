// Prometheus text exposition format 0.0.4 (metrics/prometheus.h) and its Histogram
// (metrics/histogram.h): exact text for each rule, and every rendering read back by a small
// parser of the format (promtool is not packaged for Debian 12).
#include "metrics/prometheus.h"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "metrics/histogram.h"

namespace oly::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// --- A reader of the text format, independent of the writer ------------------------------------

struct ParsedSample {
  std::string name;
  Labels labels;  // as written, escapes undone
  double value = 0;
};

struct ParsedFamily {
  std::string name, type, help;
  bool has_help = false;
  std::vector<ParsedSample> samples;
};

bool is_name_char(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         (colon && c == ':');
}

// Reads a metric or label name at `line[pos]`, advancing pos; "" if none.
std::string read_name(const std::string& line, size_t& pos, bool colon) {
  const size_t start = pos;
  while (pos < line.size() && is_name_char(line[pos], colon)) ++pos;
  return line.substr(start, pos - start);
}

// The value grammar: NaN, +Inf, -Inf or a float strtod reads whole.
bool read_value(const std::string& text, double& out) {
  if (text == "NaN" || text == "+Inf" || text == "-Inf") {
    out = text == "NaN" ? kNaN : text == "+Inf" ? kInf : -kInf;
    return true;
  }
  if (text.empty() || text.find_first_not_of("0123456789.eE+-") != std::string::npos) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// Parses `text` strictly as this module should write it: every line HELP, TYPE or a sample, each
// family one contiguous group opened by its TYPE (HELP before it when present), no family twice,
// histogram series named after their family. Reports each violation as a test failure.
std::vector<ParsedFamily> parse(const std::string& text) {
  std::vector<ParsedFamily> families;
  std::map<std::string, int> seen;
  if (!text.empty() && text.back() != '\n') ADD_FAILURE() << "text does not end with a newline";
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    SCOPED_TRACE("line: " + line);
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      size_t pos = 7;
      const std::string name = read_name(line, pos, true);
      if (name.empty() || pos >= line.size() || line[pos] != ' ') {
        ADD_FAILURE() << "bad HELP/TYPE line";
        continue;
      }
      const std::string rest = line.substr(pos + 1);
      const bool help = line[2] == 'H';
      // A HELP opens a family; a TYPE opens one unless the family's HELP just came.
      const bool continues = !help && !families.empty() && families.back().name == name &&
                             families.back().type.empty() && families.back().samples.empty();
      if (!continues) {
        if (seen[name]++) ADD_FAILURE() << "family " << name << " appears twice";
        families.push_back({name, "", "", false, {}});
      }
      ParsedFamily& f = families.back();
      if (help) {
        f.has_help = true;
        for (size_t i = 0; i < rest.size(); ++i) {
          if (rest[i] != '\\') {
            f.help += rest[i];
          } else if (i + 1 < rest.size() && (rest[i + 1] == '\\' || rest[i + 1] == 'n')) {
            f.help += rest[++i] == 'n' ? '\n' : '\\';
          } else {
            ADD_FAILURE() << "bad escape in HELP";
          }
        }
      } else {
        if (rest != "counter" && rest != "gauge" && rest != "histogram" && rest != "untyped") {
          ADD_FAILURE() << "bad type " << rest;
        }
        f.type = rest;
      }
      continue;
    }
    if (line.empty() || line[0] == '#') {
      ADD_FAILURE() << "unexpected line";
      continue;
    }
    ParsedSample s;
    size_t pos = 0;
    s.name = read_name(line, pos, true);
    if (s.name.empty() || (s.name[0] >= '0' && s.name[0] <= '9')) ADD_FAILURE() << "bad name";
    if (pos < line.size() && line[pos] == '{') {
      ++pos;
      while (true) {
        std::string label = read_name(line, pos, false);
        if (label.empty() || pos + 1 >= line.size() || line.compare(pos, 2, "=\"") != 0) {
          ADD_FAILURE() << "bad label at " << pos;
          break;
        }
        pos += 2;
        std::string value;
        while (pos < line.size() && line[pos] != '"') {
          if (line[pos] == '\\' && pos + 1 < line.size()) {
            const char e = line[++pos];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              ADD_FAILURE() << "bad escape in a label value";
            }
          } else {
            value += line[pos];
          }
          ++pos;
        }
        ++pos;  // the closing quote
        for (const auto& [l, v] : s.labels) {
          if (l == label) ADD_FAILURE() << "label " << label << " twice";
        }
        s.labels.emplace_back(std::move(label), std::move(value));
        if (pos < line.size() && line[pos] == ',') {
          ++pos;
        } else {
          break;
        }
      }
      if (pos >= line.size() || line[pos] != '}') ADD_FAILURE() << "labels not closed";
      ++pos;
    }
    if (pos >= line.size() || line[pos] != ' ') {
      ADD_FAILURE() << "no space before the value";
      continue;
    }
    if (!read_value(line.substr(pos + 1), s.value)) ADD_FAILURE() << "bad value";
    if (families.empty() || families.back().type.empty()) {
      ADD_FAILURE() << "sample outside a typed family";
      continue;
    }
    ParsedFamily& f = families.back();
    const bool belongs = f.type == "histogram"
                             ? (s.name == f.name + "_bucket" || s.name == f.name + "_sum" ||
                                s.name == f.name + "_count")
                             : s.name == f.name;
    if (!belongs) ADD_FAILURE() << "sample " << s.name << " in family " << f.name;
    f.samples.push_back(std::move(s));
  }
  return families;
}

// A histogram family's series, by label set without "le": bucket counts ascending with their
// bounds, the last bucket +Inf and equal to _count, and a _sum.
void check_histogram(const ParsedFamily& f) {
  SCOPED_TRACE("histogram " + f.name);
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // (le, count)
    int sums = 0, counts = 0;
    double count = 0;
  };
  std::map<Labels, Series> series;
  for (const ParsedSample& s : f.samples) {
    Labels labels;
    std::string le;
    for (const auto& [l, v] : s.labels) {
      if (l == "le") {
        le = v;
      } else {
        labels.emplace_back(l, v);
      }
    }
    Series& ser = series[labels];
    if (s.name == f.name + "_bucket") {
      double bound = 0;
      ASSERT_TRUE(read_value(le, bound)) << "le=" << le;
      EXPECT_EQ(s.labels.back().first, "le") << "le is not the last label";
      ser.buckets.emplace_back(bound, s.value);
    } else if (s.name == f.name + "_sum") {
      ++ser.sums;
    } else {
      ++ser.counts;
      ser.count = s.value;
    }
  }
  for (const auto& [labels, ser] : series) {
    ASSERT_FALSE(ser.buckets.empty());
    for (size_t i = 1; i < ser.buckets.size(); ++i) {
      EXPECT_LT(ser.buckets[i - 1].first, ser.buckets[i].first);
      EXPECT_LE(ser.buckets[i - 1].second, ser.buckets[i].second);
    }
    EXPECT_EQ(ser.buckets.back().first, kInf);
    EXPECT_EQ(ser.buckets.back().second, ser.count);
    EXPECT_EQ(ser.sums, 1);
    EXPECT_EQ(ser.counts, 1);
  }
}

// --- Histogram ----------------------------------------------------------------------------------

TEST(Histogram, CountsCumulativelyWithAnImplicitInfBucket) {
  Histogram h(std::vector<double>{0.25, 0.5, 1});
  for (double v : {0.125, 0.375, 0.375, 2.0, 100.0}) h.observe(v);
  EXPECT_EQ(h.cumulative_counts(), (std::vector<uint64_t>{1, 3, 3, 5}));
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sum(), 102.875);
  EXPECT_EQ(h.rejected(), 0u);
}

TEST(Histogram, ValueExactlyOnABoundCountsInThatBucket) {
  Histogram h(std::vector<double>{0.25, 0.5, 1});
  h.observe(0.25);
  h.observe(1);
  h.observe(0);  // on no bound, but below the first: the first bucket
  EXPECT_EQ(h.cumulative_counts(), (std::vector<uint64_t>{2, 2, 3, 3}));
  Histogram latency;  // the default bounds, literally the same doubles
  latency.observe(0.001);
  latency.observe(2.5);
  const auto c = latency.cumulative_counts();
  EXPECT_EQ(c[2], 0u);   // le 0.0005
  EXPECT_EQ(c[3], 1u);   // le 0.001
  EXPECT_EQ(c[12], 1u);  // le 1
  EXPECT_EQ(c[13], 2u);  // le 2.5
}

TEST(Histogram, QuantileIsTheBoundOfTheFirstBucketHoldingThatShare) {
  const std::array<double, 3> bounds = {0.001, 0.01, 0.1};
  Histogram h(bounds);
  EXPECT_EQ(h.quantile(0.5), 0);  // none yet
  for (int i = 0; i < 90; ++i) h.observe(0.0005);
  for (int i = 0; i < 9; ++i) h.observe(0.005);
  h.observe(7.0);
  EXPECT_EQ(h.quantile(0.5), 0.001);
  EXPECT_EQ(h.quantile(0.9), 0.001);
  EXPECT_EQ(h.quantile(0.99), 0.01);
  EXPECT_EQ(h.quantile(1.0), std::numeric_limits<double>::infinity());
}

TEST(Histogram, IgnoresNaNNegativeAndInfiniteObservations) {
  Histogram h(std::vector<double>{1});
  h.observe(0.5);
  for (double bad : {kNaN, -0.001, -kInf, kInf}) h.observe(bad);
  h.observe(-0.0);  // zero, with a sign: accepted
  EXPECT_EQ(h.cumulative_counts(), (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.sum(), 0.5);
  EXPECT_EQ(h.rejected(), 4u);
}

TEST(Histogram, ObservesDurationsAsSeconds) {
  Histogram h;
  h.observe(std::chrono::microseconds(250));
  h.observe(std::chrono::milliseconds(2));
  EXPECT_EQ(h.count(), 2u);
  EXPECT_DOUBLE_EQ(h.sum(), 0.00225);
  EXPECT_EQ(h.cumulative_counts()[1], 1u);  // le 0.00025
  EXPECT_EQ(h.cumulative_counts()[4], 2u);  // le 0.0025
}

TEST(Histogram, DefaultBoundsAreTheServiceLatencyBuckets) {
  const std::vector<double> expected = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                        0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
  EXPECT_EQ(Histogram().upper_bounds(), expected);
  EXPECT_EQ(Histogram().cumulative_counts(), std::vector<uint64_t>(15, 0));
  Histogram only_inf(std::vector<double>{});
  only_inf.observe(7);
  EXPECT_EQ(only_inf.cumulative_counts(), std::vector<uint64_t>{1});
}

TEST(Histogram, RefusesBoundsThatAreNotFiniteNonNegativeAndAscending) {
  using V = std::vector<double>;
  for (const V& bad : {V{1, 1}, V{2, 1}, V{0.1, kNaN}, V{1, kInf}, V{-1, 1}}) {
    EXPECT_THROW(Histogram{bad}, std::invalid_argument) << ::testing::PrintToString(bad);
  }
  try {
    Histogram h(V{0.5, 0.25});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "histogram bound #1 (0.25) is not greater than the bound before it");
  }
  EXPECT_EQ(Histogram(V({0, 0.5})).upper_bounds(), V({0, 0.5}));
}

// --- Numbers -----------------------------------------------------------------------------------

TEST(FormatValue, WritesWholeNumbersAsIntegers) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-0.0), "0");
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-7), "-7");
  EXPECT_EQ(format_value(1234567), "1234567");
  EXPECT_EQ(format_value(1e15), "1000000000000000");
  EXPECT_EQ(format_value(9007199254740991.0), "9007199254740991");  // 2^53 - 1
  // From 2^53 on, not every integer is a double: the shortest form.
  EXPECT_EQ(format_value(9007199254740992.0), "9.007199254740992e+15");
  EXPECT_EQ(format_value(1e20), "1e+20");
  EXPECT_EQ(format_value(-1e20), "-1e+20");
}

TEST(FormatValue, WritesFractionsInTheShortestFormThatReadsBack) {
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(2.5), "2.5");
  EXPECT_EQ(format_value(-0.5), "-0.5");
  EXPECT_EQ(format_value(0.0001), "0.0001");
  EXPECT_EQ(format_value(0.00025), "0.00025");
  EXPECT_EQ(format_value(0.00001), "1e-05");
  EXPECT_EQ(format_value(0.000012), "1.2e-05");
  EXPECT_EQ(format_value(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_value(123456.5), "123456.5");
  EXPECT_EQ(format_value(1234567.5), "1.2345675e+06");  // as Prometheus' Go client writes it
  EXPECT_EQ(format_value(1.5e300), "1.5e+300");
  EXPECT_EQ(format_value(5e-324), "5e-324");
  EXPECT_EQ(format_value(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
}

TEST(FormatValue, WritesSpecialValuesAsPrometheusSpellsThem) {
  EXPECT_EQ(format_value(kNaN), "NaN");
  EXPECT_EQ(format_value(-kNaN), "NaN");
  EXPECT_EQ(format_value(kInf), "+Inf");
  EXPECT_EQ(format_value(-kInf), "-Inf");
}

TEST(FormatValue, EveryDoubleReadsBackExactly) {
  const uint64_t seed = 20240726;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> moderate(-1e6, 1e6);
  for (int i = 0; i < 40000; ++i) {
    // Any bit pattern (NaNs, infinities, subnormals included); milli-units; any real number of
    // moderate size; integers of every magnitude (the integer path and the edge at 2^53).
    double v = 0;
    switch (i % 4) {
      case 0:
        v = std::bit_cast<double>(rng());
        break;
      case 1:
        v = static_cast<double>(rng() % 100000000) / 1000;
        break;
      case 2:
        v = moderate(rng);
        break;
      default:
        v = static_cast<double>(static_cast<int64_t>(rng()) >> (rng() % 64));
        break;
    }
    const std::string text = format_value(v);
    double back = 0;
    ASSERT_TRUE(read_value(text, back)) << text;
    if (std::isnan(v)) {
      EXPECT_TRUE(std::isnan(back)) << text;
    } else {
      EXPECT_EQ(back, v) << text;
    }
  }
}

// --- Exposition: exact text ---------------------------------------------------------------------

TEST(Exposition, IsEmptyWhenNothingWasAdded) {
  EXPECT_EQ(Exposition().str(), "");
}

TEST(Exposition, RendersACounterWithHelpTypeAndLabels) {
  Exposition e;
  e.counter("oly_cache_hits_total", "Reads served from the cache", 42,
            {{"node", "fe1"}, {"mode", "push"}});
  EXPECT_EQ(e.str(),
            "# HELP oly_cache_hits_total Reads served from the cache\n"
            "# TYPE oly_cache_hits_total counter\n"
            "oly_cache_hits_total{node=\"fe1\",mode=\"push\"} 42\n");
}

TEST(Exposition, RendersGaugesAndUntypedMetricsWithoutBracesWhenUnlabelled) {
  Exposition e;
  e.gauge("oly_queue_depth", "Requests waiting", 3);
  e.gauge("oly_lag_seconds", "How far behind", 0.25);
  e.untyped("oly:ratio", "A recorded ratio", kNaN);
  e.gauge("oly_temperature", "Colder than ever", -kInf);
  EXPECT_EQ(e.str(),
            "# HELP oly_queue_depth Requests waiting\n"
            "# TYPE oly_queue_depth gauge\n"
            "oly_queue_depth 3\n"
            "# HELP oly_lag_seconds How far behind\n"
            "# TYPE oly_lag_seconds gauge\n"
            "oly_lag_seconds 0.25\n"
            "# HELP oly:ratio A recorded ratio\n"
            "# TYPE oly:ratio untyped\n"
            "oly:ratio NaN\n"
            "# HELP oly_temperature Colder than ever\n"
            "# TYPE oly_temperature gauge\n"
            "oly_temperature -Inf\n");
}

TEST(Exposition, EscapesBackslashQuoteAndNewlineInLabelValues) {
  Exposition e;
  e.gauge("g", "h", 1, {{"path", "C:\\dir\\"}, {"say", "\"hi\"\nthere"}, {"team", "Gaulois é"}});
  EXPECT_EQ(e.str(),
            "# HELP g h\n# TYPE g gauge\n"
            "g{path=\"C:\\\\dir\\\\\",say=\"\\\"hi\\\"\\nthere\",team=\"Gaulois é\"} 1\n");
}

TEST(Exposition, EscapesBackslashAndNewlineInHelpButNotQuotes) {
  Exposition e;
  e.counter("c_total", "Line one\nline \"two\" with a \\ backslash", 0);
  EXPECT_EQ(e.str(),
            "# HELP c_total Line one\\nline \"two\" with a \\\\ backslash\n"
            "# TYPE c_total counter\n"
            "c_total 0\n");
}

TEST(Exposition, OmitsHelpWhenEmpty) {
  Exposition e;
  e.counter("c_total", "", 5);
  EXPECT_EQ(e.str(), "# TYPE c_total counter\nc_total 5\n");
}

TEST(Exposition, WritesHelpAndTypeOncePerFamilyWithSeveralLabelSets) {
  Exposition e;
  e.counter("reads_total", "Reads", 10, {{"node", "fe1"}});
  e.gauge("epoch", "Epoch", 3);
  e.counter("reads_total", "Reads", 20, {{"node", "fe2"}});  // after another family: grouped
  e.counter("reads_total", "Reads", 1);                      // no labels is a label set too
  EXPECT_EQ(e.str(),
            "# HELP reads_total Reads\n"
            "# TYPE reads_total counter\n"
            "reads_total{node=\"fe1\"} 10\n"
            "reads_total{node=\"fe2\"} 20\n"
            "reads_total 1\n"
            "# HELP epoch Epoch\n"
            "# TYPE epoch gauge\n"
            "epoch 3\n");
}

TEST(Exposition, RendersHistogramBucketsCumulativelyThenSumAndCount) {
  Histogram h(std::vector<double>{0.25, 0.5, 1});
  // Two values on a bound (0.25, 0.5), one above every bound; binary fractions, so the sum is
  // exact.
  for (double v : {0.125, 0.25, 0.375, 0.5, 2.0}) h.observe(v);
  Exposition e;
  e.histogram("oly_read_latency_seconds", "Time to answer a read", h,
              {{"node", "fe1"}, {"op", "read"}});
  EXPECT_EQ(e.str(),
            "# HELP oly_read_latency_seconds Time to answer a read\n"
            "# TYPE oly_read_latency_seconds histogram\n"
            "oly_read_latency_seconds_bucket{node=\"fe1\",op=\"read\",le=\"0.25\"} 2\n"
            "oly_read_latency_seconds_bucket{node=\"fe1\",op=\"read\",le=\"0.5\"} 4\n"
            "oly_read_latency_seconds_bucket{node=\"fe1\",op=\"read\",le=\"1\"} 4\n"
            "oly_read_latency_seconds_bucket{node=\"fe1\",op=\"read\",le=\"+Inf\"} 5\n"
            "oly_read_latency_seconds_sum{node=\"fe1\",op=\"read\"} 3.25\n"
            "oly_read_latency_seconds_count{node=\"fe1\",op=\"read\"} 5\n");
}

TEST(Exposition, RendersTheDefaultBoundsAndAnUnlabelledHistogram) {
  Histogram h;
  h.observe(0.0001);  // on the first bound
  h.observe(0.003);
  h.observe(10);
  Exposition e;
  e.histogram("lat_seconds", "", h);
  EXPECT_EQ(e.str(),
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"0.0001\"} 1\n"
            "lat_seconds_bucket{le=\"0.00025\"} 1\n"
            "lat_seconds_bucket{le=\"0.0005\"} 1\n"
            "lat_seconds_bucket{le=\"0.001\"} 1\n"
            "lat_seconds_bucket{le=\"0.0025\"} 1\n"
            "lat_seconds_bucket{le=\"0.005\"} 2\n"
            "lat_seconds_bucket{le=\"0.01\"} 2\n"
            "lat_seconds_bucket{le=\"0.025\"} 2\n"
            "lat_seconds_bucket{le=\"0.05\"} 2\n"
            "lat_seconds_bucket{le=\"0.1\"} 2\n"
            "lat_seconds_bucket{le=\"0.25\"} 2\n"
            "lat_seconds_bucket{le=\"0.5\"} 2\n"
            "lat_seconds_bucket{le=\"1\"} 2\n"
            "lat_seconds_bucket{le=\"2.5\"} 2\n"
            "lat_seconds_bucket{le=\"+Inf\"} 3\n"
            "lat_seconds_sum 10.0031\n"
            "lat_seconds_count 3\n");
}

TEST(Exposition, GroupsAHistogramsLabelSetsUnderOneHelpAndType) {
  Histogram a(std::vector<double>{1}), b(std::vector<double>{1});
  a.observe(0.5);
  b.observe(4);
  Exposition e;
  e.histogram("rtt_seconds", "Round trips", a, {{"peer", "fe2"}});
  e.histogram("rtt_seconds", "Round trips", b, {{"peer", "fe3"}});
  EXPECT_EQ(e.str(),
            "# HELP rtt_seconds Round trips\n"
            "# TYPE rtt_seconds histogram\n"
            "rtt_seconds_bucket{peer=\"fe2\",le=\"1\"} 1\n"
            "rtt_seconds_bucket{peer=\"fe2\",le=\"+Inf\"} 1\n"
            "rtt_seconds_sum{peer=\"fe2\"} 0.5\n"
            "rtt_seconds_count{peer=\"fe2\"} 1\n"
            "rtt_seconds_bucket{peer=\"fe3\",le=\"1\"} 0\n"
            "rtt_seconds_bucket{peer=\"fe3\",le=\"+Inf\"} 1\n"
            "rtt_seconds_sum{peer=\"fe3\"} 4\n"
            "rtt_seconds_count{peer=\"fe3\"} 1\n");
}

// --- Exposition: names and conflicts ------------------------------------------------------------

// The message of the std::invalid_argument that f throws, or "" (a test failure) if none.
template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::invalid_argument";
  return "";
}

TEST(Exposition, AcceptsNamesThePrometheusRulesAllow) {
  for (const char* name : {"a", "_", ":", "a:b_c9", "Oly_Total", "__meta", "_1"}) {
    EXPECT_TRUE(valid_metric_name(name)) << name;
  }
  for (const char* name : {"a", "_", "_x", "node", "N0DE_9"}) {
    EXPECT_TRUE(valid_label_name(name)) << name;
  }
  Exposition e;
  EXPECT_NO_THROW(e.counter("a:b_c9", "h", 1, {{"_x", ""}, {"le", "1"}}));  // le: not a histogram
}

TEST(Exposition, RefusesInvalidMetricNamesNamingThem) {
  for (const char* bad : {"", "9lives", "oly-cache", "oly cache", "oly.cache", "é", "a\nb"}) {
    EXPECT_FALSE(valid_metric_name(bad)) << bad;
    Exposition e;
    EXPECT_EQ(refusal([&] { e.counter(bad, "h", 1); }),
              "invalid metric name \"" + std::string(bad) + "\"");
    EXPECT_EQ(refusal([&] { e.histogram(bad, "h", Histogram()); }),
              "invalid metric name \"" + std::string(bad) + "\"");
    EXPECT_EQ(e.str(), "");
  }
}

TEST(Exposition, RefusesInvalidLabelNamesNamingThem) {
  for (const char* bad : {"", "__name__", "__x", "1a", "a:b", "a-b", "nöde"}) {
    EXPECT_FALSE(valid_label_name(bad)) << bad;
    Exposition e;
    EXPECT_EQ(refusal([&] {
                e.gauge("g", "h", 1, {{"node", "fe1"}, {bad, "v"}});
              }),
              "invalid label name \"" + std::string(bad) + "\" (metric \"g\")");
  }
  Exposition e;
  EXPECT_EQ(refusal([&] {
              e.gauge("g", "h", 1, {{"node", "fe1"}, {"node", "fe2"}});
            }),
            "label \"node\" given twice (metric \"g\")");
  EXPECT_EQ(refusal([&] {
              e.histogram("lat", "h", Histogram(), {{"le", "1"}});
            }),
            "label \"le\" is a histogram's own (metric \"lat\")");
  EXPECT_EQ(e.str(), "");
}

TEST(Exposition, RefusesARepeatedSeriesOrAFamilyAddedInconsistently) {
  Exposition e;
  e.counter("reads_total", "Reads", 1, {{"node", "fe1"}, {"op", "get"}});
  e.histogram("lat", "Latency", Histogram());
  const std::string before = e.str();
  // The same labels in another order are the same series.
  EXPECT_EQ(refusal([&] {
              e.counter("reads_total", "Reads", 2, {{"op", "get"}, {"node", "fe1"}});
            }),
            "metric \"reads_total\" added twice with the same labels");
  EXPECT_EQ(refusal([&] {
              e.gauge("reads_total", "Reads", 2, {{"node", "fe2"}});
            }),
            "metric \"reads_total\" added again with another type");
  EXPECT_EQ(refusal([&] {
              e.counter("reads_total", "Other", 2, {{"node", "fe2"}});
            }),
            "metric \"reads_total\" added again with another help text");
  EXPECT_EQ(refusal([&] { e.histogram("lat", "Latency", Histogram()); }),
            "metric \"lat\" added twice with the same labels");
  // A histogram's series names belong to it, both ways round.
  EXPECT_EQ(refusal([&] { e.counter("lat_count", "h", 1); }),
            "metric \"lat_count\" clashes with metric \"lat\" (both write \"lat_count\")");
  e.gauge("x_sum", "h", 1);
  EXPECT_EQ(refusal([&] { e.histogram("x", "h", Histogram()); }),
            "metric \"x\" clashes with metric \"x_sum\" (both write \"x_sum\")");
  e.counter("reads_total", "Reads", 2, {{"node", "fe2"}, {"op", "get"}});  // still usable
  EXPECT_EQ(e.str(), before.substr(0, before.find("# HELP lat")) +
                         "reads_total{node=\"fe2\",op=\"get\"} 2\n" +
                         before.substr(before.find("# HELP lat")) +
                         "# HELP x_sum h\n# TYPE x_sum gauge\nx_sum 1\n");
}

// --- The counter-map helper ---------------------------------------------------------------------

TEST(CounterMap, AddsCountersWithTotalAndGaugesUnderAPrefix) {
  const std::map<std::string, int64_t> stats = {
      {"cache_hits", 12}, {"polls_sent", 0}, {"epoch", 3}, {"queue_depth", -1}, {"bytes_total", 5}};
  Exposition e;
  add_counter_map(e, "oly_fe_", stats, {"epoch", "queue_depth", "not_there"}, {{"node", "fe1"}});
  EXPECT_EQ(e.str(),
            "# HELP oly_fe_bytes_total Stats counter bytes_total\n"
            "# TYPE oly_fe_bytes_total counter\n"
            "oly_fe_bytes_total{node=\"fe1\"} 5\n"
            "# HELP oly_fe_cache_hits_total Stats counter cache_hits\n"
            "# TYPE oly_fe_cache_hits_total counter\n"
            "oly_fe_cache_hits_total{node=\"fe1\"} 12\n"
            "# HELP oly_fe_epoch Stats gauge epoch\n"
            "# TYPE oly_fe_epoch gauge\n"
            "oly_fe_epoch{node=\"fe1\"} 3\n"
            "# HELP oly_fe_polls_sent_total Stats counter polls_sent\n"
            "# TYPE oly_fe_polls_sent_total counter\n"
            "oly_fe_polls_sent_total{node=\"fe1\"} 0\n"
            "# HELP oly_fe_queue_depth Stats gauge queue_depth\n"
            "# TYPE oly_fe_queue_depth gauge\n"
            "oly_fe_queue_depth{node=\"fe1\"} -1\n");
}

TEST(CounterMap, AddsASecondLabelSetToTheSameFamilies) {
  Exposition e;
  add_counter_map(e, "oly_", {{"reads", 1}, {"epoch", 7}}, {"epoch"}, {{"node", "fe1"}});
  add_counter_map(e, "oly_", {{"reads", 2}, {"epoch", 8}}, {"epoch"}, {{"node", "fe2"}});
  EXPECT_EQ(e.str(),
            "# HELP oly_epoch Stats gauge epoch\n"
            "# TYPE oly_epoch gauge\n"
            "oly_epoch{node=\"fe1\"} 7\n"
            "oly_epoch{node=\"fe2\"} 8\n"
            "# HELP oly_reads_total Stats counter reads\n"
            "# TYPE oly_reads_total counter\n"
            "oly_reads_total{node=\"fe1\"} 1\n"
            "oly_reads_total{node=\"fe2\"} 2\n");
}

TEST(CounterMap, RefusesAKeyThatMakesAnInvalidNameAndAddsNothing) {
  Exposition e;
  e.gauge("up", "Up", 1);
  // "on_fe-1": a key built from a front end's id; the keys before it ("a", "b") are not added.
  EXPECT_EQ(refusal([&] {
              add_counter_map(e, "oly_", {{"a", 1}, {"b", 2}, {"on_fe-1", 3}}, {});
            }),
            "invalid metric name \"oly_on_fe-1_total\"");
  EXPECT_EQ(e.str(), "# HELP up Up\n# TYPE up gauge\nup 1\n");
}

// --- Everything together, read back -------------------------------------------------------------

TEST(Exposition, ReadsBackThroughAnIndependentParser) {
  Histogram fast(std::vector<double>{0.001, 0.01}), slow;
  for (double v : {0.0005, 0.001, 0.02, kNaN}) fast.observe(v);
  for (double v : {0.3, 1.0, 7.5}) slow.observe(v);
  const Labels odd = {{"node", "fe\"1\"\\\n"}, {"team", "Gaulois é"}};
  Exposition e;
  e.counter("oly_reads_total", "Reads\nserved \\ here", 1e21, odd);
  e.histogram("oly_latency_seconds", "Latency", fast, {{"op", "read"}});
  e.gauge("oly_lag_seconds", "Lag", 1e-7);
  e.histogram("oly_latency_seconds", "Latency", slow, {{"op", "write"}});
  e.counter("oly_reads_total", "Reads\nserved \\ here", 0.1 + 0.2, {{"node", "fe2"}});
  e.untyped("oly:x", "", kNaN);
  add_counter_map(e, "oly_fe_", {{"cache_hits", 9}, {"epoch", 4}}, {"epoch"}, {{"node", "fe1"}});

  const std::vector<ParsedFamily> families = parse(e.str());
  ASSERT_EQ(families.size(), 6u) << e.str();
  EXPECT_EQ(families[0].name, "oly_reads_total");
  EXPECT_EQ(families[0].help, "Reads\nserved \\ here");
  EXPECT_EQ(families[0].type, "counter");
  ASSERT_EQ(families[0].samples.size(), 2u);
  EXPECT_EQ(families[0].samples[0].labels, odd);
  EXPECT_EQ(families[0].samples[0].value, 1e21);
  EXPECT_EQ(families[0].samples[1].value, 0.1 + 0.2);
  EXPECT_EQ(families[1].type, "histogram");
  EXPECT_EQ(families[1].samples.size(), (3u + 2) + (15u + 2));
  check_histogram(families[1]);
  EXPECT_EQ(families[2].samples.at(0).value, 1e-7);
  EXPECT_FALSE(families[3].has_help);
  EXPECT_TRUE(std::isnan(families[3].samples.at(0).value));
  EXPECT_EQ(families[4].name, "oly_fe_cache_hits_total");
  EXPECT_EQ(families[5].name, "oly_fe_epoch");
}

}  // namespace
}  // namespace oly::metrics
