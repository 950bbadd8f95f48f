#!/usr/bin/env python3
"""io.shmd.varlink is the one list of methods and errors: the man page
shmd-protocol(7) documents each of them and none other; the Python client,
the Go client and libshmd (with the names common/ gives it) know every
error, and name no method or error the file lacks. A client may lack a
new method: it reaches it through its generic call until someone wraps
it. Read loosely: the names only, found where each spells them."""

import glob
import os
import re
import unittest

SRC = os.environ.get("TOP_SRCDIR") or os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", "..")

# Client-side names that are no method or error of the daemon's.
CLIENT_ONLY = {"io.shmd.Error", "io.shmd.ConnectionError", "io.shmd.varlink"}
NAME = re.compile(r"\bio\.shmd\.[A-Za-z]+\b")


def read(*parts):
    with open(os.path.join(SRC, *parts), encoding="utf-8") as f:
        return f.read()


def interface():
    """The methods and errors of io.shmd.varlink, fully qualified."""
    text = "\n".join(line.split("#", 1)[0]
                     for line in read("io.shmd.varlink").splitlines())
    iface = re.search(r"^interface\s+(\S+)", text, re.M).group(1)
    methods = {iface + "." + m
               for m in re.findall(r"^method\s+([A-Z]\w*)", text, re.M)}
    errors = {iface + "." + e
              for e in re.findall(r"^error\s+([A-Z]\w*)", text, re.M)}
    return methods, errors


def names_in(paths):
    found = set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            found |= set(NAME.findall(f.read()))
    return found - CLIENT_ONLY


class Interface(unittest.TestCase):
    def setUp(self):
        self.methods, self.errors = interface()
        self.assertTrue(self.methods and self.errors)

    def same(self, where, found, expected, may_lack=frozenset()):
        missing = sorted(expected - found - may_lack)
        extra = sorted(found - expected)
        self.assertFalse(missing or extra, "%s disagrees with io.shmd.varlink:"
                         " missing %s, not in the interface %s"
                         % (where, missing, extra))

    def test_man_page(self):
        man = read("man", "shmd-protocol.7.in")
        methods = {"io.shmd." + m for m in
                   re.findall(r"^\.SS ([A-Z]\w*)\(", man, re.M)}
        self.same("shmd-protocol(7)'s methods (.SS Name(...))", methods,
                  self.methods)
        errors = set(re.findall(r"^\.B (io\.shmd\.[A-Za-z]+) \{", man, re.M))
        self.same("shmd-protocol(7)'s ERRORS", errors, self.errors)

    def test_python(self):
        paths = glob.glob(os.path.join(SRC, "python", "shmd", "*.py"))
        self.same("the Python client (python/shmd)", names_in(paths),
                  self.methods | self.errors, self.methods)

    def test_go(self):
        paths = [p for p in glob.glob(os.path.join(SRC, "go", "*.go"))
                 if not p.endswith("_test.go")]
        self.same("the Go client (go/)", names_in(paths),
                  self.methods | self.errors, self.methods)

    def test_libshmd(self):
        proto_h, proto_c = read("common", "proto.h"), read("common", "proto.c")
        methods = set(re.findall(r"#define\s+PROTO_METHOD_\w+\s+\"(io\.shmd\.\w+)\"",
                                 proto_h))
        self.same("libshmd's methods (common/proto.h)", methods,
                  self.methods, self.methods)
        errors = set(re.findall(r"\"(io\.shmd\.\w+)\"", proto_c))
        self.same("libshmd's errors (common/proto.c)", errors, self.errors)
        # each error has its shmd_error (client/libshmd.c)
        enum = re.search(r"enum proto_error \{(.*?)\}", proto_h, re.S).group(1)
        codes = set(re.findall(r"PROTO_ERR_\w+", enum)) - {"PROTO_ERR_COUNT",
                                                            "PROTO_ERR_NONE"}
        mapped = set(re.findall(r"\[(PROTO_ERR_\w+)\]\s*=",
                                read("client", "libshmd.c")))
        self.assertFalse(codes - mapped, "libshmd gives no shmd_error for %s"
                         % sorted(codes - mapped))


if __name__ == "__main__":
    unittest.main()
