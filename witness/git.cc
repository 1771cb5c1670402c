#include "witness/git.h"

#include <errno.h>
#include <sys/stat.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "crypto/sha256.h"
#include "encoding/hex.h"
#include "witness/files.h"
#include "witness/subprocess.h"

namespace refsum::witness {
namespace {

// How much of git's output an error message quotes.
constexpr size_t kMaxQuotedOutput = 4000;

std::vector<std::string> GitEnvironment() {
  std::vector<std::string> env = HelperEnvironment();
  env.insert(env.end(), {"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
                         "GIT_TERMINAL_PROMPT=0"});
  return env;
}

// Configuration given on every command line, which overrides anything a
// repository's own configuration could say.
const std::vector<std::string>& SafeConfiguration() {
  static const auto* const config = new std::vector<std::string>{
      "-c",
      "core.hooksPath=/dev/null",
      "-c",
      "core.fsmonitor=false",
      "-c",
      "protocol.ext.allow=never",
      // The checkout fetches from the cache over file://.
      "-c",
      "protocol.file.allow=always",
      "-c",
      "gc.autoDetach=false",
      "-c",
      "maintenance.autoDetach=false",
      "-c",
      "advice.detachedHead=false",
      "-c",
      "init.defaultBranch=main",
  };
  return *config;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::string Quote(absl::string_view output) {
  output = absl::StripAsciiWhitespace(output);
  if (output.size() > kMaxQuotedOutput) {
    output = output.substr(output.size() - kMaxQuotedOutput);
  }
  return std::string(output);
}

}  // namespace

GitFetcher::GitFetcher(GitOptions options)
    : options_(std::move(options)), env_(GitEnvironment()) {}

std::string GitFetcher::CacheDirectory(absl::string_view repository,
                                       size_t commit_hex_length) const {
  return absl::StrCat(options_.cache_dir, "/", crypto::Sha256Hex(repository),
                      "-", commit_hex_length == 64 ? "sha256" : "sha1", ".git");
}

absl::Mutex& GitFetcher::CacheMutex(const std::string& cache) const {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<absl::Mutex>& mutex = cache_mutexes_[cache];
  if (mutex == nullptr) mutex = std::make_unique<absl::Mutex>();
  return *mutex;
}

absl::StatusOr<std::string> GitFetcher::Git(
    const std::vector<std::string>& args, absl::string_view what,
    const absl::Notification* cancel) const {
  SubprocessOptions subprocess;
  subprocess.argv = {options_.git_path};
  subprocess.argv.insert(subprocess.argv.end(), SafeConfiguration().begin(),
                         SafeConfiguration().end());
  subprocess.argv.insert(subprocess.argv.end(), args.begin(), args.end());
  subprocess.env = env_;
  subprocess.timeout = options_.timeout;
  subprocess.cancel = cancel;
  ASSIGN_OR_RETURN(const SubprocessResult result, RunSubprocess(subprocess));
  if (result.ok()) return result.output;
  const std::string message =
      absl::StrCat(what, ": git ", result.Describe(options_.timeout), ": ",
                   Quote(result.output));
  if (result.cancelled) return absl::CancelledError(message);
  if (result.timed_out) return absl::DeadlineExceededError(message);
  return absl::InternalError(message);
}

absl::Status GitFetcher::Checkout(const statement::Source& source,
                                  const std::string& destination,
                                  const absl::Notification* cancel) const {
  const std::string& repository = source.repository;
  const std::string& commit = source.commit;
  if (!encoding::IsLowerHex(commit, 20) && !encoding::IsLowerHex(commit, 32)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", commit, "\" is not a commit (40 or 64 lowercase hex digits)"));
  }
  if (source.tag.has_value()) {
    const absl::StatusOr<std::string> checked =
        Git({"check-ref-format", absl::StrCat("refs/tags/", *source.tag)},
            "checking the tag name", cancel);
    if (!checked.ok()) {
      if (checked.status().code() != absl::StatusCode::kInternal) {
        return checked.status();
      }
      return absl::InvalidArgumentError(
          absl::StrCat("\"", *source.tag, "\" is not a valid git tag name"));
    }
  }
  if (Exists(destination)) {
    return absl::AlreadyExistsError(
        absl::StrCat("the checkout directory ", destination, " exists"));
  }
  const std::string object_format =
      absl::StrCat("--object-format=", commit.size() == 64 ? "sha256" : "sha1");
  const std::string cache = CacheDirectory(repository, commit.size());
  RETURN_IF_ERROR(MakeDirectories(options_.cache_dir, 0700));
  {
    absl::MutexLock lock(&CacheMutex(cache));
    if (!Exists(cache)) {
      // Made complete under a temporary name, so that a crash never leaves
      // a cache without its configuration.
      const std::string fresh = cache + ".new";
      RETURN_IF_ERROR(RemoveTree(fresh));
      RETURN_IF_ERROR(Git({"init", "--quiet", "--bare",
                           "--template=", object_format, fresh},
                          "creating the cache", cancel)
                          .status());
      // Lets the checkout fetch exactly the claimed commit, whatever refs
      // point at it.
      RETURN_IF_ERROR(
          Git({"-C", fresh, "config", "uploadpack.allowAnySHA1InWant", "true"},
              "configuring the cache", cancel)
              .status());
      if (rename(fresh.c_str(), cache.c_str()) != 0) {
        return ErrnoStatus(errno, absl::StrCat("renaming ", fresh));
      }
    }
    const absl::StatusOr<std::string> fetched = Git(
        {"-C", cache, "fetch", "--quiet", "--prune", "--force", "--",
         repository, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"},
        absl::StrCat("fetching ", repository), cancel);
    if (!fetched.ok()) {
      if (fetched.status().code() != absl::StatusCode::kInternal) {
        return fetched.status();
      }
      return absl::UnavailableError(fetched.status().message());
    }
    const std::string commit_object = absl::StrCat(commit, "^{commit}");
    if (!Git({"-C", cache, "cat-file", "-e", commit_object},
             "looking for the commit", cancel)
             .ok()) {
      // Not on any branch or tag: servers that allow it hand out a commit
      // by its id. Kept under a ref of its own so that it stays cached.
      const absl::Status by_id =
          Git({"-C", cache, "fetch", "--quiet", "--", repository,
               absl::StrCat("+", commit, ":refs/refsum/", commit)},
              absl::StrCat("fetching ", commit), cancel)
              .status();
      if (absl::IsCancelled(by_id) || absl::IsDeadlineExceeded(by_id)) {
        return by_id;
      }
      if (!Git({"-C", cache, "cat-file", "-e", commit_object},
               "looking for the commit", cancel)
               .ok()) {
        return absl::NotFoundError(
            absl::StrCat("repository ", repository, " has no commit ", commit));
      }
    }
    if (source.tag.has_value()) {
      const absl::StatusOr<std::string> tagged =
          Git({"-C", cache, "rev-parse", "--verify", "--quiet",
               absl::StrCat("refs/tags/", *source.tag, "^{commit}")},
              "resolving the tag", cancel);
      if (!tagged.ok()) {
        if (tagged.status().code() != absl::StatusCode::kInternal) {
          return tagged.status();
        }
        return absl::FailedPreconditionError(absl::StrCat(
            "repository ", repository, " has no tag ", *source.tag));
      }
      const absl::string_view tagged_commit =
          absl::StripAsciiWhitespace(*tagged);
      if (tagged_commit != commit) {
        return absl::FailedPreconditionError(absl::StrCat(
            "tag ", *source.tag, " of ", repository, " names commit ",
            tagged_commit, ", not the claimed ", commit));
      }
    }
    RETURN_IF_ERROR(
        Git({"init", "--quiet", "--template=", object_format, destination},
            "creating the checkout", cancel)
            .status());
    RETURN_IF_ERROR(
        Git({"-C", destination, "fetch", "--quiet", "--depth=1", "--no-tags",
             "--", absl::StrCat("file://", cache), commit},
            "copying the commit from the cache", cancel)
            .status());
  }
  RETURN_IF_ERROR(
      Git({"-C", destination, "checkout", "--quiet", "--detach", commit},
          "checking out the commit", cancel)
          .status());
  ASSIGN_OR_RETURN(
      const std::string head,
      Git({"-C", destination, "rev-parse", "HEAD"}, "reading HEAD", cancel));
  if (absl::StripAsciiWhitespace(head) != commit) {
    return absl::FailedPreconditionError(
        absl::StrCat("the checkout of ", repository, " is at ",
                     absl::StripAsciiWhitespace(head), ", not at ", commit));
  }
  return absl::OkStatus();
}

}  // namespace refsum::witness
