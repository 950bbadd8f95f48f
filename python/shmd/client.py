"""A client of shmd: its Varlink protocol over a Unix socket (shmd-protocol(7))."""

import json
import os
import re
import socket as _socket
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .errors import (ConnectionError, InvalidParameter, PermissionDenied,
                     error_from_reply)
from .segment import Segment

__all__ = ["Client", "DEFAULT_SOCKET", "socket_path"]

DEFAULT_SOCKET = "/run/shmd/shmd.sock"
_NAME = re.compile(r"[A-Za-z0-9._:@/-]{1,255}\Z")
# A first component uid:N or gid:N (N decimal, no leading zeros) is reserved.
_RESERVED = re.compile(r"(uid|gid):(0|[1-9][0-9]*)(/|\Z)")


def ipc_namespace() -> Optional[int]:
    """This process's IPC namespace (the inode of /proc/self/ns/ipc)."""
    try:
        return os.stat("/proc/self/ns/ipc").st_ino
    except OSError:
        return None


def _may_name(name: str) -> bool:
    """Whether this process may create name (shmd-protocol(7)'s reserved names)."""
    m = _RESERVED.match(name)
    if m is None or os.geteuid() == 0 or int(m.group(2)) > 2 ** 32 - 1:
        return True
    n = int(m.group(2))
    if m.group(1) == "uid":
        return os.geteuid() == n
    return os.getegid() == n or n in os.getgroups()
_LIFETIMES = ("detach", "process", "persistent")


def socket_path(socket: Optional[str] = None) -> str:
    """The socket a client uses: ``socket``, else $SHMD_SOCKET, else the default."""
    return socket or os.environ.get("SHMD_SOCKET") or DEFAULT_SOCKET


class _Connection:
    """One socket to the daemon: NUL-terminated JSON, both ways."""

    def __init__(self, path: str):
        self.path = path
        self.buf = b""
        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            self.sock.connect(path)
        except OSError as exc:
            self.sock.close()
            raise ConnectionError("cannot connect to shmd at %s: %s"
                                  % (path, exc.strerror or exc), path) from exc

    def send(self, method: str, params: Optional[Dict[str, Any]] = None,
             more: bool = False) -> None:
        msg: Dict[str, Any] = {"method": method}
        if params:
            msg["parameters"] = params
        if more:
            msg["more"] = True
        data = json.dumps(msg, separators=(",", ":")).encode() + b"\0"
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise ConnectionError("shmd at %s: %s" % (self.path, exc),
                                  self.path) from exc

    def recv(self) -> Dict[str, Any]:
        while b"\0" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except OSError as exc:
                raise ConnectionError("shmd at %s: %s" % (self.path, exc),
                                      self.path) from exc
            if not chunk:
                raise ConnectionError("shmd at %s closed the connection"
                                      % self.path, self.path)
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        reply = json.loads(msg)
        if "error" in reply:
            raise error_from_reply(reply["error"], reply.get("parameters"))
        return reply

    def call(self, method: str, params: Optional[Dict[str, Any]] = None
             ) -> Dict[str, Any]:
        self.send(method, params)
        return self.recv().get("parameters") or {}

    def close(self) -> None:
        self.sock.close()


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or \
            not low <= value <= high:
        raise InvalidParameter(parameter=name)


class Client:
    """A connection to shmd.

    ``socket`` is the daemon's socket; without it ``$SHMD_SOCKET``, else
    ``/run/shmd/shmd.sock``. A context manager; ``close()`` ends it.
    Not for use by two threads at once.
    """

    def __init__(self, socket: Optional[str] = None):
        self.socket = socket_path(socket)
        self._conn = _Connection(self.socket)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def _add_namespace(self, params: Dict[str, Any]) -> None:
        # shmd refuses shmids that would mean nothing here (WrongNamespace)
        ns = ipc_namespace()
        if ns is not None:
            params["ipc_namespace"] = ns

    def create(self, name: str, size: int, *, mode: int = 0o600,
               lifetime: str = "detach", key: Optional[int] = None,
               uid: Optional[int] = None, gid: Optional[int] = None,
               attach_timeout: Optional[int] = None,
               exist_ok: bool = False) -> Segment:
        """Create a segment. ``key``: None lets the daemon choose one,
        0 makes a keyless segment. ``lifetime``: "detach", "process" or
        "persistent". A name whose first component is ``uid:N`` or
        ``gid:N`` (``uid:1000/cam0``) is reserved to that uid or group and
        root: anyone else gets PermissionDenied, without asking.
        ``exist_ok``: a segment of that name and size this caller may open
        is returned as it is; the Segment's ``created`` says which."""
        if not isinstance(name, str) or not _NAME.match(name) or \
                name.startswith("-"):
            raise InvalidParameter(parameter="name")
        if not _may_name(name):
            raise PermissionDenied("name %r is reserved to another user or "
                                   "group" % name)
        _check_int("size", size, 1, 2 ** 63 - 1)
        _check_int("mode", mode, 0, 0o777)
        if lifetime not in _LIFETIMES:
            raise InvalidParameter(parameter="lifetime")
        params: Dict[str, Any] = {"name": name, "size": size, "mode": mode,
                                  "lifetime": lifetime}
        self._add_namespace(params)
        if key is not None:
            _check_int("key", key, -2 ** 31, 2 ** 31 - 1)
            params["key"] = key
        if uid is not None:
            _check_int("uid", uid, 0, 2 ** 32 - 2)
            params["uid"] = uid
        if gid is not None:
            _check_int("gid", gid, 0, 2 ** 32 - 2)
            params["gid"] = gid
        if attach_timeout is not None:
            _check_int("attach_timeout", attach_timeout, 1, 2 ** 31 - 1)
            params["attach_timeout"] = attach_timeout
        if not isinstance(exist_ok, bool):
            raise InvalidParameter(parameter="exist_ok")
        if exist_ok:
            params["exist_ok"] = True
        reply = self._conn.call("io.shmd.Create", params)
        return Segment(reply["segment"], created=reply.get("created", True))

    def open(self, name: str, wait: Optional[float] = None) -> Segment:
        """Look a segment up by name. ``wait``: seconds (up to 3600) to
        wait for it to be created; NoSuchSegment when they run out."""
        if not isinstance(name, str):
            raise InvalidParameter(parameter="name")
        params: Dict[str, Any] = {"name": name}
        if wait is not None:
            if isinstance(wait, bool) or not isinstance(wait, (int, float)) \
                    or not 0 <= wait <= 3600:
                raise InvalidParameter(parameter="wait")
            # whole seconds on the wire: round up, so a wait is never shorter
            params["wait"] = int(-(-wait // 1))
        self._add_namespace(params)
        return Segment(self._conn.call("io.shmd.Open", params)["segment"])

    def destroy(self, name: str) -> None:
        """Destroy a segment now (its owner, its creator or root)."""
        if not isinstance(name, str):
            raise InvalidParameter(parameter="name")
        self._conn.call("io.shmd.Destroy", {"name": name})

    def list(self) -> List[Segment]:
        """The segments this caller may open."""
        return [Segment(s) for s in self._conn.call("io.shmd.List")["segments"]]

    def status(self) -> Dict[str, Any]:
        """The daemon's status: version, counters, limits (and usage for root)."""
        return self._conn.call("io.shmd.Status")

    def call(self, method: str, parameters: Optional[Dict[str, Any]] = None
             ) -> Dict[str, Any]:
        """Any call; the reply's parameters."""
        return self._conn.call(method, parameters)

    def watch(self) -> Iterator[Tuple[str, Optional[Segment]]]:
        """Events, on a connection of their own: ``("ready", None)`` first,
        then ``(event, segment)`` for every created, destroyed, reaped and
        vanished segment this caller could list. Blocks for the next one."""
        conn = _Connection(self.socket)
        try:
            conn.send("io.shmd.Watch", more=True)
            while True:
                params = conn.recv().get("parameters") or {}
                seg = params.get("segment")
                yield params.get("event", ""), Segment(seg) if seg else None
        finally:
            conn.close()
