// refsum-measure: measurement calculators on the command line.
//
//   refsum-measure snp --mode snp --vcpus N (--vcpu-type NAME | --vcpu-sig N
//       | --vcpu-family F --vcpu-model M --vcpu-stepping S)
//       [--vmm-type QEMU|qemu|ec2|gce] --ovmf FILE [--kernel FILE
//       [--initrd FILE] [--append CMDLINE]] [--guest-features 0xN]
//       [--snp-ovmf-hash HEX] [--output-format hex|base64] [-v] [--spec]
//   refsum-measure snp --mode snp:ovmf-hash --ovmf FILE
//   refsum-measure authenticode [--bank sha256|sha384|sha512] FILE
//   refsum-measure uki [--bank sha256|sha384] [--sections NAME,...] UKI
//   refsum-measure extend [--bank sha256|sha384] (HEX | separator)...
//   refsum-measure verity [--hash sha256|sha384|sha512] [--salt HEX|-]
//       [--data-block-size N] [--hash-block-size N] IMAGE
//
// `snp` takes virtee/sev-snp-measure's flags with the same meanings and
// prints on stdout what sev-snp-measure prints (the digest in hex or
// base64; with -v, "Calculated SNP guest measurement: ..."), so one can
// stand in for the other. The value in refsum-submit's --value syntax, with
// the parameters the sev-snp calculator takes, goes to stderr as
// "value: amd-sev-snp/launch-measurement=sha384:...", or alone to stdout
// with --spec.
//
// `authenticode` prints a PE image's Authenticode digest as EDK2 measures
// it (what `pesign -h` prints). `uki` prints PCR 4 and PCR 11 of booting a
// Unified Kernel Image, one --value spec per line
// ("tpm/pcr/11=sha256:..."). `extend` prints a PCR extended from zeros by
// the digests given, in hex; "separator" stands for the EV_SEPARATOR
// event's digest. `verity` prints an image's dm-verity root hash as
// `veritysetup format` computes it with the same options (salt "-" or
// absent: none), and on stderr the value line
// "value: generic/dm-verity-root=ALG:HEX,hash=...,salt=...,...".
//
// Exit codes: 0 success, 1 an input that cannot be measured (a malformed
// image, an unreadable file), 2 a usage error.

#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "encoding/base64.h"
#include "encoding/hex.h"
#include "absl/strings/str_split.h"
#include "measure/calculator.h"
#include "measure/pe.h"
#include "measure/sev_snp.h"
#include "measure/tpm.h"
#include "measure/verity.h"

namespace refsum::measure {
namespace {

constexpr char kUsage[] =
    "usage: refsum-measure snp --mode snp --vcpus N (--vcpu-type NAME | "
    "--vcpu-sig N | --vcpu-family F --vcpu-model M --vcpu-stepping S) "
    "[--vmm-type QEMU|qemu|ec2|gce] --ovmf FILE [--kernel FILE [--initrd "
    "FILE] [--append CMDLINE]] [--guest-features 0xN] [--snp-ovmf-hash HEX] "
    "[--output-format hex|base64] [-v] [--spec]\n"
    "       refsum-measure snp --mode snp:ovmf-hash --ovmf FILE "
    "[--output-format hex|base64] [-v]\n"
    "       refsum-measure authenticode [--bank sha256|sha384|sha512] FILE\n"
    "       refsum-measure uki [--bank sha256|sha384] [--sections NAME,...] "
    "UKI\n"
    "       refsum-measure extend [--bank sha256|sha384] (HEX | "
    "separator)...\n"
    "       refsum-measure verity [--hash sha256|sha384|sha512] [--salt "
    "HEX|-] [--data-block-size N] [--hash-block-size N] IMAGE\n";

// The largest input file read: firmware, kernels and initrds are far
// smaller.
constexpr size_t kMaxInputBytes = size_t{1} << 30;

// A usage error (exit 2) or a failed measurement (exit 1).
struct Failure {
  int exit_code;
  std::string message;
};

absl::Status Usage(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

// A subcommand's arguments: flags "--name VALUE" or "--name=VALUE" (the
// names in `valued`), switches (the names in `switches`, e.g. "-v"), and
// everything else, in order.
struct Arguments {
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;
};

absl::StatusOr<Arguments> ParseArguments(
    const std::vector<std::string>& args, const std::set<std::string>& valued,
    const std::map<std::string, std::string>& switches) {
  Arguments parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (auto it = switches.find(arg); it != switches.end()) {
      parsed.flags[it->second] = "1";
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      parsed.positional.push_back(arg);
      continue;
    }
    arg = arg.substr(2);
    std::string value;
    const size_t equals = arg.find('=');
    if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
      arg = arg.substr(0, equals);
    } else if (valued.count(arg) != 0) {
      if (i + 1 >= args.size()) {
        return Usage(absl::StrCat("--", arg, " needs a value"));
      }
      value = args[++i];
    }
    if (valued.count(arg) == 0) {
      return Usage(absl::StrCat("unknown flag --", arg));
    }
    if (!parsed.flags.emplace(arg, value).second) {
      return Usage(absl::StrCat("--", arg, " is given twice"));
    }
  }
  return parsed;
}

// sev-snp-measure's flags.
absl::StatusOr<std::map<std::string, std::string>> ParseFlags(
    const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(
      Arguments parsed,
      ParseArguments(args,
                     {"mode", "vcpus", "vcpu-type", "vcpu-sig", "vcpu-family",
                      "vcpu-model", "vcpu-stepping", "vmm-type", "ovmf",
                      "kernel", "initrd", "append", "guest-features",
                      "snp-ovmf-hash", "output-format"},
                     {{"-v", "verbose"}, {"--verbose", "verbose"},
                      {"--spec", "spec"}}));
  if (!parsed.positional.empty()) {
    return Usage(
        absl::StrCat("unexpected argument \"", parsed.positional[0], "\""));
  }
  return std::move(parsed.flags);
}

// An integer flag (see ParseNumber).
absl::StatusOr<uint64_t> ParseInteger(absl::string_view flag,
                                      absl::string_view text) {
  const std::optional<uint64_t> value = ParseNumber(text);
  if (!value.has_value()) {
    return Usage(absl::StrCat("--", flag, " \"", text, "\" is not an integer"));
  }
  return *value;
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  return ReadFile(path, kMaxInputBytes);
}

std::string Format(const std::string& digest, const std::string& format) {
  return format == "base64" ? encoding::Base64Encode(digest)
                            : encoding::HexEncode(digest);
}

absl::StatusOr<int> RunSnp(const std::map<std::string, std::string>& flags,
                           std::optional<Failure>& failure) {
  const auto get = [&](const std::string& name) -> std::optional<std::string> {
    auto it = flags.find(name);
    if (it == flags.end()) return std::nullopt;
    return it->second;
  };
  const std::string mode = get("mode").value_or("");
  if (mode != "snp" && mode != "snp:ovmf-hash") {
    return Usage(mode.empty() ? "--mode snp or snp:ovmf-hash is required"
                              : absl::StrCat("--mode \"", mode,
                                             "\": refsum-measure snp "
                                             "computes snp and "
                                             "snp:ovmf-hash"));
  }
  const std::string format = get("output-format").value_or("hex");
  if (format != "hex" && format != "base64") {
    return Usage(absl::StrCat("--output-format \"", format,
                              "\" is not hex or base64"));
  }
  const std::optional<std::string> ovmf_path = get("ovmf");
  if (!ovmf_path.has_value()) return Usage("--ovmf FILE is required");
  if (get("initrd").has_value() || get("append").has_value()) {
    if (!get("kernel").has_value()) {
      return Usage("--initrd and --append need --kernel");
    }
  }
  const bool verbose = get("verbose").has_value();

  absl::StatusOr<std::string> ovmf = ReadInput(*ovmf_path);
  if (!ovmf.ok()) {
    failure = Failure{1, std::string(ovmf.status().message())};
    return 1;
  }
  if (mode == "snp:ovmf-hash") {
    absl::StatusOr<std::string> hash = SnpOvmfHash(*ovmf);
    if (!hash.ok()) {
      failure = Failure{1, std::string(hash.status().message())};
      return 1;
    }
    const std::string out = Format(*hash, format);
    std::printf("%s\n", verbose ? absl::StrCat(
                                      "Calculated SNP:OVMF-HASH guest "
                                      "measurement: ", out).c_str()
                                : out.c_str());
    return 0;
  }

  SnpLaunchInputs inputs;
  const std::optional<std::string> vcpus = get("vcpus");
  if (!vcpus.has_value()) {
    return Usage("missing --vcpus N in guest mode 'snp'");
  }
  ASSIGN_OR_RETURN(const uint64_t vcpu_count, ParseInteger("vcpus", *vcpus));
  inputs.vcpus = static_cast<int>(std::min<uint64_t>(vcpu_count, 1 << 20));
  ASSIGN_OR_RETURN(inputs.vmm,
                   ParseVmmType(get("vmm-type").value_or("QEMU")));
  // The claim's parameters (DESIGN.md, calculator sev-snp).
  std::vector<std::pair<std::string, std::string>> parameters = {
      {"vcpus", std::to_string(inputs.vcpus)},
      {"vmm-type", inputs.vmm == VmmType::kQemu  ? "qemu"
                   : inputs.vmm == VmmType::kEc2 ? "ec2"
                                                 : "gce"},
  };
  if (get("vcpu-family").has_value()) {
    if (!get("vcpu-model").has_value() || !get("vcpu-stepping").has_value()) {
      return Usage("--vcpu-family needs --vcpu-model and --vcpu-stepping");
    }
    ASSIGN_OR_RETURN(const uint64_t family,
                     ParseInteger("vcpu-family", *get("vcpu-family")));
    ASSIGN_OR_RETURN(const uint64_t model,
                     ParseInteger("vcpu-model", *get("vcpu-model")));
    ASSIGN_OR_RETURN(const uint64_t stepping,
                     ParseInteger("vcpu-stepping", *get("vcpu-stepping")));
    inputs.vcpu_signature =
        CpuSignature(static_cast<uint32_t>(family),
                     static_cast<uint32_t>(model),
                     static_cast<uint32_t>(stepping));
    parameters.emplace_back("vcpu-sig",
                            absl::StrCat("0x", absl::Hex(inputs.vcpu_signature)));
  } else if (get("vcpu-sig").has_value()) {
    ASSIGN_OR_RETURN(const uint64_t sig,
                     ParseInteger("vcpu-sig", *get("vcpu-sig")));
    if (sig > 0xffffffff) return Usage("--vcpu-sig is above 32 bits");
    inputs.vcpu_signature = static_cast<uint32_t>(sig);
    parameters.emplace_back("vcpu-sig",
                            absl::StrCat("0x", absl::Hex(inputs.vcpu_signature)));
  } else if (get("vcpu-type").has_value()) {
    absl::StatusOr<uint32_t> sig = QemuCpuSignature(*get("vcpu-type"));
    if (!sig.ok()) return Usage(sig.status().message());
    inputs.vcpu_signature = *sig;
    parameters.emplace_back("vcpu-type", *get("vcpu-type"));
  } else if (inputs.vmm == VmmType::kQemu) {
    return Usage(
        "missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode "
        "'snp'");
  }
  if (get("guest-features").has_value()) {
    ASSIGN_OR_RETURN(inputs.guest_features,
                     ParseInteger("guest-features", *get("guest-features")));
  }
  parameters.emplace_back(
      "guest-features", absl::StrCat("0x", absl::Hex(inputs.guest_features)));
  if (get("snp-ovmf-hash").has_value()) {
    absl::StatusOr<std::string> hash =
        encoding::HexDecode(*get("snp-ovmf-hash"));
    if (!hash.ok() || hash->size() != kSnpDigestSize) {
      return Usage("--snp-ovmf-hash is not 96 hex digits");
    }
    inputs.ovmf_hash = *hash;
  }
  if (get("kernel").has_value()) {
    SnpKernel kernel;
    absl::StatusOr<std::string> contents = ReadInput(*get("kernel"));
    if (!contents.ok()) {
      failure = Failure{1, std::string(contents.status().message())};
      return 1;
    }
    kernel.kernel = *std::move(contents);
    if (get("initrd").has_value()) {
      absl::StatusOr<std::string> initrd = ReadInput(*get("initrd"));
      if (!initrd.ok()) {
        failure = Failure{1, std::string(initrd.status().message())};
        return 1;
      }
      kernel.initrd = *std::move(initrd);
    }
    kernel.append = get("append");
    if (kernel.append.has_value()) {
      parameters.emplace_back("append", *kernel.append);
    }
    inputs.kernel = std::move(kernel);
  }

  absl::StatusOr<std::string> digest = SnpLaunchDigest(*ovmf, inputs);
  if (!digest.ok()) {
    failure = Failure{1, std::string(digest.status().message())};
    return 1;
  }
  std::vector<std::string> spec_parts = {
      absl::StrCat("amd-sev-snp/launch-measurement=sha384:",
                   encoding::HexEncode(*digest))};
  bool spec_ok = true;
  for (const auto& [name, value] : parameters) {
    if (absl::StrContains(value, ',')) spec_ok = false;
    spec_parts.push_back(absl::StrCat(name, "=", value));
  }
  const std::string spec = absl::StrJoin(spec_parts, ",");
  if (get("spec").has_value()) {
    if (!spec_ok) {
      failure = Failure{1,
                        "the command line holds a comma, which a --value "
                        "spec cannot carry"};
      return 1;
    }
    std::printf("%s\n", spec.c_str());
    return 0;
  }
  const std::string out = Format(*digest, format);
  std::printf("%s\n",
              verbose
                  ? absl::StrCat("Calculated SNP guest measurement: ", out)
                        .c_str()
                  : out.c_str());
  std::fprintf(stderr, "%s\n",
               spec_ok ? absl::StrCat("value: ", spec).c_str()
                       : "value: (the command line holds a comma, which a "
                         "--value spec cannot carry)");
  return 0;
}

absl::StatusOr<crypto::HashAlgorithm> Bank(const Arguments& args,
                                           bool allow_sha512) {
  auto it = args.flags.find("bank");
  absl::StatusOr<crypto::HashAlgorithm> bank =
      crypto::ParseHashAlgorithm(it == args.flags.end() ? "sha256" : it->second);
  if (!bank.ok() ||
      (!allow_sha512 && *bank == crypto::HashAlgorithm::kSha512)) {
    return Usage(absl::StrCat("--bank must be sha256 or sha384",
                              allow_sha512 ? " or sha512" : ""));
  }
  return *bank;
}

// The one file a subcommand measures.
absl::StatusOr<std::string> OnlyFile(const Arguments& args,
                                     std::optional<Failure>& failure) {
  if (args.positional.size() != 1) return Usage("give exactly one FILE");
  absl::StatusOr<std::string> contents = ReadInput(args.positional[0]);
  if (!contents.ok()) failure = Failure{1, std::string(contents.status().message())};
  return contents.ok() ? *contents : std::string();
}

absl::StatusOr<int> RunAuthenticode(const std::vector<std::string>& argv,
                                    std::optional<Failure>& failure) {
  ASSIGN_OR_RETURN(const Arguments args, ParseArguments(argv, {"bank"}, {}));
  ASSIGN_OR_RETURN(const crypto::HashAlgorithm bank, Bank(args, true));
  ASSIGN_OR_RETURN(const std::string file, OnlyFile(args, failure));
  if (failure.has_value()) return 1;
  absl::StatusOr<PeImage> image = PeImage::Parse(file);
  if (!image.ok()) {
    failure = Failure{1, std::string(image.status().message())};
    return 1;
  }
  std::printf("%s\n",
              encoding::HexEncode(image->AuthenticodeDigest(bank)).c_str());
  return 0;
}

absl::StatusOr<int> RunUki(const std::vector<std::string>& argv,
                           std::optional<Failure>& failure) {
  ASSIGN_OR_RETURN(const Arguments args,
                   ParseArguments(argv, {"bank", "sections"}, {}));
  ASSIGN_OR_RETURN(const crypto::HashAlgorithm bank, Bank(args, false));
  std::vector<std::string> sections = DefaultUkiSections();
  if (auto it = args.flags.find("sections"); it != args.flags.end()) {
    sections = absl::StrSplit(it->second, ',');
    // A list the calculator refuses is a usage error, before any reading.
    absl::Status valid = UkiPcr11(bank, "", sections).status();
    if (absl::StrContains(valid.message(), ".pcrsig") ||
        absl::StrContains(valid.message(), "twice")) {
      return Usage(valid.message());
    }
  }
  ASSIGN_OR_RETURN(const std::string uki, OnlyFile(args, failure));
  if (failure.has_value()) return 1;
  absl::StatusOr<std::string> pcr4 = UkiPcr4(bank, uki);
  absl::StatusOr<std::string> pcr11 =
      pcr4.ok() ? UkiPcr11(bank, uki, sections) : pcr4.status();
  if (!pcr11.ok()) {
    failure = Failure{1, std::string(pcr11.status().message())};
    return 1;
  }
  const absl::string_view name = crypto::HashAlgorithmName(bank);
  std::printf("tpm/pcr/4=%s:%s\n", std::string(name).c_str(),
              encoding::HexEncode(*pcr4).c_str());
  std::printf("tpm/pcr/11=%s:%s\n", std::string(name).c_str(),
              encoding::HexEncode(*pcr11).c_str());
  return 0;
}

absl::StatusOr<int> RunExtend(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(const Arguments args, ParseArguments(argv, {"bank"}, {}));
  ASSIGN_OR_RETURN(const crypto::HashAlgorithm bank, Bank(args, false));
  if (args.positional.empty()) return Usage("give at least one digest");
  std::vector<std::string> digests;
  for (const std::string& arg : args.positional) {
    if (arg == "separator") {
      digests.push_back(SeparatorDigest(bank));
      continue;
    }
    absl::StatusOr<std::string> digest = encoding::HexDecode(arg);
    if (!digest.ok() || digest->size() != crypto::DigestSize(bank)) {
      return Usage(absl::StrCat("\"", arg, "\" is not a ",
                                crypto::HashAlgorithmName(bank),
                                " digest in hex (or \"separator\")"));
    }
    digests.push_back(*std::move(digest));
  }
  ASSIGN_OR_RETURN(const std::string pcr, PcrOfDigests(bank, digests));
  std::printf("%s\n", encoding::HexEncode(pcr).c_str());
  return 0;
}

absl::StatusOr<int> RunVerity(const std::vector<std::string>& argv,
                              std::optional<Failure>& failure) {
  ASSIGN_OR_RETURN(
      const Arguments args,
      ParseArguments(argv,
                     {"hash", "salt", "data-block-size", "hash-block-size"},
                     {}));
  VerityParameters parameters;
  const auto flag = [&](const std::string& name, const std::string& fallback) {
    auto it = args.flags.find(name);
    return it == args.flags.end() ? fallback : it->second;
  };
  absl::StatusOr<crypto::HashAlgorithm> hash =
      crypto::ParseHashAlgorithm(flag("hash", "sha256"));
  if (!hash.ok()) return Usage(absl::StrCat("--hash: ", hash.status().message()));
  parameters.hash = *hash;
  const std::string salt = flag("salt", "-");
  if (salt != "-") {
    absl::StatusOr<std::string> bytes = encoding::HexDecode(salt);
    if (!bytes.ok()) return Usage("--salt is not lowercase hex (or -)");
    parameters.salt = *std::move(bytes);
  }
  for (const auto& [name, target] :
       {std::make_pair("data-block-size", &parameters.data_block_size),
        std::make_pair("hash-block-size", &parameters.hash_block_size)}) {
    ASSIGN_OR_RETURN(const uint64_t size,
                     ParseInteger(name, flag(name, "4096")));
    *target = static_cast<uint32_t>(std::min<uint64_t>(size, 1u << 31));
  }
  ASSIGN_OR_RETURN(const std::string image, OnlyFile(args, failure));
  if (failure.has_value()) return 1;
  absl::StatusOr<std::string> root = VerityRootHash(image, parameters);
  if (!root.ok()) {
    failure = Failure{1, std::string(root.status().message())};
    return 1;
  }
  const std::string algorithm(crypto::HashAlgorithmName(parameters.hash));
  std::printf("%s\n", encoding::HexEncode(*root).c_str());
  std::fprintf(stderr,
               "value: generic/dm-verity-root=%s:%s,hash=%s,salt=%s,"
               "data-block-size=%u,hash-block-size=%u\n",
               algorithm.c_str(), encoding::HexEncode(*root).c_str(),
               algorithm.c_str(),
               parameters.salt.empty()
                   ? "-"
                   : encoding::HexEncode(parameters.salt).c_str(),
               parameters.data_block_size, parameters.hash_block_size);
  return 0;
}

}  // namespace
}  // namespace refsum::measure

int main(int argc, char** argv) {
  using refsum::measure::Failure;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" ||
      args[0] == "help") {
    std::fputs(refsum::measure::kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string subcommand = args[0];
  args.erase(args.begin());
  std::optional<Failure> failure;
  absl::StatusOr<int> code = [&]() -> absl::StatusOr<int> {
    if (subcommand == "snp") {
      ASSIGN_OR_RETURN(const auto flags, refsum::measure::ParseFlags(args));
      return refsum::measure::RunSnp(flags, failure);
    }
    if (subcommand == "authenticode") {
      return refsum::measure::RunAuthenticode(args, failure);
    }
    if (subcommand == "uki") return refsum::measure::RunUki(args, failure);
    if (subcommand == "extend") return refsum::measure::RunExtend(args);
    if (subcommand == "verity") {
      return refsum::measure::RunVerity(args, failure);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unknown subcommand \"", subcommand, "\""));
  }();
  if (!code.ok()) {
    std::fprintf(stderr, "refsum-measure %s: %s\n%s", subcommand.c_str(),
                 std::string(code.status().message()).c_str(),
                 refsum::measure::kUsage);
    return 2;
  }
  if (failure.has_value()) {
    std::fprintf(stderr, "refsum-measure %s: %s\n", subcommand.c_str(),
                 failure->message.c_str());
    return failure->exit_code;
  }
  return *code;
}
