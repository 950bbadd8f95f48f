"""shmd for asyncio: the methods and exceptions of shmd.Client, awaited::

    import asyncio, shmd.aio

    async def main() -> None:
        async with shmd.aio.connect() as c:
            seg = await c.open("frames", wait=30)
            async for event, segment in c.watch():
                ...

    asyncio.run(main())

One connection carries the calls of every task, pipelined: each call's
future joins a queue as its bytes are written, in the same step, and a
reader task hands each reply to the head of the queue. A cancelled call
stays in the queue to take its reply, so the next call gets its own. A call
that waits (``open(wait=...)``) and each ``watch()`` use a connection of
their own, closed when they end or are cancelled.
"""

import asyncio
import collections
from types import TracebackType
from typing import (Any, Deque, Dict, Generator, List, Optional, Set, Tuple,
                    Type)

from ._protocol import (Event, create_parameters, decode_reply, encode_call,
                        event_of, name_parameters, open_parameters, segment_of,
                        segments_of, socket_path, waits)
from .errors import ConnectionError, Error, again
from .segment import Segment

__all__ = ["connect", "Client", "Watch"]

# A List reply of many segments is one long message.
_LIMIT = 1 << 26

_Stream = Tuple[asyncio.StreamReader, asyncio.StreamWriter]


def _error(path: str, what: object) -> ConnectionError:
    return ConnectionError("shmd at %s: %s" % (path, what), path)


async def _open(path: str) -> _Stream:
    try:
        return await asyncio.open_unix_connection(path, limit=_LIMIT)
    except OSError as exc:
        raise ConnectionError("cannot connect to shmd at %s: %s"
                              % (path, exc.strerror or exc), path) from exc


async def _recv(path: str, reader: asyncio.StreamReader) -> bytes:
    """The next message, without its NUL."""
    try:
        return (await reader.readuntil(b"\0"))[:-1]
    except asyncio.IncompleteReadError as exc:
        raise _error(path, "closed the connection") from exc
    except (OSError, asyncio.LimitOverrunError) as exc:
        raise _error(path, exc) from exc


async def _send(path: str, writer: asyncio.StreamWriter, data: bytes) -> None:
    try:
        writer.write(data)
        await writer.drain()
    except OSError as exc:
        raise _error(path, exc) from exc


class Watch:
    """``Client.watch()``: an async iterator of ``(event, segment)``,
    ``("ready", None)`` first, on a connection of its own that ``aclose()``
    (or leaving ``async with``) ends."""

    def __init__(self, client: "Client"):
        self._client = client
        self._stream: Optional[_Stream] = None
        self._closed = False

    def __aiter__(self) -> "Watch":
        return self

    async def __anext__(self) -> Event:
        if self._closed:
            raise StopAsyncIteration
        path = self._client.socket
        if self._stream is None:
            self._stream = await self._client._own_connection()
            await _send(path, self._stream[1],
                        encode_call("io.shmd.Watch", more=True))
        return event_of(decode_reply(await _recv(path, self._stream[0])))

    async def aclose(self) -> None:
        """End the watch and close its connection."""
        self._closed = True
        if self._stream is not None:
            self._client._release(self._stream[1])
            self._stream = None

    async def __aenter__(self) -> "Watch":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class Client:
    """A connection to shmd for asyncio tasks; made by ``connect()``.

    Any number of tasks may call it at once. Cancelling a call (as
    ``asyncio.wait_for`` does) leaves the client usable.
    """

    def __init__(self, socket: str, stream: _Stream):
        self.socket = socket
        self._reader, self._writer = stream
        self._queue: "Deque[asyncio.Future[Dict[str, Any]]]" = collections.deque()
        self._broken: Optional[Error] = None  # why the connection is unusable
        self._drain = asyncio.Lock()    # one drain() at a time on a writer
        self._own: Set[asyncio.StreamWriter] = set()
        self._replies = asyncio.ensure_future(self._read_replies())

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection, and those of waits and watches under way;
        calls under way get ConnectionError."""
        self._fail(_error(self.socket, "the client was closed"))
        self._replies.cancel()
        for writer in list(self._own):
            self._release(writer)
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass

    def _fail(self, error: Error) -> None:
        """The connection is unusable: every call under way and every later
        one gets error."""
        if self._broken is None:
            self._broken = error
        while self._queue:
            fut = self._queue.popleft()
            if not fut.done():
                fut.set_exception(self._gone())

    def _gone(self) -> Error:
        """Why the connection is unusable, to raise."""
        return again(self._broken or _error(self.socket, "closed"))

    async def _read_replies(self) -> None:
        """Hand each reply to the call at the head of the queue."""
        while self._broken is None:
            try:
                msg = await _recv(self.socket, self._reader)
            except ConnectionError as exc:
                self._fail(exc)
                return
            if not self._queue:
                # an answer before any call: a refusal (QuotaExceeded), then
                # the daemon closes
                try:
                    decode_reply(msg)
                except Error as exc:
                    self._fail(exc.with_traceback(None))
                continue
            fut = self._queue.popleft()
            if fut.done():          # cancelled: its reply goes nowhere
                continue
            try:
                fut.set_result(decode_reply(msg))
            except Error as exc:
                # Without this task's frames: a caller's assertRaises clears
                # the frames of a traceback, and would end this task.
                fut.set_exception(exc.with_traceback(None))

    async def _own_connection(self) -> _Stream:
        """A connection for one wait or watch, closed by close()."""
        if self._broken is not None:
            raise self._gone()
        stream = await _open(self.socket)
        self._own.add(stream[1])
        return stream

    def _release(self, writer: asyncio.StreamWriter) -> None:
        self._own.discard(writer)
        writer.close()

    async def call(self, method: str,
                   parameters: Optional[Dict[str, Any]] = None
                   ) -> Dict[str, Any]:
        """Any call; the reply's parameters."""
        data = encode_call(method, parameters)
        if waits(method, parameters):
            reader, writer = await self._own_connection()
            try:
                await _send(self.socket, writer, data)
                return decode_reply(await _recv(self.socket, reader))
            finally:
                self._release(writer)
        if self._broken is not None:
            raise self._gone()
        fut: "asyncio.Future[Dict[str, Any]]" = \
            asyncio.get_running_loop().create_future()
        self._queue.append(fut)
        self._writer.write(data)        # in the queue's order: no await between
        try:
            try:
                async with self._drain:
                    await self._writer.drain()
            except OSError as exc:
                self._fail(_error(self.socket, exc))
            return await fut
        except asyncio.CancelledError:
            fut.cancel()                # its reply, when it comes, is dropped
            raise

    async def create(self, name: str, size: int, *, mode: int = 0o600,
                     lifetime: str = "detach", key: Optional[int] = None,
                     uid: Optional[int] = None, gid: Optional[int] = None,
                     attach_timeout: Optional[int] = None,
                     exist_ok: bool = False, huge_pages: bool = False,
                     page_size: Optional[int] = None, locked: bool = False,
                     numa_node: Optional[int] = None) -> Segment:
        """Create a segment: the arguments of shmd.Client.create."""
        params = create_parameters(name, size, mode, lifetime, key, uid, gid,
                                   attach_timeout, exist_ok, huge_pages,
                                   page_size, locked, numa_node)
        return segment_of(await self.call("io.shmd.Create", params),
                          create=True)

    async def open(self, name: str, wait: Optional[float] = None) -> Segment:
        """Look a segment up by name; ``wait``: seconds (up to 3600) to
        wait for it, on a connection of its own."""
        return segment_of(await self.call("io.shmd.Open",
                                          open_parameters(name, wait)))

    async def destroy(self, name: str) -> None:
        """Destroy a segment now (its owner, its creator or root)."""
        await self.call("io.shmd.Destroy", name_parameters(name))

    async def list(self) -> List[Segment]:
        """The segments this caller may open."""
        return segments_of(await self.call("io.shmd.List"))

    async def status(self) -> Dict[str, Any]:
        """The daemon's status: version, counters, limits (and usage for root)."""
        return await self.call("io.shmd.Status")

    def watch(self) -> Watch:
        """Events as an async iterator (``async for event, segment in
        c.watch()``); ``async with c.watch() as events`` closes it."""
        return Watch(self)


class _Connect:
    """``connect()``: awaited, the Client; with ``async with``, the Client
    closed at the end of the block."""

    def __init__(self, socket: Optional[str]):
        self._socket = socket_path(socket)
        self._client: Optional[Client] = None

    async def _connect(self) -> Client:
        return Client(self._socket, await _open(self._socket))

    def __await__(self) -> Generator[Any, None, Client]:
        return self._connect().__await__()

    async def __aenter__(self) -> Client:
        self._client = await self._connect()
        return self._client

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        if self._client is not None:
            await self._client.close()


def connect(path: Optional[str] = None) -> _Connect:
    """Connect to shmd at ``path``, else $SHMD_SOCKET, else
    /run/shmd/shmd.sock: ``c = await shmd.aio.connect()``, or
    ``async with shmd.aio.connect() as c:``."""
    return _Connect(path)
