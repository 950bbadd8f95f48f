"""shmd: named, owned, limited System V shared memory, from Python.

A client of the shmd daemon (https://github.com/shmd/shmd) using only the
standard library: ``socket`` and ``json`` for its protocol, ``ctypes`` for
shmat(2) and shmdt(2)::

    import shmd
    with shmd.Client() as c:
        seg = c.create("frames", 1 << 20)
        with seg.attach() as view:
            view[:5] = b"hello"

One Client may be shared by threads; ``shmd.aio`` is the same client for
asyncio.
"""

from .client import Client, DEFAULT_SOCKET, socket_path
from .errors import (ConnectionError, Error, ExpectedMore, InterfaceNotFound,
                     InvalidParameter, KeyInUse, MethodNotFound, NameExists,
                     NoSuchSegment, PermissionDenied, ProtocolError,
                     QuotaExceeded, StateError, SystemLimit, WrongNamespace)
from .segment import Segment

__version__ = "0.4.0"

__all__ = [
    "Client", "Segment", "DEFAULT_SOCKET", "socket_path", "Error",
    "ConnectionError", "NameExists", "NoSuchSegment", "PermissionDenied",
    "QuotaExceeded", "KeyInUse", "SystemLimit", "StateError", "ProtocolError",
    "InvalidParameter", "MethodNotFound", "InterfaceNotFound", "ExpectedMore",
    "WrongNamespace",
]
