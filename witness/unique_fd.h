// An owned file descriptor, closed when its owner goes.

#ifndef REFSUM_WITNESS_UNIQUE_FD_H_
#define REFSUM_WITNESS_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace refsum::witness {

// Not thread-safe; like the descriptor it owns, belongs to one owner.
class UniqueFd {
 public:
  // Owns `fd`, or nothing when it is negative.
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() { Reset(); }

  UniqueFd(UniqueFd&& other) : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership and returns the descriptor.
  int Release() { return std::exchange(fd_, -1); }

  // Closes the owned descriptor, if any, and owns `fd` instead.
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

}  // namespace refsum::witness

#endif  // REFSUM_WITNESS_UNIQUE_FD_H_
