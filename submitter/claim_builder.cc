#include "submitter/claim_builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/dsse.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "statement/in_toto.h"
#include "statement/value_spec.h"

namespace refsum::submitter {
namespace {

constexpr size_t kReadChunkBytes = size_t{1} << 20;

// Closes a file descriptor when it goes out of scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  const int fd_;
};

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

// Returns the last component of `path`, which names a file only if it is
// neither empty nor "." or "..".
std::string BaseName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path
                                                      : path.substr(slash + 1));
}

// A claim field and the flag it comes from. An indexed field (subjects,
// reference values) names the flag occurrence by its value.
struct FieldFlag {
  absl::string_view path;
  absl::string_view flag;
};

constexpr FieldFlag kFieldFlags[] = {
    {"subject", "--artifact"},
    {"predicate.source.repository", "--repository"},
    {"predicate.source.commit", "--commit"},
    {"predicate.source.tag", "--tag"},
    {"predicate.build.recipe", "--recipe"},
    {"predicate.referenceValues", "--value"},
};

// Rewrites a ValidateClaim error "<JSON path>: <problem>" to name the flag
// instead, e.g. "predicate.source.commit: ..." as "--commit: ..." and
// "subject[1].name: ..." as `--artifact "<path>": name: ...`.
absl::Status NameFlag(const absl::Status& status, const ClaimInputs& inputs) {
  absl::string_view message = status.message();
  for (const FieldFlag& field : kFieldFlags) {
    absl::string_view rest = message;
    if (!absl::ConsumePrefix(&rest, field.path)) continue;
    if (!rest.empty() && rest[0] != ':' && rest[0] != '.' && rest[0] != '[') {
      continue;
    }
    std::string flag(field.flag);
    const std::vector<std::string>& occurrences =
        field.path == "subject" ? inputs.artifacts : inputs.values;
    size_t index = 0;
    if (absl::ConsumePrefix(&rest, "[")) {
      const size_t close = rest.find(']');
      if (close != absl::string_view::npos &&
          absl::SimpleAtoi(rest.substr(0, close), &index) &&
          index < occurrences.size()) {
        absl::StrAppend(&flag, " ", Quoted(occurrences[index]));
        rest.remove_prefix(close + 1);
      }
    }
    absl::ConsumePrefix(&rest, ".");
    absl::ConsumePrefix(&rest, ": ");
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", rest));
  }
  return status;
}

}  // namespace

absl::StatusOr<std::string> HashFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("opening ", path));
  FdCloser closer(fd);
  struct stat info;
  if (fstat(fd, &info) != 0) {
    return ErrnoStatus(errno, absl::StrCat("reading ", path));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a regular file"));
  }
  crypto::Sha256Hasher hasher;
  const auto buffer = std::make_unique<char[]>(kReadChunkBytes);
  while (true) {
    const ssize_t n = read(fd, buffer.get(), kReadChunkBytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, absl::StrCat("reading ", path));
    if (n == 0) break;
    hasher.Update(absl::string_view(buffer.get(), static_cast<size_t>(n)));
  }
  return encoding::HexEncode(crypto::DigestBytes(hasher.Finish()));
}

absl::StatusOr<statement::Claim> BuildClaim(
    const ClaimInputs& inputs,
    const std::vector<std::string>& artifact_sha256) {
  if (inputs.artifacts.empty()) {
    return absl::InvalidArgumentError("give at least one --artifact FILE");
  }
  if (inputs.values.empty()) {
    return absl::InvalidArgumentError("give at least one --value SPEC");
  }
  if (artifact_sha256.size() != inputs.artifacts.size()) {
    return absl::InternalError(
        absl::StrCat(artifact_sha256.size(), " digests for ",
                     inputs.artifacts.size(), " artifacts"));
  }
  statement::Claim claim;
  for (size_t i = 0; i < inputs.artifacts.size(); ++i) {
    const std::string name = BaseName(inputs.artifacts[i]);
    if (name.empty() || name == "." || name == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("--artifact ", Quoted(inputs.artifacts[i]),
                       ": does not name a file"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (claim.subjects[j].name == name) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--artifact ", Quoted(inputs.artifacts[j]), " and --artifact ",
            Quoted(inputs.artifacts[i]), " have the same file name ",
            Quoted(name), "; a claim's subject names must be unique"));
      }
    }
    statement::Subject subject;
    subject.name = name;
    subject.digest = {{std::string(statement::kSha256), artifact_sha256[i]}};
    claim.subjects.push_back(std::move(subject));
  }
  claim.source = {inputs.repository, inputs.commit, inputs.tag};
  claim.build.recipe = inputs.recipe;
  for (const std::string& spec : inputs.values) {
    ASSIGN_OR_RETURN(statement::ReferenceValue value,
                     statement::ParseValueSpec(spec));
    claim.reference_values.push_back(std::move(value));
  }
  const absl::Status valid = statement::ValidateClaim(claim);
  if (!valid.ok()) return NameFlag(valid, inputs);
  return claim;
}

absl::Status CheckClaimInputs(const ClaimInputs& inputs) {
  const std::vector<std::string> empty_file_digests(inputs.artifacts.size(),
                                                    crypto::Sha256Hex(""));
  return BuildClaim(inputs, empty_file_digests).status();
}

absl::StatusOr<statement::Claim> BuildClaimFromFiles(
    const ClaimInputs& inputs) {
  std::vector<std::string> digests;
  for (const std::string& path : inputs.artifacts) {
    ASSIGN_OR_RETURN(std::string digest, HashFile(path));
    digests.push_back(std::move(digest));
  }
  return BuildClaim(inputs, digests);
}

absl::StatusOr<std::string> SignClaim(const statement::Claim& claim,
                                      const crypto::Signer& signer) {
  ASSIGN_OR_RETURN(std::string payload, statement::SerializeClaim(claim));
  ASSIGN_OR_RETURN(crypto::DsseEnvelope envelope,
                   crypto::DsseSign(statement::kPayloadType, payload, signer));
  return crypto::EncodeDsseJson(envelope) + "\n";
}

}  // namespace refsum::submitter
