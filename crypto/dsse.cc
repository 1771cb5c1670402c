#include "crypto/dsse.h"

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "encoding/base64.h"
#include "encoding/json.h"
#include "encoding/utf8.h"

namespace refsum::crypto {
namespace {

using encoding::JsonArrayReader;
using encoding::JsonObjectReader;
using encoding::JsonValue;

// Protobuf wire type 2: a varint length followed by that many bytes. Every
// DSSE field is a bytes, string or message field and uses it.
constexpr uint32_t kLengthDelimited = 2;

constexpr uint32_t kEnvelopePayload = 1;
constexpr uint32_t kEnvelopePayloadType = 2;
constexpr uint32_t kEnvelopeSignatures = 3;
constexpr uint32_t kSignatureSig = 1;
constexpr uint32_t kSignatureKeyid = 2;

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendField(uint32_t field, absl::string_view bytes, std::string* out) {
  AppendVarint((field << 3) | kLengthDelimited, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

// Proto3 omits fields holding their default (empty) value.
void AppendNonEmptyField(uint32_t field, absl::string_view bytes,
                         std::string* out) {
  if (!bytes.empty()) AppendField(field, bytes, out);
}

// Reads protobuf length-delimited fields from a buffer.
class FieldReader {
 public:
  explicit FieldReader(absl::string_view data) : data_(data) {}

  bool done() const { return data_.empty(); }

  // Reads the next field into *field and *value. Returns InvalidArgument for
  // truncation or a wire type other than length-delimited.
  absl::Status Next(absl::string_view what, uint32_t* field,
                    absl::string_view* value) {
    ASSIGN_OR_RETURN(uint64_t tag, ReadVarint(what));
    if ((tag & 7) != kLengthDelimited || (tag >> 3) == 0 ||
        (tag >> 3) > UINT32_MAX) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " has a field with tag ", tag,
                       ", which no DSSE field uses"));
    }
    ASSIGN_OR_RETURN(uint64_t length, ReadVarint(what));
    if (length > data_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is truncated inside a field"));
    }
    *field = static_cast<uint32_t>(tag >> 3);
    *value = data_.substr(0, length);
    data_.remove_prefix(length);
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<uint64_t> ReadVarint(absl::string_view what) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (data_.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " is truncated inside a varint"));
      }
      const auto byte = static_cast<uint8_t>(data_.front());
      data_.remove_prefix(1);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has a varint longer than 64 bits"));
  }

  absl::string_view data_;
};

absl::Status RequireUtf8(absl::string_view text, absl::string_view field) {
  if (!encoding::IsValidUtf8(text)) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf ", field, " is not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DsseSignature> DecodeSignature(absl::string_view message) {
  DsseSignature signature;
  FieldReader reader(message);
  while (!reader.done()) {
    uint32_t field;
    absl::string_view value;
    RETURN_IF_ERROR(reader.Next("leaf signature", &field, &value));
    if (field == kSignatureSig) {
      signature.sig = std::string(value);
    } else if (field == kSignatureKeyid) {
      RETURN_IF_ERROR(RequireUtf8(value, "keyid"));
      signature.keyid = std::string(value);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("leaf signature has unknown field ", field));
    }
  }
  return signature;
}

// Decodes every field, letting a repeated singular field overwrite the
// earlier one; DecodeDsseLeaf then insists on canonical bytes, which rejects
// such input.
absl::StatusOr<DsseEnvelope> DecodeFields(absl::string_view leaf) {
  DsseEnvelope envelope;
  FieldReader reader(leaf);
  while (!reader.done()) {
    uint32_t field;
    absl::string_view value;
    RETURN_IF_ERROR(reader.Next("leaf", &field, &value));
    switch (field) {
      case kEnvelopePayload:
        envelope.payload = std::string(value);
        break;
      case kEnvelopePayloadType:
        RETURN_IF_ERROR(RequireUtf8(value, "payloadType"));
        envelope.payload_type = std::string(value);
        break;
      case kEnvelopeSignatures: {
        ASSIGN_OR_RETURN(DsseSignature signature, DecodeSignature(value));
        envelope.signatures.push_back(std::move(signature));
        break;
      }
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("leaf has unknown field ", field));
    }
  }
  return envelope;
}

absl::StatusOr<std::string> ReadBase64Field(const JsonObjectReader& object,
                                            absl::string_view key) {
  ASSIGN_OR_RETURN(std::string text, object.Required<std::string>(key));
  absl::StatusOr<std::string> bytes = encoding::Base64DecodeStdOrUrl(text);
  if (!bytes.ok()) {
    return encoding::JsonPathError(object.MemberPath(key),
                                   bytes.status().message());
  }
  return bytes;
}

absl::StatusOr<DsseSignature> ReadJsonSignature(
    const JsonObjectReader& object) {
  DsseSignature signature;
  ASSIGN_OR_RETURN(signature.sig, ReadBase64Field(object, "sig"));
  ASSIGN_OR_RETURN(std::optional<std::string> keyid,
                   object.Optional<std::string>("keyid"));
  signature.keyid = keyid.value_or("");
  return signature;
}

}  // namespace

std::string DssePae(absl::string_view payload_type,
                    absl::string_view payload) {
  return absl::StrCat("DSSEv1 ", payload_type.size(), " ", payload_type, " ",
                      payload.size(), " ", payload);
}

absl::StatusOr<DsseEnvelope> DsseSign(absl::string_view payload_type,
                                      absl::string_view payload,
                                      const Signer& signer) {
  ASSIGN_OR_RETURN(std::string sig,
                   signer.Sign(DssePae(payload_type, payload)));
  DsseEnvelope envelope;
  envelope.payload = std::string(payload);
  envelope.payload_type = std::string(payload_type);
  envelope.signatures.push_back(
      DsseSignature{signer.public_key().keyid(), std::move(sig)});
  return envelope;
}

absl::Status DsseVerify(const DsseEnvelope& envelope,
                        const Verifier& verifier) {
  const std::string& keyid = verifier.public_key().keyid();
  const std::string pae = DssePae(envelope.payload_type, envelope.payload);
  bool tried = false;
  for (const DsseSignature& signature : envelope.signatures) {
    if (!signature.keyid.empty() && signature.keyid != keyid) continue;
    tried = true;
    if (verifier.Verify(signature.sig, pae).ok()) return absl::OkStatus();
  }
  return absl::UnauthenticatedError(absl::StrCat(
      tried ? "DSSE signature does not verify under key "
            : "DSSE envelope has no signature by key ",
      keyid));
}

std::string EncodeDsseJson(const DsseEnvelope& envelope) {
  JsonValue::Array signatures;
  for (const DsseSignature& signature : envelope.signatures) {
    signatures.push_back(JsonValue::MakeObject({
        {"keyid", JsonValue::String(signature.keyid)},
        {"sig", JsonValue::String(encoding::Base64Encode(signature.sig))},
    }));
  }
  return encoding::SerializeJson(JsonValue::MakeObject({
      {"payload", JsonValue::String(encoding::Base64Encode(envelope.payload))},
      {"payloadType", JsonValue::String(envelope.payload_type)},
      {"signatures", JsonValue::MakeArray(std::move(signatures))},
  }));
}

absl::StatusOr<DsseEnvelope> DecodeDsseJson(absl::string_view json) {
  ASSIGN_OR_RETURN(JsonValue document, encoding::ParseJson(json));
  ASSIGN_OR_RETURN(JsonObjectReader object,
                   encoding::ReadJsonAs<JsonObjectReader>(document, ""));
  DsseEnvelope envelope;
  ASSIGN_OR_RETURN(envelope.payload, ReadBase64Field(object, "payload"));
  ASSIGN_OR_RETURN(envelope.payload_type,
                   object.Required<std::string>("payloadType"));
  ASSIGN_OR_RETURN(JsonArrayReader signatures,
                   object.Required<JsonArrayReader>("signatures"));
  for (size_t i = 0; i < signatures.size(); ++i) {
    ASSIGN_OR_RETURN(JsonObjectReader entry,
                     signatures.At<JsonObjectReader>(i));
    ASSIGN_OR_RETURN(DsseSignature signature, ReadJsonSignature(entry));
    envelope.signatures.push_back(std::move(signature));
  }
  return envelope;
}

std::string EncodeDsseLeaf(const DsseEnvelope& envelope) {
  std::string out;
  AppendNonEmptyField(kEnvelopePayload, envelope.payload, &out);
  AppendNonEmptyField(kEnvelopePayloadType, envelope.payload_type, &out);
  for (const DsseSignature& signature : envelope.signatures) {
    std::string message;
    AppendNonEmptyField(kSignatureSig, signature.sig, &message);
    AppendNonEmptyField(kSignatureKeyid, signature.keyid, &message);
    AppendField(kEnvelopeSignatures, message, &out);
  }
  return out;
}

absl::StatusOr<DsseEnvelope> DecodeDsseLeaf(absl::string_view leaf) {
  ASSIGN_OR_RETURN(DsseEnvelope envelope, DecodeFields(leaf));
  if (EncodeDsseLeaf(envelope) != leaf) {
    return absl::InvalidArgumentError(
        "leaf is not the canonical encoding of its envelope (fields out of "
        "order, repeated or empty, or non-minimal varints)");
  }
  return envelope;
}

}  // namespace refsum::crypto
