"""Generates C++ protobuf and gRPC code with the system protoc.

cc_grpc_proto(name, srcs, deps) runs /usr/bin/protoc with grpc_cpp_plugin over
`srcs` and wraps the generated files in a cc_library called `name`. `deps` are
other cc_grpc_proto targets whose .proto files `srcs` import. Import paths are
relative to the workspace root (e.g. `import "proto/dsse.proto";`).
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

def _outputs(srcs, suffixes):
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + suffix for suffix in suffixes]
    return outs

def cc_grpc_proto(name, srcs, deps = [], visibility = None):
    hdrs = _outputs(srcs, [".pb.h", ".grpc.pb.h"])
    cc_srcs = _outputs(srcs, [".pb.cc", ".grpc.pb.cc"])
    native.filegroup(
        name = name + "_proto_files",
        srcs = srcs + [dep + "_proto_files" for dep in deps],
        visibility = visibility,
    )
    native.genrule(
        name = name + "_codegen",
        srcs = srcs + [dep + "_proto_files" for dep in deps],
        outs = hdrs + cc_srcs,
        cmd = " ".join([
            "protoc",
            "--proto_path=.",
            "--cpp_out=$(GENDIR)",
            "--grpc_out=$(GENDIR)",
            "--plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin)",
        ] + ["$(location %s)" % src for src in srcs]),
    )
    cc_library(
        name = name,
        srcs = cc_srcs,
        hdrs = hdrs,
        deps = deps + [
            "//third_party:grpc",
            "//third_party:protobuf",
        ],
        visibility = visibility,
    )
