#include "witness/config.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/note.h"
#include "encoding/utf8.h"

namespace refsum::witness {
namespace {

// A configuration file is a few dozen lines; anything much larger is a
// mistake (the wrong file), not a configuration.
constexpr size_t kMaxConfigBytes = 1 << 20;

constexpr char kBlanks[] = " \t";

// Removes and returns the first blank-separated token of `*rest` (empty if
// there is none), leaving `*rest` at the blanks after it.
absl::string_view ConsumeToken(absl::string_view* rest) {
  const size_t start = rest->find_first_not_of(kBlanks);
  if (start == absl::string_view::npos) {
    *rest = absl::string_view();
    return absl::string_view();
  }
  rest->remove_prefix(start);
  const size_t end = std::min(rest->find_first_of(kBlanks), rest->size());
  const absl::string_view token = rest->substr(0, end);
  rest->remove_prefix(end);
  return token;
}

absl::StatusOr<uint64_t> ParseBytes(absl::string_view text) {
  uint64_t multiplier = 1;
  absl::string_view digits = text;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'K':
        multiplier = uint64_t{1} << 10;
        break;
      case 'M':
        multiplier = uint64_t{1} << 20;
        break;
      case 'G':
        multiplier = uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (multiplier != 1) digits.remove_suffix(1);
  }
  uint64_t value = 0;
  if (digits.empty() ||
      digits.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(digits, &value) || value == 0 ||
      value > std::numeric_limits<uint64_t>::max() / multiplier) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text,
        "\" is not a positive byte count (digits with an optional K, M or G)"));
  }
  return value * multiplier;
}

absl::StatusOr<absl::Duration> ParsePositiveDuration(absl::string_view text) {
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) ||
      duration <= absl::ZeroDuration() ||
      duration == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not a positive duration such as 90m or 1h30m"));
  }
  return duration;
}

bool IsWildcardHost(absl::string_view host) {
  return host.empty() || host == "0.0.0.0" || host == "::";
}

// Parses one file; each method handles the directive of its name. Errors
// name the file and the current line.
class Parser {
 public:
  explicit Parser(absl::string_view path) : path_(path) {}

  absl::StatusOr<WitnessConfig> Parse(absl::string_view text) {
    if (!encoding::IsValidUtf8(text)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": not valid UTF-8"));
    }
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      ++line_;
      RETURN_IF_ERROR(ParseLine(line));
    }
    return Finish();
  }

 private:
  absl::Status LineError(absl::string_view problem) const {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ":", line_, ": ", problem));
  }

  absl::Status ParseLine(absl::string_view line) {
    for (const char c : line) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return LineError(c == '\r' ? "carriage return (save the file with Unix "
                                     "line endings)"
                                   : "control character");
      }
    }
    absl::string_view rest = line;
    const absl::string_view keyword = ConsumeToken(&rest);
    if (keyword.empty() || keyword[0] == '#') return absl::OkStatus();
    if (keyword == "scope") return Scope(rest);
    const std::vector<absl::string_view> args =
        absl::StrSplit(rest, absl::ByAnyChar(kBlanks), absl::SkipEmpty());
    if (keyword == "log") return Log(args);
    if (keyword == "limit") return Limit(args);
    if (keyword == "name") return Name(args);
    if (keyword == "cosign_key") {
      return Path(keyword, args, &config_.cosign_key_path);
    }
    if (keyword == "rebuild_key") {
      return Path(keyword, args, &config_.rebuild_key_path);
    }
    if (keyword == "state_dir") return Path(keyword, args, &config_.state_dir);
    if (keyword == "http_addr") return HttpAddr(args);
    if (keyword == "parallelism") return Parallelism(args);
    if (keyword == "report_url") return ReportUrl(args);
    return LineError(absl::StrCat("unknown keyword \"", keyword, "\""));
  }

  // Checks that `directive` (a keyword, or "limit <what>") appears once and
  // takes `want` arguments, named by `usage`.
  absl::Status Expect(absl::string_view directive, size_t got, size_t want,
                      absl::string_view usage) {
    if (got != want) {
      return LineError(absl::StrCat(directive, " takes ", want,
                                    want == 1 ? " argument" : " arguments",
                                    " (", usage, "), got ", got));
    }
    const auto [it, inserted] = seen_.try_emplace(directive, line_);
    if (!inserted) {
      return LineError(absl::StrCat(directive, " given again (first on line ",
                                    it->second, ")"));
    }
    return absl::OkStatus();
  }

  absl::Status Name(const std::vector<absl::string_view>& args) {
    RETURN_IF_ERROR(Expect("name", args.size(), 1, "NAME"));
    if (!crypto::IsValidNoteKeyName(args[0])) {
      return LineError(absl::StrCat("name \"", args[0],
                                    "\" is not a valid key name (no '+')"));
    }
    config_.name = std::string(args[0]);
    return absl::OkStatus();
  }

  absl::Status Path(absl::string_view keyword,
                    const std::vector<absl::string_view>& args,
                    std::string* out) {
    RETURN_IF_ERROR(Expect(keyword, args.size(), 1, "PATH"));
    *out = ResolvePath(DirectoryOf(std::string(path_)), args[0]);
    return absl::OkStatus();
  }

  absl::Status HttpAddr(const std::vector<absl::string_view>& args) {
    RETURN_IF_ERROR(Expect("http_addr", args.size(), 1, "HOST:PORT"));
    absl::StatusOr<HostPort> address =
        ParseHostPort(args[0], /*allow_port_zero=*/true);
    if (!address.ok()) return LineError(address.status().message());
    config_.http_address = *std::move(address);
    http_addr_line_ = line_;
    return absl::OkStatus();
  }

  absl::Status Log(const std::vector<absl::string_view>& args) {
    if (args.size() != 3) {
      return LineError(absl::StrCat(
          "log takes 3 arguments (ORIGIN VKEY GRPC_ADDR), got ", args.size()));
    }
    LogConfig log{std::string(args[0]), std::string(args[1]),
                  std::string(args[2])};
    const absl::StatusOr<crypto::VerifierKey> vkey =
        crypto::ParseVerifierKey(log.vkey);
    if (!vkey.ok()) return LineError(vkey.status().message());
    if (vkey->signature_type != crypto::kNoteSignatureTypeEd25519) {
      return LineError(
          absl::StrCat("the verifier key of ", log.origin,
                       " is not an Ed25519 note key (signature type 0x01)"));
    }
    if (vkey->name != log.origin) {
      return LineError(absl::StrCat("the verifier key is named \"", vkey->name,
                                    "\", not the origin \"", log.origin, "\""));
    }
    const absl::StatusOr<HostPort> grpc =
        ParseHostPort(log.grpc_address, /*allow_port_zero=*/false);
    if (!grpc.ok()) return LineError(grpc.status().message());
    const auto [it, inserted] = log_lines_.try_emplace(log.origin, line_);
    if (!inserted) {
      return LineError(absl::StrCat(
          "log ", log.origin, " given again (first on line ", it->second, ")"));
    }
    config_.logs.push_back(std::move(log));
    return absl::OkStatus();
  }

  absl::Status Scope(absl::string_view rest) {
    const absl::string_view prefix = ConsumeToken(&rest);
    const absl::string_view recipe = absl::StripAsciiWhitespace(rest);
    if (prefix.empty() || recipe.empty()) {
      return LineError("scope takes REPOSITORY_PREFIX RECIPE...");
    }
    const auto [it, inserted] =
        scope_lines_.try_emplace(std::string(prefix), line_);
    if (!inserted) {
      return LineError(absl::StrCat(
          "scope ", prefix, " given again (first on line ", it->second, ")"));
    }
    config_.scopes.push_back(
        ScopeConfig{std::string(prefix), std::string(recipe)});
    return absl::OkStatus();
  }

  absl::Status Limit(const std::vector<absl::string_view>& args) {
    constexpr char kUsage[] =
        "limit takes wall_time DURATION, memory BYTES or output BYTES";
    if (args.empty()) return LineError(kUsage);
    const std::string directive = absl::StrCat("limit ", args[0]);
    if (args[0] == "wall_time") {
      RETURN_IF_ERROR(Expect(directive, args.size() - 1, 1, "DURATION"));
      absl::StatusOr<absl::Duration> duration = ParsePositiveDuration(args[1]);
      if (!duration.ok()) return LineError(duration.status().message());
      config_.limits.wall_time = *duration;
      return absl::OkStatus();
    }
    uint64_t* limit = nullptr;
    if (args[0] == "memory") limit = &config_.limits.memory_bytes;
    if (args[0] == "output") limit = &config_.limits.output_bytes;
    if (limit == nullptr) return LineError(kUsage);
    RETURN_IF_ERROR(Expect(directive, args.size() - 1, 1, "BYTES"));
    absl::StatusOr<uint64_t> bytes = ParseBytes(args[1]);
    if (!bytes.ok()) return LineError(bytes.status().message());
    *limit = *bytes;
    return absl::OkStatus();
  }

  absl::Status Parallelism(const std::vector<absl::string_view>& args) {
    RETURN_IF_ERROR(Expect("parallelism", args.size(), 1, "N"));
    int n = 0;
    if (args[0].find_first_not_of("0123456789") != absl::string_view::npos ||
        !absl::SimpleAtoi(args[0], &n) || n < 1 || n > kMaxParallelism) {
      return LineError(absl::StrCat("parallelism \"", args[0],
                                    "\" is not a number from 1 to ",
                                    kMaxParallelism));
    }
    config_.parallelism = n;
    return absl::OkStatus();
  }

  absl::Status ReportUrl(const std::vector<absl::string_view>& args) {
    RETURN_IF_ERROR(Expect("report_url", args.size(), 1, "URL_PREFIX"));
    const absl::string_view url = args[0];
    const bool http = absl::StartsWith(url, "http://");
    const size_t scheme = http ? 7 : 8;
    if ((!http && !absl::StartsWith(url, "https://")) || url.size() == scheme ||
        url[scheme] == '/') {
      return LineError(absl::StrCat("report_url \"", url,
                                    "\" is not an http:// or https:// URL"));
    }
    config_.report_url =
        absl::EndsWith(url, "/") ? std::string(url) : absl::StrCat(url, "/");
    return absl::OkStatus();
  }

  absl::StatusOr<WitnessConfig> Finish() {
    for (const absl::string_view required :
         {"name", "cosign_key", "rebuild_key", "http_addr", "state_dir"}) {
      if (!seen_.contains(required)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path_, ": no ", required, " line"));
      }
    }
    if (config_.logs.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path_, ": no log line: a witness needs a log to follow"));
    }
    if (!config_.scopes.empty() && config_.report_url.empty() &&
        IsWildcardHost(config_.http_address.host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path_, ":", http_addr_line_,
          ": http_addr listens on all addresses, so reports need a "
          "report_url line saying how others reach them"));
    }
    return std::move(config_);
  }

  const absl::string_view path_;
  int line_ = 0;
  WitnessConfig config_;
  // The line of each single directive, of each log origin and of each scope
  // prefix, for "given again" errors.
  absl::flat_hash_map<std::string, int> seen_;
  absl::flat_hash_map<std::string, int> log_lines_;
  absl::flat_hash_map<std::string, int> scope_lines_;
  int http_addr_line_ = 0;
};

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(absl::string_view address,
                                       bool allow_port_zero) {
  const size_t colon = address.rfind(':');
  absl::string_view host =
      colon == absl::string_view::npos ? "" : address.substr(0, colon);
  const bool bracketed =
      absl::StartsWith(host, "[") && absl::EndsWith(host, "]");
  if (bracketed) host = host.substr(1, host.size() - 2);
  const absl::string_view port_text =
      colon == absl::string_view::npos ? "" : address.substr(colon + 1);
  int port = -1;
  if (host.empty() ||
      (!bracketed && host.find_first_of(":[]") != absl::string_view::npos) ||
      port_text.empty() ||
      port_text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535 ||
      (port == 0 && !allow_port_zero)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", address, "\" is not HOST:PORT with a port from ",
                     allow_port_zero ? 0 : 1, " to 65535"));
  }
  return HostPort{std::string(host), port};
}

std::string FormatHostPort(const HostPort& address) {
  return absl::StrContains(address.host, ':')
             ? absl::StrCat("[", address.host, "]:", address.port)
             : absl::StrCat(address.host, ":", address.port);
}

absl::StatusOr<WitnessConfig> ParseConfig(absl::string_view text,
                                          absl::string_view path) {
  return Parser(path).Parse(text);
}

absl::StatusOr<WitnessConfig> ReadConfigFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFile(path, kMaxConfigBytes));
  return ParseConfig(text, path);
}

std::string CosignedDir(absl::string_view state_dir) {
  return absl::StrCat(state_dir, "/cosigned");
}

std::string ReportsDir(absl::string_view state_dir) {
  return absl::StrCat(state_dir, "/reports");
}

std::string ReportUrlPrefix(const HostPort& address, bool tls) {
  return absl::StrCat(tls ? "https://" : "http://", FormatHostPort(address),
                      "/reports/");
}

}  // namespace refsum::witness
