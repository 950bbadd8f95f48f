#!/usr/bin/env python3
"""io.shmd.varlink is valid Varlink IDL (https://varlink.org's grammar,
checked here with the standard library only), every type it uses is
defined, and it names every method and error the protocol has."""

import os
import re
import sys
import unittest

SRC = os.environ.get("TOP_SRCDIR") or os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", "..")

INTERFACE = re.compile(r"[a-z]([-]*[a-z0-9])*(\.[a-z0-9]([-]*[a-z0-9])*)+\Z")
TYPE_NAME = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
FIELD_NAME = re.compile(r"[A-Za-z](_?[A-Za-z0-9])*\Z")
TOKEN = re.compile(r"\s*(->|\[\]|\[string\]|[(),:?]|[A-Za-z0-9_.-]+)")
BUILTIN = {"bool", "int", "float", "string", "object"}


class IDLError(Exception):
    pass


class Parser:
    def __init__(self, text):
        text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        self.toks, pos = [], 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = TOKEN.match(text, pos)
            if m is None:
                raise IDLError("bad character at %r" % text[pos:pos + 20])
            self.toks.append(m.group(1))
            pos = m.end()
        self.i = 0
        self.used, self.defined = set(), set()

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def take(self, want=None):
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise IDLError("expected %r, got %r" % (want, tok))
        self.i += 1
        return tok

    def type_(self):
        if self.peek() == "?":
            self.take()
        tok = self.peek()
        if tok in ("[]", "[string]"):
            self.take()
            return self.type_()
        if tok == "(":
            return self.struct_or_enum()
        self.take()
        if tok in BUILTIN:
            return
        if not TYPE_NAME.match(tok):
            raise IDLError("bad type %r" % tok)
        self.used.add(tok)

    def struct_or_enum(self):
        self.take("(")
        if self.peek() == ")":
            self.take()
            return "struct"
        kind = "struct" if self.peek(1) == ":" else "enum"
        names = set()
        while True:
            name = self.take()
            if not FIELD_NAME.match(name) or name in names:
                raise IDLError("bad or repeated name %r" % name)
            names.add(name)
            if kind == "struct":
                self.take(":")
                self.type_()
            if self.peek() == ",":
                self.take()
                continue
            self.take(")")
            return kind

    def parse(self):
        self.take("interface")
        name = self.take()
        if not INTERFACE.match(name):
            raise IDLError("bad interface name %r" % name)
        members = {"type": [], "method": [], "error": []}
        while self.peek() is not None:
            kw = self.take()
            if kw not in members:
                raise IDLError("unexpected %r" % kw)
            mname = self.take()
            if not TYPE_NAME.match(mname):
                raise IDLError("bad member name %r" % mname)
            members[kw].append(mname)
            if kw == "type":
                self.defined.add(mname)
                self.struct_or_enum()
            elif kw == "error":
                if self.struct_or_enum() != "struct":
                    raise IDLError("error %s: not a struct" % mname)
            else:
                if self.struct_or_enum() != "struct":
                    raise IDLError("method %s: input" % mname)
                self.take("->")
                if self.struct_or_enum() != "struct":
                    raise IDLError("method %s: output" % mname)
        undefined = self.used - self.defined
        if undefined:
            raise IDLError("undefined types: %s" % sorted(undefined))
        return name, members


class VarlinkFileTest(unittest.TestCase):
    def test_valid_and_complete(self):
        with open(os.path.join(SRC, "io.shmd.varlink")) as f:
            name, members = Parser(f.read()).parse()
        self.assertEqual(name, "io.shmd")
        self.assertEqual(sorted(members["method"]), sorted(
            ["Create", "Open", "Destroy", "List", "Status", "Watch"]))
        self.assertEqual(sorted(members["error"]), sorted(
            ["NameExists", "NoSuchSegment", "PermissionDenied",
             "QuotaExceeded", "WrongNamespace", "KeyInUse", "SystemLimit", "StateError",
             "ProtocolError"]))

    def test_the_validator_refuses(self):
        for bad in ("interface io.shmd\ntype x (a: int)",
                    "interface io\nmethod A() -> ()",
                    "interface io.shmd\nmethod A(b: Nope) -> ()",
                    "interface io.shmd\nmethod A(b: int, b: int) -> ()",
                    "interface io.shmd\nmethod A(b int) -> ()",
                    "interface io.shmd\nerror E (a, b)"):
            with self.assertRaises(IDLError, msg=bad):
                Parser(bad).parse()


if __name__ == "__main__":
    result = unittest.main(verbosity=2, exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)
