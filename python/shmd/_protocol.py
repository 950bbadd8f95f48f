"""What each call sends and what its reply means (shmd-protocol(7)).

Shared by the two clients, shmd.Client (threads) and shmd.aio (asyncio),
which differ only in how they move these bytes.
"""

import json
import os
import re
from typing import Any, Dict, List, Optional, Tuple

from .errors import InvalidParameter, PermissionDenied, ProtocolError, error_from_reply
from .segment import Segment

__all__ = ["DEFAULT_SOCKET", "socket_path", "ipc_namespace", "encode_call",
           "decode_reply", "create_parameters", "open_parameters",
           "name_parameters", "waits", "segment_of", "segments_of", "event_of",
           "Event"]

DEFAULT_SOCKET = "/run/shmd/shmd.sock"
_NAME = re.compile(r"[A-Za-z0-9._:@/-]{1,255}\Z")
# A first component uid:N or gid:N (N decimal, no leading zeros) is reserved.
_RESERVED = re.compile(r"(uid|gid):(0|[1-9][0-9]*)(/|\Z)")
_LIFETIMES = ("detach", "process", "persistent")

Event = Tuple[str, Optional[Segment]]


def socket_path(socket: Optional[str] = None) -> str:
    """The socket a client uses: ``socket``, else $SHMD_SOCKET, else the default."""
    return socket or os.environ.get("SHMD_SOCKET") or DEFAULT_SOCKET


def ipc_namespace() -> Optional[int]:
    """This process's IPC namespace (the inode of /proc/self/ns/ipc)."""
    try:
        return os.stat("/proc/self/ns/ipc").st_ino
    except OSError:
        return None


def encode_call(method: str, parameters: Optional[Dict[str, Any]] = None,
                more: bool = False) -> bytes:
    """One call on the wire: a JSON object and its NUL."""
    msg: Dict[str, Any] = {"method": method}
    if parameters:
        msg["parameters"] = parameters
    if more:
        msg["more"] = True
    return json.dumps(msg, separators=(",", ":")).encode() + b"\0"


def decode_reply(message: bytes) -> Dict[str, Any]:
    """A reply's parameters (without its NUL); an error reply is raised as
    its shmd.Error. JSON integers stay int (json never makes them float)."""
    try:
        reply = json.loads(message)
    except ValueError as exc:
        raise ProtocolError("shmd sent a reply that is not JSON: %s" % exc,
                            reason=str(exc)) from exc
    if not isinstance(reply, dict):
        raise ProtocolError("shmd sent a reply that is not an object",
                            reason="not an object")
    params = reply.get("parameters")
    if "error" in reply:
        raise error_from_reply(str(reply["error"]),
                               params if isinstance(params, dict) else None)
    return params if isinstance(params, dict) else {}


def _may_name(name: str) -> bool:
    """Whether this process may create name (shmd-protocol(7)'s reserved names)."""
    m = _RESERVED.match(name)
    if m is None or os.geteuid() == 0 or int(m.group(2)) > 2 ** 32 - 1:
        return True
    n = int(m.group(2))
    if m.group(1) == "uid":
        return os.geteuid() == n
    return os.getegid() == n or n in os.getgroups()


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or \
            not low <= value <= high:
        raise InvalidParameter(parameter=name)


def _set_int(params: Dict[str, Any], name: str, value: Optional[int],
             low: int, high: int) -> None:
    """params[name] = value, checked, unless value is None."""
    if value is None:
        return
    _check_int(name, value, low, high)
    params[name] = value


def _add_namespace(params: Dict[str, Any]) -> Dict[str, Any]:
    # shmd refuses shmids that would mean nothing here (WrongNamespace)
    ns = ipc_namespace()
    if ns is not None:
        params["ipc_namespace"] = ns
    return params


def create_parameters(name: str, size: int, mode: int, lifetime: str,
                      key: Optional[int], uid: Optional[int],
                      gid: Optional[int], attach_timeout: Optional[int],
                      exist_ok: bool, huge_pages: bool = False,
                      page_size: Optional[int] = None, locked: bool = False,
                      numa_node: Optional[int] = None) -> Dict[str, Any]:
    """Create's parameters, checked as the daemon would before asking it
    (what only the system can tell, such as a page size or a node, is the
    daemon's to answer)."""
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
    _set_int(params, "key", key, -2 ** 31, 2 ** 31 - 1)
    _set_int(params, "uid", uid, 0, 2 ** 32 - 2)
    _set_int(params, "gid", gid, 0, 2 ** 32 - 2)
    _set_int(params, "attach_timeout", attach_timeout, 1, 2 ** 31 - 1)
    for flag, value in (("exist_ok", exist_ok), ("huge_pages", huge_pages),
                        ("locked", locked)):
        if not isinstance(value, bool):
            raise InvalidParameter(parameter=flag)
        if value:
            params[flag] = True
    _set_int(params, "page_size", page_size, 1, 2 ** 63 - 1)
    _set_int(params, "numa_node", numa_node, 0, 2 ** 31 - 1)
    return _add_namespace(params)


def open_parameters(name: str, wait: Optional[float]) -> Dict[str, Any]:
    """Open's parameters; ``wait`` in seconds, up to 3600."""
    params = name_parameters(name)
    if wait is not None:
        if isinstance(wait, bool) or not isinstance(wait, (int, float)) \
                or not 0 <= wait <= 3600:
            raise InvalidParameter(parameter="wait")
        # whole seconds on the wire: round up, so a wait is never shorter
        params["wait"] = int(-(-wait // 1))
    return _add_namespace(params)


def name_parameters(name: str) -> Dict[str, Any]:
    """The parameters of a call that names a segment and nothing else."""
    if not isinstance(name, str):
        raise InvalidParameter(parameter="name")
    return {"name": name}


def waits(method: str, parameters: Optional[Dict[str, Any]]) -> bool:
    """Whether this call may wait, so that it needs a connection of its own:
    a waiting Open holds back every later reply on its connection."""
    return method == "io.shmd.Open" and bool((parameters or {}).get("wait"))


def segment_of(params: Dict[str, Any], create: bool = False) -> Segment:
    """The Segment of an Open reply, or of a Create reply (with its
    ``created``)."""
    created = bool(params.get("created", True)) if create else None
    return Segment(params["segment"], created=created)


def segments_of(params: Dict[str, Any]) -> List[Segment]:
    """The Segments of a List reply."""
    return [Segment(s) for s in params["segments"]]


def event_of(params: Dict[str, Any]) -> Event:
    """One Watch reply as ``(event, segment)``."""
    seg = params.get("segment")
    return str(params.get("event", "")), Segment(seg) if seg else None
