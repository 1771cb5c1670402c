"""refsum_fuzz_target: one libFuzzer target and the test that replays it.

For a target NAME (source tests/fuzz/NAME.cc defining LLVMFuzzerTestOneInput)
this makes:

  NAME_test    a cc_test that runs LLVMFuzzerTestOneInput once on every file
               of corpus/NAME/ and regressions/NAME/ (driver_main.cc), so every
               build of the suite, gcc or --config=asan, replays the seeds and
               every input that once crashed;
  NAME_fuzzer  the libFuzzer binary under --config=fuzz (clang,
               -fsanitize=fuzzer); in other builds the same replay driver, so
               that `bazel build //...` keeps it compiling.

tests/fuzz/run.sh runs every NAME_fuzzer.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def refsum_fuzz_target(name, srcs, deps = [], size = "small"):
    """Declares NAME_test and NAME_fuzzer; see the file comment.

    Args:
      name: the target's name; its inputs live in corpus/NAME/ and
        regressions/NAME/.
      srcs: the .cc file(s) defining LLVMFuzzerTestOneInput.
      deps: the libraries under test.
      size: the cc_test's size.
    """
    inputs = native.glob(
        ["corpus/%s/**" % name, "regressions/%s/**" % name],
        exclude = ["**/README*"],
    )
    if not inputs:
        fail("refsum_fuzz_target %s: corpus/%s/ has no seed inputs" % (name, name))

    cc_test(
        name = name + "_test",
        size = size,
        srcs = srcs,
        args = ["$(rootpath %s)" % f for f in inputs],
        data = inputs,
        deps = deps + [":driver_main"],
    )

    cc_binary(
        name = name + "_fuzzer",
        srcs = srcs,
        linkopts = select({
            ":fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps + select({
            ":fuzzing": [],
            "//conditions:default": [":driver_main"],
        }),
        tags = ["fuzz_target"],
    )
