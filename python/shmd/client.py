"""A client of shmd for threads: its Varlink protocol over a Unix socket.

One connection carries every call of every thread, pipelined: a call is
sent and queued under one lock, so the queue is in the order of the wire,
and the daemon answers in that order; whichever waiting thread is free
reads the next reply and hands it to the head of the queue. A call that
waits (``open(wait=...)``) and ``watch()`` use connections of their own.
"""

import collections
import socket as _socket
import threading
from typing import Any, Deque, Dict, Iterator, List, Optional, Set

from ._protocol import (DEFAULT_SOCKET, Event, create_parameters, decode_reply,
                        encode_call, event_of, name_parameters,
                        open_parameters, segment_of, segments_of, socket_path,
                        waits)
from .errors import ConnectionError, Error, again
from .segment import Segment

__all__ = ["Client", "DEFAULT_SOCKET", "socket_path"]


class _Connection:
    """One socket to the daemon: whole messages in, bytes out."""

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

    def error(self, what: object) -> ConnectionError:
        return ConnectionError("shmd at %s: %s" % (self.path, what), self.path)

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise self.error(exc) from exc

    def refusal(self) -> Optional[Error]:
        """After a failed send: the error the daemon answered before it
        closed, if it did (QuotaExceeded for a connection over a limit)."""
        try:
            while b"\0" not in self.buf:
                chunk = self.sock.recv(65536, _socket.MSG_DONTWAIT)
                if not chunk:
                    return None
                self.buf += chunk
            decode_reply(self.recv())
        except Error as exc:
            return exc
        except OSError:
            pass
        return None

    def recv(self) -> bytes:
        """The next message, without its NUL."""
        while b"\0" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except OSError as exc:
                raise self.error(exc) from exc
            if not chunk:
                raise self.error("closed the connection")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return msg

    def call(self, data: bytes) -> Dict[str, Any]:
        self.send(data)
        return decode_reply(self.recv())

    def shutdown(self) -> None:
        """Wake whoever waits on this socket (close() from another thread)."""
        try:
            self.sock.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()


class _Pending:
    """A call sent and not yet answered. A caller that stops waiting (an
    exception in its thread) leaves it in the queue, to take its reply."""

    __slots__ = ("reply", "error", "done")

    def __init__(self) -> None:
        self.reply: Dict[str, Any] = {}
        self.error: Optional[BaseException] = None
        self.done = False


class Client:
    """A connection to shmd, to share between threads.

    ``socket`` is the daemon's socket; without it ``$SHMD_SOCKET``, else
    ``/run/shmd/shmd.sock``. A context manager; ``close()`` ends it, and
    ends calls under way in other threads with ConnectionError.
    """

    def __init__(self, socket: Optional[str] = None):
        self.socket = socket_path(socket)
        self._conn = _Connection(self.socket)
        self._send_lock = threading.Lock()   # the queue's order is the wire's
        self._cond = threading.Condition()   # the fields below
        self._queue: Deque[_Pending] = collections.deque()
        self._reading = False
        self._closed = False
        self._broken: Optional[Error] = None  # why the connection is unusable
        self._own: Set[_Connection] = set()  # waits and watches

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and those of waits and watches under way."""
        self._conn.shutdown()
        with self._cond:
            self._closed = True
            self._fail(self._conn.error("the client was closed"))
            for conn in self._own:
                conn.shutdown()
        with self._send_lock, self._cond:
            if not self._reading:       # else the reader closes it
                self._conn.close()

    def _fail(self, error: Error) -> None:
        """The connection is unusable: every call under way and every later
        one gets error. Called with _cond held."""
        if self._broken is None:
            self._broken = error
        while self._queue:
            p = self._queue.popleft()
            p.error, p.done = self._gone(), True
        self._cond.notify_all()

    def _gone(self) -> Error:
        """Why the connection is unusable, to raise."""
        return again(self._broken or self._conn.error("closed"))

    def _send(self, data: bytes) -> _Pending:
        p = _Pending()
        with self._send_lock:
            with self._cond:
                if self._broken is not None:
                    raise self._gone()
                self._queue.append(p)
            try:
                self._conn.send(data)
            except ConnectionError as exc:
                with self._cond:
                    # a reader would take the refusal itself: one at a time
                    refusal = None if self._reading else self._conn.refusal()
                    self._fail(refusal or exc)
                    raise self._gone() from None
            except BaseException:
                # half a message may have gone: nothing after it can be read
                with self._cond:
                    self._fail(self._conn.error("a call was interrupted"))
                raise
        return p

    def _read_one(self) -> None:
        """Read one reply for the head of the queue. Called with _cond held
        and _reading set; drops _cond while it reads."""
        msg, error = b"", None
        self._cond.release()
        try:
            msg = self._conn.recv()
        except ConnectionError as exc:
            error = exc
        finally:
            self._cond.acquire()
            self._reading = False
            self._cond.notify_all()
        if error is not None:
            self._fail(error)
            if self._closed:    # close() left the socket to its reader
                self._conn.close()
            return
        if not self._queue:     # an answer before any call (QuotaExceeded)
            return
        p = self._queue.popleft()
        try:
            p.reply = decode_reply(msg)
        except Error as exc:
            p.error = exc.with_traceback(None)  # this thread's frames are not its
        p.done = True

    def _wait(self, p: _Pending) -> Dict[str, Any]:
        """p's reply: read by this thread, or by another one waiting too."""
        with self._cond:
            while not p.done:
                if self._reading:
                    self._cond.wait()
                else:
                    self._reading = True
                    self._read_one()
            if p.error is not None:
                raise p.error
            return p.reply

    def _own_connection(self) -> _Connection:
        """A connection for one wait or watch, closed by close()."""
        conn = _Connection(self.socket)
        with self._cond:
            if self._broken is not None:
                conn.close()
                raise self._gone()
            self._own.add(conn)
        return conn

    def _release(self, conn: _Connection) -> None:
        with self._cond:
            self._own.discard(conn)
        conn.close()

    def call(self, method: str, parameters: Optional[Dict[str, Any]] = None
             ) -> Dict[str, Any]:
        """Any call; the reply's parameters."""
        data = encode_call(method, parameters)
        if waits(method, parameters):
            conn = self._own_connection()
            try:
                return conn.call(data)
            finally:
                self._release(conn)
        return self._wait(self._send(data))

    def create(self, name: str, size: int, *, mode: int = 0o600,
               lifetime: str = "detach", key: Optional[int] = None,
               uid: Optional[int] = None, gid: Optional[int] = None,
               attach_timeout: Optional[int] = None,
               exist_ok: bool = False, huge_pages: bool = False,
               page_size: Optional[int] = None, locked: bool = False,
               numa_node: Optional[int] = None) -> Segment:
        """Create a segment. ``key``: None lets the daemon choose one,
        0 makes a keyless segment. ``lifetime``: "detach", "process" or
        "persistent". A name whose first component is ``uid:N`` or
        ``gid:N`` (``uid:1000/cam0``) is reserved to that uid or group and
        root: anyone else gets PermissionDenied, without asking.
        ``exist_ok``: a segment of that name, size and memory policy this
        caller may open is returned as it is; the Segment's ``created``
        says which. Memory policy: ``huge_pages`` (of ``page_size`` bytes,
        else the system's default; the size is rounded up to it),
        ``locked`` in RAM, bound to NUMA node ``numa_node``; each within
        the caller's limits (QuotaExceeded) and the system's (SystemLimit:
        its message says what to raise)."""
        params = create_parameters(name, size, mode, lifetime, key, uid, gid,
                                   attach_timeout, exist_ok, huge_pages,
                                   page_size, locked, numa_node)
        return segment_of(self.call("io.shmd.Create", params), create=True)

    def open(self, name: str, wait: Optional[float] = None) -> Segment:
        """Look a segment up by name. ``wait``: seconds (up to 3600) to
        wait for it to be created, on a connection of its own, so other
        threads' calls go on; NoSuchSegment when they run out."""
        return segment_of(self.call("io.shmd.Open", open_parameters(name, wait)))

    def destroy(self, name: str) -> None:
        """Destroy a segment now (its owner, its creator or root)."""
        self.call("io.shmd.Destroy", name_parameters(name))

    def list(self) -> List[Segment]:
        """The segments this caller may open."""
        return segments_of(self.call("io.shmd.List"))

    def status(self) -> Dict[str, Any]:
        """The daemon's status: version, counters, limits (and usage for root)."""
        return self.call("io.shmd.Status")

    def watch(self) -> Iterator[Event]:
        """Events, on a connection of their own: ``("ready", None)`` first,
        then ``(event, segment)`` for every created, destroyed, reaped and
        vanished segment this caller could list. Blocks for the next one."""
        conn = self._own_connection()
        try:
            conn.send(encode_call("io.shmd.Watch", more=True))
            while True:
                yield event_of(decode_reply(conn.recv()))
        finally:
            self._release(conn)
