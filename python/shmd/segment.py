"""Segments as shmd reports them, attached as memoryviews through ctypes."""

import ctypes
import ctypes.util
import sys
from typing import Any, Dict, List, Optional

__all__ = ["Segment"]

_SHM_RDONLY = 0o10000

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.shmat.restype = ctypes.c_void_p
_libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_libc.shmdt.restype = ctypes.c_int
_libc.shmdt.argtypes = [ctypes.c_void_p]

_FIELDS = ("name", "shmid", "key", "size", "mode", "uid", "gid", "lifetime",
           "nattch", "creator_uid", "creator_pid", "created_usec",
           "page_size", "locked", "numa_node", "declared")
# Members the daemon sends only when they have a value.
_OPTIONAL = ("numa_node",)


class _Mapping:
    """One shmat(2) of a segment and the memoryview handed out for it."""

    def __init__(self, shmid: int, size: int, readonly: bool):
        addr = _libc.shmat(shmid, None, _SHM_RDONLY if readonly else 0)
        if addr is None or addr == ctypes.c_void_p(-1).value:
            err = ctypes.get_errno()
            raise OSError(err, "shmat(%d): %s" % (shmid, _strerror(err)))
        self.addr: Optional[int] = addr
        self.array: Optional["ctypes.Array[ctypes.c_char]"] = \
            (ctypes.c_char * size).from_address(addr)
        # What holds the array with no view made yet: our attribute,
        # getrefcount's argument. Every live view adds to it.
        self.baseline = sys.getrefcount(self.array)
        first = memoryview(self.array).cast("B")
        self.view: Optional[memoryview] = first.toreadonly() if readonly else first
        if readonly:
            first.release()

    def detach(self) -> None:
        """shmdt(2), unless a slice or an array still uses the memory."""
        if self.view is not None:
            self.view.release()    # BufferError while arrays use it
            self.view = None
        if sys.getrefcount(self.array) > self.baseline:
            raise BufferError("a slice or an array made from the segment's "
                              "memoryview still exists: the segment stays "
                              "attached")
        if _libc.shmdt(self.addr) == -1:
            err = ctypes.get_errno()
            raise OSError(err, "shmdt: %s" % _strerror(err))
        self.array = None
        self.addr = None


def _strerror(err: int) -> str:
    import os
    return os.strerror(err)


class _Attachment:
    """The context manager of Segment.attach()."""

    def __init__(self, segment: "Segment", readonly: bool):
        self._segment = segment
        self._readonly = readonly
        self._mapping: Optional[_Mapping] = None

    def __enter__(self) -> memoryview:
        mapping = _Mapping(self._segment.shmid, self._segment.size,
                           self._readonly)
        view = mapping.view
        assert view is not None         # released only by detach()
        self._mapping = mapping
        self._segment._mappings.append(mapping)
        return view

    def __exit__(self, *exc: Any) -> None:
        mapping, self._mapping = self._mapping, None
        if mapping is None or mapping.addr is None:
            return
        mapping.detach()
        self._segment._mappings.remove(mapping)


class Segment:
    """A segment managed by shmd.

    One attribute per member of the protocol's Segment: ``name``,
    ``shmid``, ``key``, ``size``, ``mode``, ``uid``, ``gid``,
    ``lifetime``, ``nattch``, ``creator_uid``, ``creator_pid``,
    ``created_usec``, and the memory policy: ``page_size`` (bytes),
    ``locked`` (bool), ``numa_node`` (None: not bound), ``declared``
    (made from the daemon's configuration); members the daemon adds
    later land in ``extra``.
    ``created``: from ``Client.create``, whether that call made it (False
    when ``exist_ok`` found it there); None from other calls.
    """

    name: str
    shmid: int
    key: int
    size: int
    mode: int
    uid: int
    gid: int
    lifetime: str
    nattch: int
    creator_uid: int
    creator_pid: int
    created_usec: int
    page_size: int
    locked: bool
    numa_node: Optional[int]
    declared: bool

    def __init__(self, fields: Dict[str, Any],
                 created: Optional[bool] = None):
        self.created = created
        for f in _FIELDS:
            setattr(self, f, fields.get(f))
        # (a daemon before the memory policy sends none of it)
        self.locked = bool(fields.get("locked", False))
        self.declared = bool(fields.get("declared", False))
        self.extra = {k: v for k, v in fields.items() if k not in _FIELDS}
        self._mappings: List[_Mapping] = []

    def attach(self, readonly: bool = False) -> _Attachment:
        """A context manager that attaches the segment (shmat(2)) and
        yields a memoryview of exactly ``size`` bytes, detached when the
        block ends. ``readonly=True`` attaches with SHM_RDONLY (read
        permission suffices) and yields a read-only view. If a slice or an
        array made from the view still exists at the end, BufferError is
        raised and the memory stays mapped."""
        return _Attachment(self, readonly)

    def detach(self) -> None:
        """Detach every view this object handed out (for attachments not
        used with ``with``). BufferError while one is still in use; those
        stay mapped, and a later detach() tries again."""
        busy = None
        for mapping in list(self._mappings):
            try:
                mapping.detach()
                self._mappings.remove(mapping)
            except BufferError as exc:
                busy = exc
        if busy is not None:
            raise busy

    def as_dict(self) -> Dict[str, Any]:
        """The protocol's Segment object."""
        d = {f: getattr(self, f) for f in _FIELDS
             if f not in _OPTIONAL or getattr(self, f) is not None}
        d.update(self.extra)
        return d

    def __repr__(self) -> str:
        return ("Segment(name=%r, shmid=%d, key=%#x, size=%d, mode=%#o, "
                "lifetime=%r)" % (self.name, self.shmid, self.key & 0xffffffff,
                                  self.size, self.mode, self.lifetime))
