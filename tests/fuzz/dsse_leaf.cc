// Fuzzes crypto::DecodeDsseLeaf, the log's leaf encoding (DESIGN.md
// "Envelope and leaf"): the deterministic protobuf encoding of the DSSE
// envelope, read from tiles, bundles and submissions. A decoded leaf
// encodes back to the input byte for byte (one leaf per envelope), and
// protobuf itself (proto/dsse.proto) reads the same envelope from it and
// writes the same bytes with deterministic serialization.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "crypto/dsse.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "proto/dsse.pb.h"
#include "tests/fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<refsum::crypto::DsseEnvelope> envelope =
      refsum::crypto::DecodeDsseLeaf(input);
  if (!envelope.ok()) {
    FUZZ_CHECK(envelope.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(refsum::crypto::EncodeDsseLeaf(*envelope) == input);

  refsum::dsse::Envelope message;
  FUZZ_CHECK(message.ParseFromArray(input.data(), input.size()));
  FUZZ_CHECK(message.payload() == envelope->payload);
  FUZZ_CHECK(message.payloadtype() == envelope->payload_type);
  FUZZ_CHECK(static_cast<size_t>(message.signatures_size()) ==
             envelope->signatures.size());
  for (int i = 0; i < message.signatures_size(); ++i) {
    FUZZ_CHECK(message.signatures(i).sig() == envelope->signatures[i].sig);
    FUZZ_CHECK(message.signatures(i).keyid() == envelope->signatures[i].keyid);
  }
  std::string serialized;
  {
    google::protobuf::io::StringOutputStream stream(&serialized);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    FUZZ_CHECK(message.SerializeToCodedStream(&coded));
  }
  FUZZ_CHECK(serialized == input);
  return 0;
}
