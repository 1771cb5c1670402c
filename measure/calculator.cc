#include "measure/calculator.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "crypto/digest.h"
#include "encoding/hex.h"
#include "measure/sev_snp.h"
#include "measure/tpm.h"
#include "measure/verity.h"

namespace refsum::measure {
namespace {

absl::Status BadParameter(absl::string_view name, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("parameter ", name, ": ", problem));
}

std::optional<std::string> Get(const std::map<std::string, std::string>& map,
                               const std::string& key) {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<uint64_t> Number(absl::string_view name,
                                absl::string_view text) {
  const std::optional<uint64_t> value = ParseNumber(text);
  if (!value.has_value()) return BadParameter(name, "is not a number");
  return *value;
}

absl::StatusOr<std::string> Input(const Calculation& calculation,
                                  const std::string& role) {
  std::optional<std::string> input = Get(calculation.inputs, role);
  if (!input.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(calculation.calculator, " needs the input ", role));
  }
  return *std::move(input);
}

absl::StatusOr<crypto::HashAlgorithm> Bank(const Calculation& calculation) {
  return crypto::ParseHashAlgorithm(calculation.algorithm);
}

absl::StatusOr<std::string> SevSnp(const Calculation& c) {
  SnpLaunchInputs inputs;
  const std::optional<std::string> vcpus = Get(c.parameters, "vcpus");
  if (!vcpus.has_value()) return BadParameter("vcpus", "is required");
  ASSIGN_OR_RETURN(const uint64_t count, Number("vcpus", *vcpus));
  if (count < 1 || count > 512) return BadParameter("vcpus", "is not 1-512");
  inputs.vcpus = static_cast<int>(count);
  absl::StatusOr<VmmType> vmm =
      ParseVmmType(Get(c.parameters, "vmm-type").value_or("qemu"));
  if (!vmm.ok()) return BadParameter("vmm-type", vmm.status().message());
  inputs.vmm = *vmm;
  if (std::optional<std::string> type = Get(c.parameters, "vcpu-type")) {
    absl::StatusOr<uint32_t> sig = QemuCpuSignature(*type);
    if (!sig.ok()) return BadParameter("vcpu-type", sig.status().message());
    inputs.vcpu_signature = *sig;
  } else if (std::optional<std::string> sig = Get(c.parameters, "vcpu-sig")) {
    ASSIGN_OR_RETURN(const uint64_t value, Number("vcpu-sig", *sig));
    if (value > 0xffffffff) return BadParameter("vcpu-sig", "is above 32 bits");
    inputs.vcpu_signature = static_cast<uint32_t>(value);
  } else if (inputs.vmm == VmmType::kQemu) {
    return BadParameter("vcpu-type", "or vcpu-sig is required for qemu");
  }
  if (std::optional<std::string> features =
          Get(c.parameters, "guest-features")) {
    ASSIGN_OR_RETURN(inputs.guest_features,
                     Number("guest-features", *features));
  }
  if (std::optional<std::string> kernel = Get(c.inputs, "kernel")) {
    inputs.kernel = SnpKernel{*kernel, Get(c.inputs, "initrd"),
                              Get(c.parameters, "append")};
  }
  ASSIGN_OR_RETURN(const std::string ovmf, Input(c, "ovmf"));
  return SnpLaunchDigest(ovmf, inputs);
}

absl::StatusOr<std::string> UkiPcr(const Calculation& c) {
  ASSIGN_OR_RETURN(const crypto::HashAlgorithm bank, Bank(c));
  ASSIGN_OR_RETURN(const std::string uki, Input(c, "uki"));
  if (c.index == 4) return UkiPcr4(bank, uki);
  if (c.index == 11) {
    std::vector<std::string> sections = DefaultUkiSections();
    if (std::optional<std::string> list = Get(c.parameters, "sections")) {
      sections = absl::StrSplit(*list, ' ', absl::SkipEmpty());
    }
    return UkiPcr11(bank, uki, sections);
  }
  return absl::UnimplementedError(
      absl::StrCat("computes PCR 4 and 11; PCR ",
                   c.index.value_or(-1), " is not implemented yet"));
}

absl::StatusOr<std::string> DmVerity(const Calculation& c) {
  VerityParameters parameters;
  ASSIGN_OR_RETURN(parameters.hash, Bank(c));
  if (std::optional<std::string> hash = Get(c.parameters, "hash");
      hash.has_value() && *hash != c.algorithm) {
    return BadParameter("hash", "is not the value's digest algorithm");
  }
  const std::string salt = Get(c.parameters, "salt").value_or("-");
  if (salt != "-") {
    absl::StatusOr<std::string> bytes = encoding::HexDecode(salt);
    if (!bytes.ok()) return BadParameter("salt", "is not lowercase hex");
    parameters.salt = *std::move(bytes);
  }
  for (const auto& [name, target] :
       {std::make_pair("data-block-size", &parameters.data_block_size),
        std::make_pair("hash-block-size", &parameters.hash_block_size)}) {
    if (std::optional<std::string> size = Get(c.parameters, name)) {
      ASSIGN_OR_RETURN(const uint64_t value, Number(name, *size));
      if (value > (1u << 20)) return BadParameter(name, "is above 1 MiB");
      *target = static_cast<uint32_t>(value);
    }
  }
  ASSIGN_OR_RETURN(const std::string image, Input(c, "image"));
  return VerityRootHash(image, parameters);
}

}  // namespace

std::optional<uint64_t> ParseNumber(absl::string_view text) {
  uint64_t value = 0;
  bool ok = false;
  if (absl::StartsWithIgnoreCase(text, "0x")) {
    ok = text.size() > 2 && absl::SimpleHexAtoi(text.substr(2), &value);
  } else if (text == "0" || (!text.empty() && text[0] >= '1' && text[0] <= '9')) {
    ok = absl::SimpleAtoi(text, &value);
  }
  if (!ok) return std::nullopt;
  return value;
}

absl::StatusOr<std::string> Calculate(const Calculation& calculation) {
  absl::StatusOr<std::string> digest = [&]() -> absl::StatusOr<std::string> {
    if (calculation.calculator == "sev-snp") return SevSnp(calculation);
    if (calculation.calculator == "uki-pcr") return UkiPcr(calculation);
    if (calculation.calculator == "dm-verity") return DmVerity(calculation);
    if (calculation.calculator == "tpm-separator") {
      ASSIGN_OR_RETURN(const crypto::HashAlgorithm bank, Bank(calculation));
      return SeparatorOnlyPcr(bank);
    }
    if (calculation.calculator == "tdx-mrtd") {
      return absl::UnimplementedError("not implemented yet");
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unknown calculator ", calculation.calculator));
  }();
  if (!digest.ok()) {
    return absl::Status(digest.status().code(),
                        absl::StrCat(calculation.calculator, ": ",
                                     digest.status().message()));
  }
  return digest;
}

}  // namespace refsum::measure
