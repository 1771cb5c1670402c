// DSSE (Dead Simple Signing Envelope) v1.0: pre-authentication encoding,
// signing and verification, the JSON envelope, and refsum's log leaf: the
// deterministic protobuf encoding of the envelope with DSSE's own field
// numbers (DESIGN.md "Envelope and leaf").

#ifndef REFSUM_CRYPTO_DSSE_H_
#define REFSUM_CRYPTO_DSSE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/signer.h"

namespace refsum::crypto {

struct DsseSignature {
  // Unauthenticated hint; refsum sets it to the signer's PublicKey::keyid().
  std::string keyid;
  std::string sig;

  friend bool operator==(const DsseSignature& a, const DsseSignature& b) {
    return a.keyid == b.keyid && a.sig == b.sig;
  }
};

struct DsseEnvelope {
  std::string payload;
  std::string payload_type;
  std::vector<DsseSignature> signatures;

  friend bool operator==(const DsseEnvelope& a, const DsseEnvelope& b) {
    return a.payload == b.payload && a.payload_type == b.payload_type &&
           a.signatures == b.signatures;
  }
};

// Returns PAE(payload_type, payload) =
// "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload, with lengths in
// ASCII decimal: the bytes a DSSE signature signs.
std::string DssePae(absl::string_view payload_type, absl::string_view payload);

// Returns an envelope holding `payload` with one signature by `signer`, whose
// keyid is the signer's PublicKey::keyid(). Returns the signer's error if
// signing fails.
absl::StatusOr<DsseEnvelope> DsseSign(absl::string_view payload_type,
                                      absl::string_view payload,
                                      const Signer& signer);

// Returns OK when some signature of `envelope` whose keyid is empty or equals
// `verifier`'s key ID verifies over the PAE. Returns Unauthenticated naming
// the key otherwise (no signature for that key, or none verifies).
absl::Status DsseVerify(const DsseEnvelope& envelope,
                        const Verifier& verifier);

// Returns the JSON envelope
// {"payload":"<base64>","payloadType":"...","signatures":[{"keyid":"...",
// "sig":"<base64>"}]} with standard padded base64 and the fields in that
// order.
std::string EncodeDsseJson(const DsseEnvelope& envelope);

// Parses a JSON envelope. As DSSE requires, `payload`, `payloadType`,
// `signatures` and each `sig` must be present, `keyid` may be absent (read as
// empty), unknown fields are ignored, and base64 may be standard or URL-safe,
// padded or not. The JSON itself must be strict (see encoding/json.h).
// Returns InvalidArgument naming the field at fault otherwise.
absl::StatusOr<DsseEnvelope> DecodeDsseJson(absl::string_view json);

// Returns the deterministic protobuf encoding of `envelope` with DSSE's field
// numbers (Envelope: payload=1, payloadType=2, signatures=3; Signature:
// sig=1, keyid=2), as protobuf's deterministic serialization of proto3
// writes it: fields in number order, empty fields omitted. This is the log's
// leaf data.
std::string EncodeDsseLeaf(const DsseEnvelope& envelope);

// Parses leaf data. Accepts exactly the bytes EncodeDsseLeaf produces for
// some envelope (so each envelope has one leaf and one leaf hash): unknown
// fields, wrong wire types, fields out of order, empty fields written out,
// non-minimal varints, truncation and trailing bytes are InvalidArgument.
// The payload type and keyids must be valid UTF-8, as protobuf requires of
// strings.
absl::StatusOr<DsseEnvelope> DecodeDsseLeaf(absl::string_view leaf);

}  // namespace refsum::crypto

#endif  // REFSUM_CRYPTO_DSSE_H_
