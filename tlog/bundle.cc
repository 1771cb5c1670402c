#include "tlog/bundle.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "encoding/base64.h"
#include "encoding/json.h"

namespace refsum::tlog {
namespace {

using encoding::JsonArrayReader;
using encoding::JsonObjectReader;
using encoding::JsonValue;

// A bundle holds up to a few thousand proofs of a few kilobytes each.
constexpr size_t kMaxBundleBytes = size_t{64} << 20;

absl::StatusOr<JsonValue> EntryToJson(const BundleEntry& entry) {
  ASSIGN_OR_RETURN(std::string proof, FormatTlogProof(entry.proof));
  return JsonValue::MakeObject({
      {"leaf", JsonValue::String(encoding::Base64Encode(entry.leaf))},
      {"proof", JsonValue::String(std::move(proof))},
      {"publicKey", JsonValue::String(encoding::Base64Encode(entry.public_key))},
  });
}

absl::Status CheckSameCheckpoint(const std::string& first,
                                 const TlogProof& proof,
                                 absl::string_view path) {
  if (proof.checkpoint != first) {
    return encoding::JsonPathError(
        path, "proof is against another checkpoint than the bundle's first "
              "proof");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadBase64(const JsonObjectReader& object,
                                       absl::string_view key) {
  ASSIGN_OR_RETURN(std::string text, object.Required<std::string>(key));
  absl::StatusOr<std::string> bytes = encoding::Base64Decode(text);
  if (!bytes.ok()) {
    return encoding::JsonPathError(object.MemberPath(key),
                                   bytes.status().message());
  }
  return bytes;
}

absl::StatusOr<BundleEntry> ReadEntry(const JsonObjectReader& object,
                                      std::initializer_list<absl::string_view>
                                          allowed_fields) {
  RETURN_IF_ERROR(object.RejectUnknownFields(allowed_fields));
  BundleEntry entry;
  ASSIGN_OR_RETURN(entry.leaf, ReadBase64(object, "leaf"));
  ASSIGN_OR_RETURN(entry.public_key, ReadBase64(object, "publicKey"));
  ASSIGN_OR_RETURN(std::string proof, object.Required<std::string>("proof"));
  absl::StatusOr<TlogProof> parsed = ParseTlogProof(proof);
  if (!parsed.ok()) {
    return encoding::JsonPathError(object.MemberPath("proof"),
                                   parsed.status().message());
  }
  entry.proof = *std::move(parsed);
  return entry;
}

absl::StatusOr<BundleClaim> ReadClaim(const JsonObjectReader& object,
                                      const std::string** checkpoint) {
  BundleClaim claim;
  ASSIGN_OR_RETURN(claim.claim, ReadEntry(object, {"leaf", "proof", "publicKey",
                                                   "attestations"}));
  if (*checkpoint == nullptr) *checkpoint = &claim.claim.proof.checkpoint;
  RETURN_IF_ERROR(CheckSameCheckpoint(**checkpoint, claim.claim.proof,
                                      object.MemberPath("proof")));
  ASSIGN_OR_RETURN(JsonArrayReader attestations,
                   object.Required<JsonArrayReader>("attestations"));
  for (size_t i = 0; i < attestations.size(); ++i) {
    ASSIGN_OR_RETURN(JsonObjectReader entry,
                     attestations.At<JsonObjectReader>(i));
    ASSIGN_OR_RETURN(BundleEntry attestation,
                     ReadEntry(entry, {"leaf", "proof", "publicKey"}));
    RETURN_IF_ERROR(CheckSameCheckpoint(**checkpoint, attestation.proof,
                                        entry.MemberPath("proof")));
    claim.attestations.push_back(std::move(attestation));
  }
  return claim;
}

}  // namespace

absl::StatusOr<std::string> EncodeBundle(const Bundle& bundle) {
  if (bundle.claims.empty()) {
    return absl::InvalidArgumentError("a bundle needs at least one claim");
  }
  const std::string& checkpoint = bundle.claims[0].claim.proof.checkpoint;
  JsonValue::Array claims;
  for (const BundleClaim& claim : bundle.claims) {
    JsonValue::Array attestations;
    for (const BundleEntry& attestation : claim.attestations) {
      if (attestation.proof.checkpoint != checkpoint) {
        return absl::InvalidArgumentError(
            "bundle proofs must all be against one checkpoint");
      }
      ASSIGN_OR_RETURN(JsonValue entry, EntryToJson(attestation));
      attestations.push_back(std::move(entry));
    }
    if (claim.claim.proof.checkpoint != checkpoint) {
      return absl::InvalidArgumentError(
          "bundle proofs must all be against one checkpoint");
    }
    ASSIGN_OR_RETURN(JsonValue entry, EntryToJson(claim.claim));
    JsonValue::Object members = *entry.AsObject();
    members.emplace_back("attestations",
                         JsonValue::MakeArray(std::move(attestations)));
    claims.push_back(JsonValue::MakeObject(std::move(members)));
  }
  return encoding::SerializeJson(JsonValue::MakeObject({
      {"mediaType", JsonValue::String(std::string(kBundleMediaType))},
      {"claims", JsonValue::MakeArray(std::move(claims))},
  }));
}

absl::StatusOr<Bundle> DecodeBundle(absl::string_view json) {
  encoding::JsonLimits limits;
  limits.max_input_bytes = kMaxBundleBytes;
  ASSIGN_OR_RETURN(JsonValue document, encoding::ParseJson(json, limits));
  ASSIGN_OR_RETURN(JsonObjectReader object,
                   encoding::ReadJsonAs<JsonObjectReader>(document, ""));
  RETURN_IF_ERROR(object.RejectUnknownFields({"mediaType", "claims"}));
  ASSIGN_OR_RETURN(std::string media_type,
                   object.Required<std::string>("mediaType"));
  if (media_type != kBundleMediaType) {
    return encoding::JsonPathError(
        "mediaType", absl::StrCat("expected ", kBundleMediaType));
  }
  ASSIGN_OR_RETURN(JsonArrayReader claims,
                   object.Required<JsonArrayReader>("claims"));
  if (claims.size() == 0) {
    return encoding::JsonPathError("claims", "a bundle needs at least one claim");
  }
  Bundle bundle;
  const std::string* checkpoint = nullptr;
  for (size_t i = 0; i < claims.size(); ++i) {
    ASSIGN_OR_RETURN(JsonObjectReader claim, claims.At<JsonObjectReader>(i));
    ASSIGN_OR_RETURN(BundleClaim parsed, ReadClaim(claim, &checkpoint));
    bundle.claims.push_back(std::move(parsed));
    // `checkpoint` points into the moved-from claim; re-point it.
    checkpoint = &bundle.claims.front().claim.proof.checkpoint;
  }
  return bundle;
}

}  // namespace refsum::tlog
