// Building a vendor's claim (DESIGN.md "Records") from what
// `refsum-submit claim` is given: artifact files, the source repository and
// commit, an optional tag, the build recipe and --value SPECs
// (statement/value_spec.h); and signing it as a DSSE envelope.

#ifndef REFSUM_SUBMITTER_CLAIM_BUILDER_H_
#define REFSUM_SUBMITTER_CLAIM_BUILDER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/signer.h"
#include "statement/claim.h"

namespace refsum::submitter {

// The recipe a claim states when --recipe is not given. statement/claim.h
// requires one, and the issue keeps the flag optional; a witness rebuilds
// with the recipe configured for the repository, so without a more precise
// statement from the vendor the claim points at the source itself.
inline constexpr absl::string_view kDefaultRecipe =
    "as documented in the source repository at the claimed commit";

// The inputs of one claim, as given on the command line.
struct ClaimInputs {
  // Artifact file paths; each becomes a subject named after its base name.
  std::vector<std::string> artifacts;
  std::string repository;
  std::string commit;
  std::optional<std::string> tag;
  std::string recipe = std::string(kDefaultRecipe);
  // --value SPECs, in order.
  std::vector<std::string> values;
};

// Returns the lowercase hex SHA-256 of the contents of the regular file at
// `path`, read in pieces so that artifacts of any size hash in constant
// memory. Returns the errno-based status naming the path (NotFound,
// PermissionDenied, ...) when it cannot be read, and InvalidArgument when it
// is not a regular file.
absl::StatusOr<std::string> HashFile(const std::string& path);

// Returns the claim for `inputs` with the given subject digests
// (`artifact_sha256[i]` is artifact i's lowercase hex SHA-256), validated
// with statement::ValidateClaim. Errors are InvalidArgument naming the flag
// at fault: `--commit: ...`, `--artifact "<path>": ...`,
// `--value "<spec>": ...` (see ParseValueSpec). Two artifacts with the same
// base name are refused, as subject names must be unique.
absl::StatusOr<statement::Claim> BuildClaim(
    const ClaimInputs& inputs, const std::vector<std::string>& artifact_sha256);

// Checks `inputs` as BuildClaim does, before any file is read, so that a
// typo in a flag is reported before large artifacts are hashed. (It builds
// the claim with every subject digest set to that of the empty file, which
// BuildClaim's checks cannot tell from a real one.)
absl::Status CheckClaimInputs(const ClaimInputs& inputs);

// Hashes every artifact (HashFile) and returns BuildClaim's claim.
absl::StatusOr<statement::Claim> BuildClaimFromFiles(const ClaimInputs& inputs);

// Returns the claim signed by `signer` as a DSSE JSON envelope with payload
// type statement::kPayloadType, ending in a newline. Returns InvalidArgument
// if the claim does not validate or is too large.
absl::StatusOr<std::string> SignClaim(const statement::Claim& claim,
                                      const crypto::Signer& signer);

}  // namespace refsum::submitter

#endif  // REFSUM_SUBMITTER_CLAIM_BUILDER_H_
