#include "witness/rebuild_testing.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "encoding/json.h"
#include "gtest/gtest.h"
#include "statement/digest.h"
#include "witness/subprocess.h"

namespace refsum::witness {
namespace {

// The build script of ProjectKind::kReproducible; `${STAMP}` marks where the
// timestamped variant writes the time. OUT lets the vendor build outside the
// sandbox.
constexpr char kBuildScript[] = R"(#!/bin/sh
# Builds image.tar.gz reproducibly and measures it into TPM PCR 4.
set -eu
out=${OUT:-/out}
name=$(printf '%s\n' "$REFSUM_SUBJECTS" | head -n 1)
${STAMP}
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  --mode=go=rX,u+rw -C image -cf - . | gzip -n > "$out/$name"
digest=$(sha256sum "$out/$name" | cut -d ' ' -f 1)
pcr=$( { head -c 32 /dev/zero; printf '%s' "$digest" | xxd -r -p; } |
  sha256sum | cut -d ' ' -f 1)
printf '[{"platform":"tpm","kind":"pcr","index":4,"digest":{"sha256":"%s"}}]\n' \
  "$pcr" > "$out/reference-values.json"
)";

std::string BuildScript(ProjectKind kind) {
  std::string script = kBuildScript;
  std::string stamp;
  if (kind == ProjectKind::kTimestamped) {
    stamp = "date +%s.%N > image/built-at";
  } else if (kind == ProjectKind::kBroken) {
    stamp = "echo 'this project does not build' >&2; exit 3";
  }
  script.replace(script.find("${STAMP}"), 8, stamp);
  return script;
}

// Runs `argv` with a plain environment plus `env`, in `cwd`.
SubprocessResult Run(const std::vector<std::string>& argv,
                     const std::vector<std::string>& env,
                     const std::string& cwd) {
  SubprocessOptions options;
  options.argv = argv;
  options.env = {"PATH=/usr/bin:/bin", "HOME=/nonexistent",
                 "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"};
  options.env.insert(options.env.end(), env.begin(), env.end());
  options.cwd = cwd;
  // Generous: bounds a misbehaving test, never its speed.
  options.timeout = absl::Minutes(5);
  absl::StatusOr<SubprocessResult> result = RunSubprocess(options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : SubprocessResult();
}

// Runs git with `args`; returns its output without surrounding whitespace.
std::string RunGit(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/git"};
  argv.insert(argv.end(), args.begin(), args.end());
  const SubprocessResult result = Run(
      argv,
      {"GIT_AUTHOR_NAME=Vendor", "GIT_AUTHOR_EMAIL=vendor@example.com",
       "GIT_COMMITTER_NAME=Vendor", "GIT_COMMITTER_EMAIL=vendor@example.com"},
      "");
  EXPECT_TRUE(result.ok()) << absl::StrJoin(args, " ") << ": " << result.output;
  return std::string(absl::StripAsciiWhitespace(result.output));
}

}  // namespace

TestRepository::TestRepository(std::string path) : path_(std::move(path)) {
  RunGit({"init", "--quiet", "--initial-branch=main", path_});
}

std::string TestRepository::Git(const std::vector<std::string>& args) {
  std::vector<std::string> with_path = {"-C", path_};
  with_path.insert(with_path.end(), args.begin(), args.end());
  return RunGit(with_path);
}

void TestRepository::Write(const std::string& relative_path,
                           const std::string& contents) {
  const std::string path = absl::StrCat(path_, "/", relative_path);
  ASSERT_TRUE(MakeDirectories(path.substr(0, path.rfind('/')), 0755).ok());
  ASSERT_TRUE(WriteFileAtomically(path, contents, 0644).ok());
  Git({"add", relative_path});
}

std::string TestRepository::Commit(const std::string& message) {
  Git({"commit", "--quiet", "-m", message});
  return Git({"rev-parse", "HEAD"});
}

std::string CommitProject(TestRepository& repository, ProjectKind kind) {
  repository.Write("build.sh", BuildScript(kind));
  repository.Write("image/boot/kernel", "a kernel, of sorts\n");
  repository.Write("image/etc/os-release", "NAME=refsum-test-os\n");
  repository.Write("image/README", "An image that builds reproducibly.\n");
  return repository.Commit("the project");
}

absl::StatusOr<statement::Claim> VendorClaim(const TestRepository& repository,
                                             const std::string& commit,
                                             const std::string& out_dir) {
  const SubprocessResult built =
      Run({"/bin/sh", "build.sh"},
          {absl::StrCat("OUT=", out_dir),
           absl::StrCat("REFSUM_SUBJECTS=", kProjectArtifact)},
          repository.path());
  if (!built.ok()) {
    return absl::InternalError(
        absl::StrCat("the vendor's build failed: ", built.output));
  }
  ASSIGN_OR_RETURN(const std::string artifact,
                   ReadFile(absl::StrCat(out_dir, "/", kProjectArtifact)));
  ASSIGN_OR_RETURN(const std::string values_text,
                   ReadFile(absl::StrCat(out_dir, "/reference-values.json")));
  ASSIGN_OR_RETURN(const encoding::JsonValue values_json,
                   encoding::ParseJson(values_text));
  ASSIGN_OR_RETURN(
      const encoding::JsonArrayReader values_array,
      encoding::ReadJsonAs<encoding::JsonArrayReader>(values_json, ""));
  statement::Claim claim;
  ASSIGN_OR_RETURN(claim.reference_values,
                   statement::ReadReferenceValues(
                       values_array, statement::ValueSource::kPlain));
  claim.subjects = {{kProjectArtifact,
                     {{"sha256", crypto::Sha256Hex(artifact)}},
                     std::nullopt}};
  claim.source = {repository.url(), commit, std::nullopt};
  claim.build = {kProjectRecipe, std::nullopt};
  RETURN_IF_ERROR(statement::ValidateClaim(claim));
  return claim;
}

std::string PcrExtendOfArtifact(const std::string& artifact) {
  const crypto::Sha256Digest measurement = crypto::Sha256(artifact);
  return encoding::HexEncode(crypto::DigestBytes(crypto::Sha256(
      {std::string(32, '\0'), crypto::DigestBytes(measurement)})));
}

LoopbackListener::LoopbackListener() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd_, 0);
  struct sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(
      bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(listen(fd_, 16), 0);
  socklen_t length = sizeof(address);
  EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length),
            0);
  port_ = ntohs(address.sin_port);
}

LoopbackListener::~LoopbackListener() {
  if (fd_ >= 0) close(fd_);
}

bool LoopbackListener::ConnectionAttempted() {
  const int accepted = accept(fd_, nullptr, nullptr);
  if (accepted >= 0) {
    close(accepted);
    return true;
  }
  EXPECT_EQ(errno, EAGAIN);
  return false;
}

}  // namespace refsum::witness
