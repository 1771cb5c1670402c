// Holds crypto/dsse.h's hand-written leaf encoding to protobuf's own
// deterministic serialization of DSSE's envelope.proto.

#include <random>
#include <string>

#include "crypto/dsse.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"
#include "proto/dsse.pb.h"

namespace refsum {
namespace {

std::string DeterministicSerialization(const dsse::Envelope& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

std::string RandomBytes(std::mt19937* random, size_t max_length,
                        bool ascii) {
  std::uniform_int_distribution<size_t> length(0, max_length);
  std::uniform_int_distribution<int> byte(ascii ? 0x20 : 0, ascii ? 0x7e : 255);
  std::string out(length(*random), '\0');
  for (char& c : out) c = static_cast<char>(byte(*random));
  return out;
}

TEST(DsseLeafTest, HandEncodingEqualsProtobufDeterministicSerialization) {
  std::mt19937 random(6962);
  for (int round = 0; round < 500; ++round) {
    crypto::DsseEnvelope envelope;
    // Lengths up to 300 exercise one- and two-byte varint lengths.
    envelope.payload = RandomBytes(&random, 300, /*ascii=*/false);
    envelope.payload_type = RandomBytes(&random, 40, /*ascii=*/true);
    dsse::Envelope message;
    message.set_payload(envelope.payload);
    message.set_payloadtype(envelope.payload_type);
    const int signatures = round % 4;
    for (int i = 0; i < signatures; ++i) {
      crypto::DsseSignature signature{RandomBytes(&random, 64, true),
                                      RandomBytes(&random, 150, false)};
      dsse::Signature* added = message.add_signatures();
      added->set_sig(signature.sig);
      added->set_keyid(signature.keyid);
      envelope.signatures.push_back(std::move(signature));
    }
    const std::string leaf = crypto::EncodeDsseLeaf(envelope);
    ASSERT_EQ(leaf, DeterministicSerialization(message)) << "round " << round;

    absl::StatusOr<crypto::DsseEnvelope> decoded = crypto::DecodeDsseLeaf(leaf);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, envelope);
    dsse::Envelope parsed;
    ASSERT_TRUE(parsed.ParseFromString(leaf));
    EXPECT_EQ(parsed.payload(), envelope.payload);
  }
}

}  // namespace
}  // namespace refsum
