#include "log/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace refsum::log {
namespace {

constexpr absl::string_view kSubmissionsName = "refsum_log_submissions_total";
constexpr absl::string_view kRpcErrorsName = "refsum_log_rpc_errors_total";
constexpr absl::string_view kHttpRequestsName =
    "refsum_log_http_requests_total";
constexpr absl::string_view kBatchEntriesName = "refsum_log_batch_entries";
constexpr absl::string_view kIntegrationLatencyName =
    "refsum_log_integration_latency_seconds";
constexpr absl::string_view kTreeSizeName = "refsum_log_tree_size";
constexpr absl::string_view kWitnessPushesName =
    "refsum_log_witness_pushes_total";
constexpr absl::string_view kWitnessedTreeSizeName =
    "refsum_log_witnessed_tree_size";

absl::string_view WitnessPushOutcomeName(WitnessPushOutcome outcome) {
  switch (outcome) {
    case WitnessPushOutcome::kCosigned:
      return "cosigned";
    case WitnessPushOutcome::kConflict:
      return "conflict";
    case WitnessPushOutcome::kRejected:
      return "rejected";
    case WitnessPushOutcome::kUnreachable:
      return "unreachable";
    case WitnessPushOutcome::kInvalidResponse:
      return "invalid_response";
  }
  return "unknown";
}

// Formats a sample value as Prometheus' own Go clients do (strconv's 'g'
// format with the shortest precision that reads back as the same double:
// 0.0005, 70000, 1.099511627776e+12), and +Inf, -Inf, NaN as Go spells them.
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  const std::to_chars_result result = std::to_chars(
      std::begin(buffer), std::end(buffer), value, std::chars_format::general);
  return std::string(buffer, result.ptr);
}

// Escapes HELP text: backslash and newline.
std::string EscapeHelp(absl::string_view text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// Escapes a label value: backslash, double quote and newline.
std::string EscapeLabelValue(absl::string_view value) {
  std::string escaped;
  for (const char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

void AppendHeader(absl::string_view name, absl::string_view help,
                  absl::string_view type, std::string* out) {
  absl::StrAppend(out, "# HELP ", name, " ", EscapeHelp(help), "\n", "# TYPE ",
                  name, " ", type, "\n");
}

void AppendSample(absl::string_view name, const Labels& labels,
                  absl::string_view value, std::string* out) {
  absl::StrAppend(out, name);
  if (!labels.empty()) {
    absl::StrAppend(out, "{");
    for (size_t i = 0; i < labels.size(); ++i) {
      absl::StrAppend(out, i == 0 ? "" : ",", labels[i].first, "=\"",
                      EscapeLabelValue(labels[i].second), "\"");
    }
    absl::StrAppend(out, "}");
  }
  absl::StrAppend(out, " ", value, "\n");
}

void AppendCounterFamily(absl::string_view name, absl::string_view help,
                         const CounterFamily& family, std::string* out) {
  AppendHeader(name, help, "counter", out);
  for (const auto& [labels, count] : family.Read()) {
    AppendSample(name, labels, absl::StrCat(count), out);
  }
}

void AppendHistogram(absl::string_view name, absl::string_view help,
                     const Histogram& histogram, std::string* out) {
  AppendHeader(name, help, "histogram", out);
  const Histogram::Snapshot snapshot = histogram.Read();
  const std::string bucket_name = absl::StrCat(name, "_bucket");
  for (size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
    const std::string le =
        i < snapshot.upper_bounds.size()
            ? FormatValue(snapshot.upper_bounds[i])
            : FormatValue(std::numeric_limits<double>::infinity());
    AppendSample(bucket_name, {{"le", le}},
                 absl::StrCat(snapshot.cumulative_counts[i]), out);
  }
  AppendSample(absl::StrCat(name, "_sum"), {}, FormatValue(snapshot.sum), out);
  AppendSample(absl::StrCat(name, "_count"), {},
               absl::StrCat(snapshot.cumulative_counts.back()), out);
}

}  // namespace

Counter& CounterFamily::Get(const Labels& labels) {
  absl::MutexLock lock(&mu_);
  return counters_.try_emplace(labels).first->second;
}

std::vector<std::pair<Labels, uint64_t>> CounterFamily::Read() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<Labels, uint64_t>> counts;
  counts.reserve(counters_.size());
  for (const auto& [labels, counter] : counters_) {
    counts.emplace_back(labels, counter.Value());
  }
  return counts;
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      bucket_counts_(upper_bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  // The first bound with value <= bound. Written as a partition on
  // !(value <= bound) rather than lower_bound so that NaN, which compares
  // false with everything, lands in the +Inf bucket as in Prometheus' own
  // clients instead of the first one.
  const size_t bucket =
      std::partition_point(
          upper_bounds_.begin(), upper_bounds_.end(),
          [value](double bound) { return !(value <= bound); }) -
      upper_bounds_.begin();
  absl::MutexLock lock(&mu_);
  ++bucket_counts_[bucket];
  sum_ += value;
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  absl::MutexLock lock(&mu_);
  snapshot.cumulative_counts.reserve(bucket_counts_.size());
  uint64_t total = 0;
  for (const uint64_t count : bucket_counts_) {
    total += count;
    snapshot.cumulative_counts.push_back(total);
  }
  snapshot.sum = sum_;
  return snapshot;
}

const std::vector<double>& Metrics::BatchEntriesBuckets() {
  static const auto* const kBuckets = new std::vector<double>{
      1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
  return *kBuckets;
}

const std::vector<double>& Metrics::IntegrationLatencyBuckets() {
  static const auto* const kBuckets =
      new std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return *kBuckets;
}

Metrics::Metrics()
    : new_submissions_(submissions_.Get({{"result", "new"}})),
      duplicate_submissions_(submissions_.Get({{"result", "duplicate"}})),
      failed_submissions_(submissions_.Get({{"result", "error"}})),
      batch_entries_(BatchEntriesBuckets()),
      integration_latency_(IntegrationLatencyBuckets()) {}

void Metrics::RecordSubmission(SubmissionResult result) {
  switch (result) {
    case SubmissionResult::kNew:
      new_submissions_.Increment();
      return;
    case SubmissionResult::kDuplicate:
      duplicate_submissions_.Increment();
      return;
    case SubmissionResult::kError:
      failed_submissions_.Increment();
      return;
  }
}

void Metrics::RecordRpcError(absl::string_view method, absl::StatusCode code) {
  rpc_errors_
      .Get({{"method", std::string(method)},
            {"code", absl::StatusCodeToString(code)}})
      .Increment();
}

void Metrics::RecordHttpResponse(int code) {
  http_requests_.Get({{"code", absl::StrCat(code)}}).Increment();
}

void Metrics::ObserveBatchEntries(size_t entries) {
  batch_entries_.Observe(static_cast<double>(entries));
}

void Metrics::ObserveIntegrationLatency(absl::Duration latency) {
  integration_latency_.Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::SetTreeSize(uint64_t size) {
  tree_size_.Set(static_cast<double>(size));
}

void Metrics::RecordWitnessPush(absl::string_view witness,
                                WitnessPushOutcome outcome) {
  witness_pushes_
      .Get({{"witness", std::string(witness)},
            {"outcome", std::string(WitnessPushOutcomeName(outcome))}})
      .Increment();
}

void Metrics::SetWitnessedTreeSize(uint64_t size) {
  witnessed_tree_size_.Set(static_cast<double>(size));
}

std::string Metrics::Render() const {
  std::string out;
  AppendCounterFamily(kSubmissionsName,
                      "Submit calls by outcome: a new entry, a duplicate of "
                      "a logged entry, or an error.",
                      submissions_, &out);
  AppendCounterFamily(kRpcErrorsName,
                      "Failed RPCs by method and gRPC status code.",
                      rpc_errors_, &out);
  AppendCounterFamily(kHttpRequestsName,
                      "HTTP responses of the tlog-tiles read API by status "
                      "code.",
                      http_requests_, &out);
  AppendHistogram(kBatchEntriesName, "Entries per integrated batch.",
                  batch_entries_, &out);
  AppendHistogram(kIntegrationLatencyName,
                  "Time from submission until the entry is durably "
                  "integrated and covered by a signed checkpoint.",
                  integration_latency_, &out);
  AppendHeader(kTreeSizeName, "Tree size of the newest signed checkpoint.",
               "gauge", &out);
  AppendSample(kTreeSizeName, {}, FormatValue(tree_size_.Value()), &out);
  AppendCounterFamily(kWitnessPushesName,
                      "add-checkpoint requests to witnesses by witness and "
                      "outcome.",
                      witness_pushes_, &out);
  AppendHeader(kWitnessedTreeSizeName,
               "Tree size of the newest checkpoint that meets the witness "
               "policy; 0 without one.",
               "gauge", &out);
  AppendSample(kWitnessedTreeSizeName, {},
               FormatValue(witnessed_tree_size_.Value()), &out);
  return out;
}

}  // namespace refsum::log
