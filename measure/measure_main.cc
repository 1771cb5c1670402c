// refsum-measure: measurement calculators on the command line.
//
//   refsum-measure snp --mode snp --vcpus N (--vcpu-type NAME | --vcpu-sig N
//       | --vcpu-family F --vcpu-model M --vcpu-stepping S)
//       [--vmm-type QEMU|qemu|ec2|gce] --ovmf FILE [--kernel FILE
//       [--initrd FILE] [--append CMDLINE]] [--guest-features 0xN]
//       [--snp-ovmf-hash HEX] [--output-format hex|base64] [-v] [--spec]
//   refsum-measure snp --mode snp:ovmf-hash --ovmf FILE
//
// `snp` takes virtee/sev-snp-measure's flags with the same meanings and
// prints on stdout what sev-snp-measure prints (the digest in hex or
// base64; with -v, "Calculated SNP guest measurement: ..."), so one can
// stand in for the other. The value in refsum-submit's --value syntax, with
// the parameters the sev-snp calculator takes, goes to stderr as
// "value: amd-sev-snp/launch-measurement=sha384:...", or alone to stdout
// with --spec.
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
#include "measure/sev_snp.h"

namespace refsum::measure {
namespace {

constexpr char kUsage[] =
    "usage: refsum-measure snp --mode snp --vcpus N (--vcpu-type NAME | "
    "--vcpu-sig N | --vcpu-family F --vcpu-model M --vcpu-stepping S) "
    "[--vmm-type QEMU|qemu|ec2|gce] --ovmf FILE [--kernel FILE [--initrd "
    "FILE] [--append CMDLINE]] [--guest-features 0xN] [--snp-ovmf-hash HEX] "
    "[--output-format hex|base64] [-v] [--spec]\n"
    "       refsum-measure snp --mode snp:ovmf-hash --ovmf FILE "
    "[--output-format hex|base64] [-v]\n";

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

// sev-snp-measure's flags: "--name VALUE" or "--name=VALUE"; -v and
// --verbose and --spec take no value.
absl::StatusOr<std::map<std::string, std::string>> ParseFlags(
    const std::vector<std::string>& args) {
  static const std::set<std::string> kValued = {
      "mode",          "vcpus",        "vcpu-type",      "vcpu-sig",
      "vcpu-family",   "vcpu-model",   "vcpu-stepping",  "vmm-type",
      "ovmf",          "kernel",       "initrd",         "append",
      "guest-features", "snp-ovmf-hash", "output-format",
  };
  std::map<std::string, std::string> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-v" || arg == "--verbose" || arg == "--spec") {
      flags[arg == "--spec" ? "spec" : "verbose"] = "1";
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return Usage(absl::StrCat("unexpected argument \"", arg, "\""));
    }
    arg = arg.substr(2);
    std::string value;
    const size_t equals = arg.find('=');
    if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
      arg = arg.substr(0, equals);
    } else if (kValued.count(arg) != 0) {
      if (i + 1 >= args.size()) {
        return Usage(absl::StrCat("--", arg, " needs a value"));
      }
      value = args[++i];
    }
    if (kValued.count(arg) == 0) {
      return Usage(absl::StrCat("unknown flag --", arg));
    }
    if (!flags.emplace(arg, value).second) {
      return Usage(absl::StrCat("--", arg, " is given twice"));
    }
  }
  return flags;
}

// An integer as sev-snp-measure reads one (Python's int(s, 0)): decimal,
// or 0x/0o/0b-prefixed.
absl::StatusOr<uint64_t> ParseInteger(absl::string_view flag,
                                      absl::string_view text) {
  uint64_t value = 0;
  bool ok = false;
  if (absl::StartsWithIgnoreCase(text, "0x")) {
    ok = absl::SimpleHexAtoi(text.substr(2), &value) && text.size() > 2;
  } else if (text.size() == 1 || text[0] != '0') {
    ok = absl::SimpleAtoi(text, &value) && !text.empty() && text[0] != '+' &&
         text[0] != '-';
  }
  if (!ok) {
    return Usage(absl::StrCat("--", flag, " \"", text, "\" is not an integer"));
  }
  return value;
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
  if (args[0] != "snp") {
    std::fprintf(stderr, "refsum-measure: unknown subcommand \"%s\"\n%s",
                 args[0].c_str(), refsum::measure::kUsage);
    return 2;
  }
  args.erase(args.begin());
  std::optional<Failure> failure;
  absl::StatusOr<int> code = [&]() -> absl::StatusOr<int> {
    ASSIGN_OR_RETURN(const auto flags, refsum::measure::ParseFlags(args));
    return refsum::measure::RunSnp(flags, failure);
  }();
  if (!code.ok()) {
    std::fprintf(stderr, "refsum-measure snp: %s\n%s",
                 std::string(code.status().message()).c_str(),
                 refsum::measure::kUsage);
    return 2;
  }
  if (failure.has_value()) {
    std::fprintf(stderr, "refsum-measure snp: %s\n",
                 failure->message.c_str());
    return failure->exit_code;
  }
  return *code;
}
