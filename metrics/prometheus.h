// Prometheus text exposition format, version 0.0.4: what every process answers GET /metrics
// with (Content-Type kContentType). Debian 12 packages no Prometheus client for C++, and a
// single-threaded server that renders its numbers on each scrape needs no registry: it builds an
// Exposition from the values it holds, takes str(), and throws the Exposition away.
//
//   Exposition e;
//   e.counter("oly_cache_hits_total", "Reads served from the cache", 42, {{"node", "fe1"}});
//   e.histogram("oly_read_latency_seconds", "Time to answer a read", latency, {{"node", "fe1"}});
//   add_counter_map(e, "oly_frontend_", stats.counters, {"epoch"}, {{"node", "fe1"}});
//   response.body = e.str();
//
// renders
//
//   # HELP oly_cache_hits_total Reads served from the cache
//   # TYPE oly_cache_hits_total counter
//   oly_cache_hits_total{node="fe1"} 42
//   # HELP oly_read_latency_seconds Time to answer a read
//   # TYPE oly_read_latency_seconds histogram
//   oly_read_latency_seconds_bucket{node="fe1",le="0.0001"} 0
//   ...
//   oly_read_latency_seconds_bucket{node="fe1",le="+Inf"} 7
//   oly_read_latency_seconds_sum{node="fe1"} 0.0123
//   oly_read_latency_seconds_count{node="fe1"} 7
//   ...
//
// The format, as written here:
// - A family (one metric name) is rendered as one group, in the order families were first added:
//   "# HELP" (omitted when the help text is empty), "# TYPE", then its samples in the order added,
//   one per label set. Adding the same name again with other labels adds a sample to that group,
//   so HELP and TYPE appear once however many label sets a family has.
// - Help text escapes backslash and newline ("\\", "\n"); label values escape backslash, double
//   quote and newline. Labels are written in the order given; a histogram's "le" comes last.
//   A sample without labels has no braces. Every line ends with "\n"; no timestamps.
// - Numbers: see format_value().
// - A counter's name is written as given: by convention it ends in "_total" (the caller's choice,
//   except in add_counter_map()).
//
// Errors: names come from code, so a bad one is a programming error, for tests to catch. Every
// adding method throws std::invalid_argument, naming the offending name, and then leaves the
// Exposition unchanged, when:
// - a metric name does not match [a-zA-Z_:][a-zA-Z0-9_:]*;
// - a label name does not match [a-zA-Z_][a-zA-Z0-9_]* or starts with "__", or appears twice in
//   one label set, or is "le" on a histogram;
// - the name was added before with another type or another help text;
// - the same name and label set (in any order) was added before: a repeated series;
// - a name clashes with a histogram's series: a histogram "x" writes x_bucket, x_sum and x_count,
//   so no other family may be called any of these ("metric "x" clashes with metric "x_sum"
//   (both write "x_sum")").
// Values are never checked (they come from the running system): a counter may be given anything.
//
// Thread-safety: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/histogram.h"

namespace oly::metrics {

// The Content-Type of a GET /metrics answer.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// A sample's labels, name then value, written in this order. Values are any UTF-8 text.
using Labels = std::vector<std::pair<std::string, std::string>>;

// The Prometheus name rules, for callers that build names from data and want to filter first.
// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. Label names: [a-zA-Z_][a-zA-Z0-9_]*, not starting
// with "__" (reserved for Prometheus itself).
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

// A sample value as written: "NaN", "+Inf", "-Inf"; a whole number of magnitude below 2^53 as an
// integer ("0", "42", "-7", "1000000000000000"; -0 as "0"); any other number with the fewest
// digits that read back to the same double, with an exponent when below 1e-4 or from 1e6 on, as
// %g does ("0.1", "2.5", "0.0001", "0.30000000000000004", "1e-05", "1.2345675e+06",
// "9.007199254740992e+15", "1.5e+300"). Independent of the locale.
std::string format_value(double v);

class Exposition {
 public:
  // A sample of a counter, a gauge, or an untyped metric, called `name` with `labels`.
  void counter(std::string_view name, std::string_view help, double value,
               const Labels& labels = {});
  void gauge(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  void untyped(std::string_view name, std::string_view help, double value,
               const Labels& labels = {});
  // A histogram's series with `labels`: name_bucket with le="<bound>" for every bound and
  // le="+Inf" (cumulative counts), then name_sum and name_count. `h` is read now, not kept.
  void histogram(std::string_view name, std::string_view help, const Histogram& h,
                 const Labels& labels = {});

  // The text: every family, each as one group; "" when nothing was added.
  std::string str() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram, kUntyped };
  struct Family {
    std::string name;
    Type type;
    std::string help;
    std::set<Labels> label_sets;  // each added label set, sorted by name: to refuse a repeat
    std::string samples;          // the rendered sample lines
  };
  // Validates everything (throwing before any change), registers `labels` with the family `name`
  // (created if new) and returns it, for the caller to append its sample lines.
  Family& add(std::string_view name, Type type, std::string_view help, const Labels& labels);
  void add_single(std::string_view name, Type type, std::string_view help, double value,
                  const Labels& labels);

  std::vector<Family> families_;                           // in the order first added
  std::map<std::string, size_t, std::less<>> index_;       // family name -> position in families_
  std::map<std::string, std::string, std::less<>> owner_;  // sample name -> its family's name
};

// Adds one family per entry of `values` (a process's stats counters: "cache_hits", "epoch"...),
// in key order, each with `labels`:
// - a key in `gauges`: a gauge called prefix + key ("oly_frontend_" + "epoch");
// - any other key: a counter called prefix + key + "_total" ("oly_frontend_cache_hits_total"),
//   "_total" not doubled when the key already ends with it.
// Help: "Stats counter <key>" or "Stats gauge <key>". Keys in `gauges` but not in `values` are
// ignored. Throws std::invalid_argument as the Exposition does: in particular when prefix + key
// is not a valid metric name (a key made from data, such as "on_" + a front end's id, must be
// valid or left out: see valid_metric_name()). Calling it again with other labels adds a second
// label set to the same families.
void add_counter_map(Exposition& e, std::string_view prefix,
                     const std::map<std::string, int64_t>& values,
                     const std::set<std::string>& gauges, const Labels& labels = {});

}  // namespace oly::metrics
