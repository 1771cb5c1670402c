// Test helpers for the rebuild pipeline: git repositories made on the spot,
// the reproducible project the tests build, and the vendor's side of a
// claim (building it outside the sandbox, as a vendor would).
//
// The project is a directory `image/` turned into image.tar.gz by build.sh
// with tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner and
// gzip -n, and measured as a TPM would measure it into PCR 4: the extend
// SHA-256(32 zero bytes || SHA-256(artifact)), computed by the script with
// sha256sum and xxd. The variant kTimestamped also writes the build time
// into the image, so two builds never agree.
//
// Not thread-safe; for one test at a time.

#ifndef REFSUM_WITNESS_REBUILD_TESTING_H_
#define REFSUM_WITNESS_REBUILD_TESTING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "statement/claim.h"

namespace refsum::witness {

// The scope recipe that runs the project's build.
inline constexpr char kProjectRecipe[] = "sh build.sh";
// The subject name the project's claims use.
inline constexpr char kProjectArtifact[] = "image.tar.gz";

enum class ProjectKind {
  kReproducible,
  kTimestamped,
  // build.sh exits 3 without building.
  kBroken,
};

// A git repository in a directory of the test's.
class TestRepository {
 public:
  // Creates a repository at `path` (which must not exist) with `git init`.
  explicit TestRepository(std::string path);

  const std::string& path() const { return path_; }
  // "file://" + path.
  std::string url() const { return "file://" + path_; }

  // Writes `contents` to `relative_path` in the working tree (creating
  // directories), and stages it.
  void Write(const std::string& relative_path, const std::string& contents);

  // Commits what is staged; returns the commit id.
  std::string Commit(const std::string& message);

  // Runs git in the repository; returns its output without surrounding
  // whitespace. Fails the test when git fails.
  std::string Git(const std::vector<std::string>& args);

 private:
  std::string path_;
};

// Writes the project of `kind` into `repository` and commits it; returns the
// commit.
std::string CommitProject(TestRepository& repository, ProjectKind kind);

// Builds the project as its vendor would, outside the sandbox, from the
// working tree of `repository` into `out_dir` (which must exist), and
// returns the vendor's claim of `commit`: subject kProjectArtifact with the
// artifact's sha256, the reference values build.sh computed, and
// build.recipe kProjectRecipe.
absl::StatusOr<statement::Claim> VendorClaim(const TestRepository& repository,
                                             const std::string& commit,
                                             const std::string& out_dir);

// Returns the lowercase hex TPM PCR extend of a zeroed PCR with the SHA-256
// of `artifact`, computed here rather than by the build script.
std::string PcrExtendOfArtifact(const std::string& artifact);

// A TCP listener on the host's 127.0.0.1 that never accepts by itself, for
// tests that a build cannot reach the host's network: after the build,
// ConnectionAttempted() tells whether anything connected.
class LoopbackListener {
 public:
  // Listens on a free port; fails the test if it cannot.
  LoopbackListener();
  ~LoopbackListener();

  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  int port() const { return port_; }
  // Accepts, without waiting, a connection that reached the listener.
  bool ConnectionAttempted();

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_REBUILD_TESTING_H_
