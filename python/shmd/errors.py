"""Errors raised by the shmd client: one class per error of the daemon."""

import builtins
from typing import Any, Dict, Optional

__all__ = [
    "Error", "ConnectionError", "NameExists", "NoSuchSegment",
    "PermissionDenied", "QuotaExceeded", "KeyInUse", "WrongNamespace",
    "SystemLimit", "StateError",
    "ProtocolError", "InvalidParameter", "MethodNotFound",
    "InterfaceNotFound", "ExpectedMore", "error_from_reply", "again",
]


class Error(Exception):
    """An error from shmd (or found by the client before asking it).

    ``error`` is the daemon's error name (``io.shmd.NameExists``), and
    every parameter of the error is an attribute (``e.name``, ``e.limit``,
    ``e.max``, ``e.key``, ``e.parameter``, ...).
    """

    error = "io.shmd.Error"

    def __init__(self, _text: Optional[str] = None, **parameters: Any):
        self.parameters: Dict[str, Any] = dict(parameters)
        for key, value in parameters.items():
            setattr(self, key, value)
        super().__init__(_text or self._describe())

    def _describe(self) -> str:
        detail = ", ".join("%s=%r" % kv for kv in sorted(self.parameters.items()))
        return "%s%s" % (self.error, " (%s)" % detail if detail else "")


class ConnectionError(Error, builtins.ConnectionError):
    """shmd cannot be reached, or closed the connection; names the socket."""

    error = "io.shmd.ConnectionError"

    def __init__(self, message: str, socket: str):
        Error.__init__(self, message, socket=socket)


class NameExists(Error):
    error = "io.shmd.NameExists"


class NoSuchSegment(Error):
    error = "io.shmd.NoSuchSegment"


class PermissionDenied(Error):
    error = "io.shmd.PermissionDenied"


class QuotaExceeded(Error):
    error = "io.shmd.QuotaExceeded"


class KeyInUse(Error):
    error = "io.shmd.KeyInUse"


class WrongNamespace(Error):
    """This process is in another IPC namespace than shmd, where shmids
    mean nothing. ``client`` and ``daemon`` are the two namespaces'
    inode numbers. Run the process in shmd's IPC namespace
    (``--ipc=host``, ``--ipc=container:`` the holder that owns shmd's
    namespace, or in shmd's pod)."""

    error = "io.shmd.WrongNamespace"

    def _describe(self) -> str:
        return ("%s: this process's IPC namespace is %s, shmd's %s; run it "
                "in shmd's (--ipc=host, --ipc=container: the holder of "
                "shmd's, or in shmd's pod)" % (self.error, self.parameters.get("client"),
                          self.parameters.get("daemon")))


class SystemLimit(Error):
    error = "io.shmd.SystemLimit"


class StateError(Error):
    """shmd could not record the change in its state directory (``path``,
    ``errno``): nothing changed; the same call works once it can."""

    error = "io.shmd.StateError"


class ProtocolError(Error):
    error = "io.shmd.ProtocolError"


class InvalidParameter(Error):
    error = "org.varlink.service.InvalidParameter"


class MethodNotFound(Error):
    error = "org.varlink.service.MethodNotFound"


class InterfaceNotFound(Error):
    error = "org.varlink.service.InterfaceNotFound"


class ExpectedMore(Error):
    error = "org.varlink.service.ExpectedMore"


_BY_NAME = {cls.error: cls for cls in (
    NameExists, NoSuchSegment, PermissionDenied, QuotaExceeded, KeyInUse,
    WrongNamespace, SystemLimit, StateError, ProtocolError, InvalidParameter,
    MethodNotFound,
    InterfaceNotFound, ExpectedMore)}


def error_from_reply(name: str, parameters: Optional[Dict[str, Any]]) -> Error:
    """The exception for an error reply of the daemon."""
    cls = _BY_NAME.get(name)
    params = dict(parameters or {})
    if cls is None:
        err = Error("%s %s" % (name, params), **params)
        err.error = name
        return err
    return cls(**params)


def again(error: Error) -> Error:
    """error anew, without a traceback, to raise once more: each raise of
    one instance adds to its traceback, and threads would share it."""
    fresh = type(error).__new__(type(error), *error.args)
    fresh.__dict__.update(error.__dict__)
    return fresh
