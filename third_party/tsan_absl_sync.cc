// Makes Abseil's synchronization visible to ThreadSanitizer.
//
// Debian's libabsl_synchronization is not built with -fsanitize=thread, so
// TSan does not see absl::Mutex, CondVar or Notification order anything:
// every field guarded by an absl::Mutex would be reported as a race. Under
// --config=tsan, //third_party:absl links this file and asks the linker to
// route our calls to those functions here (-Wl,--wrap=SYMBOL, see
// third_party/BUILD.bazel); each wrapper calls the real function and tells
// TSan what it synchronized:
//   - releasing a lock (Unlock, and the release inside Await and
//     CondVar::Wait) publishes this thread's writes: __tsan_release(mu);
//   - acquiring it (Lock, a TryLock that succeeded, the reacquire at the end
//     of Await, LockWhen and CondVar::Wait) sees them: __tsan_acquire(mu);
//   - Notify publishes, and a wait or HasBeenNotified() that saw the
//     notification acquires;
//   - a Condition is evaluated between an acquire and a release (see
//     AnnotatedCondition).
// Reader locks are treated like writer locks, so TSan may miss a race
// between two readers that write, which a reader lock forbids anyway.
//
// Only calls from our own object files are wrapped; Abseil's calls to itself
// and those from other system libraries are not (nor need to be).
//
// The symbol names are those of Debian 12's libabsl (namespace
// absl::debian3); if they change, the __real_ references below fail to link.

#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstddef>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

// absl::Notification's members, in order: HasBeenNotified() is inline and
// passes only &notified_yet_ to the library, so wrappers key a Notification
// by that address.
struct NotificationLayout {
  absl::Mutex mutex;
  std::atomic<bool> notified_yet;
};
static_assert(sizeof(NotificationLayout) == sizeof(absl::Notification),
              "absl::Notification's layout changed");

const void* NotificationKey(const absl::Notification* n) {
  return reinterpret_cast<const char*>(n) +
         offsetof(NotificationLayout, notified_yet);
}

void Acquire(const void* key) { __tsan_acquire(const_cast<void*>(key)); }
void Release(const void* key) { __tsan_release(const_cast<void*>(key)); }

// A condition is evaluated with its mutex held, but by whichever thread
// holds it at the time (the waiter, or one unlocking), inside the library,
// where no wrapper sees the lock change hands. So each evaluation acquires
// before it reads and releases after, through this wrapper.
struct AnnotatedCondition {
  const absl::Condition* condition;
  absl::Mutex* mu;
};

bool EvalAnnotated(void* arg) {
  const auto* annotated = static_cast<const AnnotatedCondition*>(arg);
  Acquire(annotated->mu);
  const bool result = annotated->condition->Eval();
  Release(annotated->mu);
  return result;
}

}  // namespace


extern "C" {

using absl::Condition;
using absl::CondVar;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

// absl::Mutex::Lock() and friends.
void __real__ZN4absl7debian35Mutex4LockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex4LockEv(Mutex* mu) {
  __real__ZN4absl7debian35Mutex4LockEv(mu);
  Acquire(mu);
}

void __real__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu) {
  Release(mu);
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
}

bool __real__ZN4absl7debian35Mutex7TryLockEv(Mutex* mu);
bool __wrap__ZN4absl7debian35Mutex7TryLockEv(Mutex* mu) {
  bool locked = __real__ZN4absl7debian35Mutex7TryLockEv(mu);
  if (locked) Acquire(mu);
  return locked;
}

void __real__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu) {
  __real__ZN4absl7debian35Mutex10ReaderLockEv(mu);
  Acquire(mu);
}

void __real__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu) {
  Release(mu);
  __real__ZN4absl7debian35Mutex12ReaderUnlockEv(mu);
}

bool __real__ZN4absl7debian35Mutex13ReaderTryLockEv(Mutex* mu);
bool __wrap__ZN4absl7debian35Mutex13ReaderTryLockEv(Mutex* mu) {
  bool locked = __real__ZN4absl7debian35Mutex13ReaderTryLockEv(mu);
  if (locked) Acquire(mu);
  return locked;
}

// LockWhen: the condition may be evaluated by whichever thread unlocks mu,
// so publish what this thread wrote before (e.g. the condition's captures).
void __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond) {
  AnnotatedCondition annotated{&cond, mu};
  Release(mu);
  __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(mu, Condition(&EvalAnnotated, &annotated));
  Acquire(mu);
}

void __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond) {
  AnnotatedCondition annotated{&cond, mu};
  Release(mu);
  __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(mu, Condition(&EvalAnnotated, &annotated));
  Acquire(mu);
}

// The *WithTimeout and *WithDeadline variants hold mu on return whether or
// not the condition became true.
bool __real__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout);
bool __wrap__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout) {
  AnnotatedCondition annotated{&cond, mu};
  Release(mu);
  bool result =
      __real__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
          mu, Condition(&EvalAnnotated, &annotated), timeout);
  Acquire(mu);
  return result;
}

bool __real__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline);
bool __wrap__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline) {
  AnnotatedCondition annotated{&cond, mu};
  Release(mu);
  bool result =
      __real__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
          mu, Condition(&EvalAnnotated, &annotated), deadline);
  Acquire(mu);
  return result;
}

// Await releases mu while it waits and holds it again on return.
void __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(
    Mutex* mu, const Condition& cond) {
  AnnotatedCondition annotated{&cond, mu};
  Release(mu);
  __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, Condition(&EvalAnnotated, &annotated));
  Acquire(mu);
}

bool __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout);
bool __wrap__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout) {
  AnnotatedCondition annotated{&cond, mu};
  Release(mu);
  bool result =
      __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
          mu, Condition(&EvalAnnotated, &annotated), timeout);
  Acquire(mu);
  return result;
}

bool __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline);
bool __wrap__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline) {
  AnnotatedCondition annotated{&cond, mu};
  Release(mu);
  bool result =
      __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
          mu, Condition(&EvalAnnotated, &annotated), deadline);
  Acquire(mu);
  return result;
}

// absl::CondVar: Wait releases mu and holds it again on return.
void __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar* cv, Mutex* mu);
void __wrap__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar* cv,
                                                       Mutex* mu) {
  Release(mu);
  __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(cv, mu);
  Acquire(mu);
}

bool __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar* cv, Mutex* mu, Duration timeout);
bool __wrap__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar* cv, Mutex* mu, Duration timeout) {
  Release(mu);
  bool result =
      __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
          cv, mu, timeout);
  Acquire(mu);
  return result;
}

bool __real__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
    CondVar* cv, Mutex* mu, Time deadline);
bool __wrap__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
    CondVar* cv, Mutex* mu, Time deadline) {
  Release(mu);
  bool result =
      __real__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
          cv, mu, deadline);
  Acquire(mu);
  return result;
}

// absl::Notification.
void __real__ZN4absl7debian312Notification6NotifyEv(Notification* n);
void __wrap__ZN4absl7debian312Notification6NotifyEv(Notification* n) {
  Release(NotificationKey(n));
  __real__ZN4absl7debian312Notification6NotifyEv(n);
}

void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const Notification* n);
void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const Notification* n) {
  __real__ZNK4absl7debian312Notification19WaitForNotificationEv(n);
  Acquire(NotificationKey(n));
}

bool __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration timeout);
bool __wrap__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration timeout) {
  bool notified =
      __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
          n, timeout);
  if (notified) Acquire(NotificationKey(n));
  return notified;
}

bool __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const Notification* n, Time deadline);
bool __wrap__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const Notification* n, Time deadline) {
  bool notified =
      __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
          n, deadline);
  if (notified) Acquire(NotificationKey(n));
  return notified;
}

// Called by the inline Notification::HasBeenNotified() with &notified_yet_.
bool __real__ZN4absl7debian312Notification23HasBeenNotifiedInternalEPKSt6atomicIbE(
    const std::atomic<bool>* notified_yet);
bool __wrap__ZN4absl7debian312Notification23HasBeenNotifiedInternalEPKSt6atomicIbE(
    const std::atomic<bool>* notified_yet) {
  bool notified =
      __real__ZN4absl7debian312Notification23HasBeenNotifiedInternalEPKSt6atomicIbE(
          notified_yet);
  if (notified) Acquire(notified_yet);
  return notified;
}

}  // extern "C"
