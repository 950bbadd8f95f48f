#!/usr/bin/env python3
"""Tests of the Python client (python/shmd) against the real daemon."""

import asyncio
import builtins
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zipfile

TOP_SRCDIR = os.environ.get("TOP_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_BUILDDIR = os.environ.get("TOP_BUILDDIR", "..")
sys.path.insert(0, os.path.join(TOP_SRCDIR, "python"))

import shmd  # noqa: E402
import shmd.aio  # noqa: E402

try:
    import numpy
except ImportError:
    numpy = None

SHMD = os.path.join(TOP_BUILDDIR, "daemon", "shmd")
ROOT = os.geteuid() == 0


def kernel(shmid):
    with open("/proc/sysvipc/shm") as f:
        cols = f.readline().split()
        for line in f:
            d = dict(zip(cols, line.split()))
            if int(d["shmid"]) == shmid:
                return {"nattch": int(d["nattch"]), "perms": int(d["perms"], 8)}
    return None


def remove_made_by(pid):
    libc = ctypes.CDLL(None)
    with open("/proc/sysvipc/shm") as f:
        cols = f.readline().split()
        for line in f:
            d = dict(zip(cols, line.split()))
            if int(d["cpid"]) == pid:
                libc.shmctl(int(d["shmid"]), 0, None)


class Daemon:
    def __init__(self, *opts):
        self.dir = tempfile.mkdtemp(prefix="shmd-py-")
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "shmd.sock")
        self.log = open(os.path.join(self.dir, "shmd.log"), "w")
        self.proc = subprocess.Popen(
            [SHMD, "--config", "/dev/null", "--socket", self.socket,
             "--state-dir", os.path.join(self.dir, "state"),
             "--key-base=0x7e5d0000", "--key-count=1024"] + list(opts),
            stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 10
        while time.time() < end:      # until it answers, no fixed sleep
            try:
                with shmd.Client(self.socket) as c:
                    c.status()
                return
            except shmd.ConnectionError:
                time.sleep(0.01)
        raise RuntimeError("shmd did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(10)
        remove_made_by(self.proc.pid)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert code == 0, "shmd exited %d" % code


def in_child(fn, uid=None):
    """Run fn() in a child process (as uid, if given); its exit status."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            code = fn() or 0
        except BaseException as exc:   # report, never unwind into the tests
            print("child:", repr(exc), file=sys.stderr)
        os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def wait_until(pred, timeout=2.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--max-segment-size=1M", "--attach-timeout=2")
        cls.sock = cls.d.socket

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def setUp(self):
        self.c = shmd.Client(self.sock)

    def tearDown(self):
        for s in self.c.list():
            self.c.destroy(s.name)
        self.c.close()

    def _producer(self, name):
        with shmd.Client(self.sock) as c:
            seg = c.create(name, 4096, lifetime="persistent", exist_ok=True)
            with seg.attach() as view:
                view[1:6] = b"hello"
                view[0] = 1
        return 0

    def _consumer(self, name):
        with shmd.Client(self.sock) as c:
            seg = c.open(name, wait=10)
            with seg.attach(readonly=True) as view:
                end = time.time() + 10
                while view[0] != 1 and time.time() < end:
                    time.sleep(0.01)
                return 0 if bytes(view[1:6]) == b"hello" else 3

    def _spawn(self, fn, name):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = fn(name)
            finally:
                os._exit(code)
        return pid

    def _reap(self, pid):
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    def test_either_order(self):
        # the consumer first: it waits for the name
        a = self._spawn(self._consumer, "py.order1")
        self.assertTrue(wait_until(lambda: self.c.status()["waiters"] >= 1,
                                   timeout=10))
        b = self._spawn(self._producer, "py.order1")
        self.assertEqual(self._reap(b), 0)
        self.assertEqual(self._reap(a), 0)
        # the producer first
        self.assertEqual(self._reap(self._spawn(self._producer, "py.order2")), 0)
        self.assertEqual(self._reap(self._spawn(self._consumer, "py.order2")), 0)

    def test_exist_ok_and_wait(self):
        s1 = self.c.create("py.eo", 64, key=0, exist_ok=True)
        self.assertIs(s1.created, True)
        s2 = self.c.create("py.eo", 64, key=0, exist_ok=True)
        self.assertIs(s2.created, False)
        self.assertEqual(s1.shmid, s2.shmid)
        with self.assertRaises(shmd.NameExists):
            self.c.create("py.eo", 65, exist_ok=True)
        with self.assertRaises(shmd.NameExists):
            self.c.create("py.eo", 64)
        self.assertIsNone(self.c.open("py.eo").created)
        self.assertEqual(self.c.open("py.eo", wait=5).shmid, s1.shmid)
        t = time.time()
        with self.assertRaises(shmd.NoSuchSegment):
            self.c.open("py.never", wait=1)
        self.assertGreaterEqual(time.time() - t, 0.9)
        for bad in (-1, 3601, "5", True):
            with self.assertRaises(shmd.InvalidParameter):
                self.c.open("py.eo", wait=bad)
        with self.assertRaises(shmd.InvalidParameter):
            self.c.create("py.eo", 64, exist_ok=1)

    @unittest.skipUnless(os.geteuid() == 0, "the daemon locks memory as root")
    def test_memory_policy(self):
        seg = self.c.create("py.policy", 5000, locked=True, numa_node=0,
                            lifetime="persistent")
        self.assertIs(seg.locked, True)
        self.assertEqual(seg.numa_node, 0)
        self.assertIs(seg.declared, False)
        self.assertEqual(seg.page_size, os.sysconf("SC_PAGE_SIZE"))
        self.assertEqual(seg.as_dict()["numa_node"], 0)
        # exist_ok compares the policy
        again = self.c.create("py.policy", 5000, locked=True, numa_node=0,
                              lifetime="persistent", exist_ok=True)
        self.assertEqual((again.created, again.shmid), (False, seg.shmid))
        with self.assertRaises(shmd.NameExists):
            self.c.create("py.policy", 5000, exist_ok=True)
        plain = self.c.create("py.plain", 64)
        self.assertIs(plain.locked, False)
        self.assertIsNone(plain.numa_node)
        self.assertNotIn("numa_node", plain.as_dict())
        # the daemon's refusals, and the client's own checks
        with self.assertRaises(shmd.InvalidParameter) as cm:
            self.c.create("py.bad", 64, page_size=2 << 20)
        self.assertEqual(cm.exception.parameter, "page_size")
        with self.assertRaises(shmd.InvalidParameter) as cm:
            self.c.create("py.bad", 64, numa_node=1000)
        self.assertEqual(cm.exception.parameter, "numa_node")
        for bad in ({"huge_pages": 1}, {"locked": "yes"}, {"numa_node": -1},
                    {"page_size": 0}):
            with self.assertRaises(shmd.InvalidParameter):
                self.c.create("py.bad", 64, **bad)

    def test_share_between_processes(self):
        seg = self.c.create("py.share", 4096, mode=0o644, lifetime="persistent")
        self.assertIsInstance(seg, shmd.Segment)
        for f in ("name", "shmid", "key", "size", "mode", "uid", "gid",
                  "lifetime", "nattch", "creator_uid", "creator_pid",
                  "created_usec"):
            self.assertTrue(hasattr(seg, f), f)
        self.assertEqual((seg.size, seg.mode, seg.lifetime, seg.creator_pid),
                         (4096, 0o644, "persistent", os.getpid()))
        with seg.attach() as view:
            self.assertEqual(len(view), 4096)
            view[:11] = b"hello, peer"

        def reader():
            with shmd.Client(self.sock) as c:
                s = c.open("py.share")
                with s.attach(readonly=True) as v:
                    return 0 if bytes(v[:11]) == b"hello, peer" else 3
        self.assertEqual(in_child(reader), 0)
        if ROOT:
            # 0644: nobody may read it, read-only, and not write it
            def nobody():
                with shmd.Client(self.sock) as c:
                    s = c.open("py.share")
                    try:
                        with s.attach():
                            return 4      # the kernel must refuse rw
                    except OSError:
                        pass
                    with s.attach(readonly=True) as v:
                        return 0 if bytes(v[:5]) == b"hello" else 5
            self.assertEqual(in_child(nobody, uid=65534), 0)

    def test_readonly_refuses_writes(self):
        seg = self.c.create("py.ro", 64)
        with seg.attach(readonly=True) as view:
            self.assertTrue(view.readonly)
            with self.assertRaises(TypeError):
                view[0] = 1

    def test_detach_detaches_and_reaps(self):
        seg = self.c.create("py.reap", 4096)      # lifetime detach
        view = seg.attach().__enter__()
        view[0] = 7
        self.assertEqual(kernel(seg.shmid)["nattch"], 1)
        seg.detach()
        self.assertTrue(wait_until(lambda: kernel(seg.shmid) is None))
        with self.assertRaises(shmd.NoSuchSegment):
            self.c.open("py.reap")

    def test_buffer_error_keeps_memory(self):
        seg = self.c.create("py.busy", 4096, lifetime="persistent")
        att = seg.attach()
        view = att.__enter__()
        part = view[10:20]
        with self.assertRaises(BufferError):
            att.__exit__(None, None, None)
        part[0] = 42                               # still mapped
        self.assertEqual(kernel(seg.shmid)["nattch"], 1)
        del part
        seg.detach()                               # now it goes
        self.assertEqual(kernel(seg.shmid)["nattch"], 0)

    @unittest.skipIf(numpy is None, "numpy is not installed")
    def test_numpy(self):
        seg = self.c.create("py.np", 8 * 100, lifetime="persistent")
        att = seg.attach()
        view = att.__enter__()
        arr = numpy.frombuffer(view, dtype=numpy.float64)
        arr[:] = numpy.arange(100)
        with self.assertRaises(BufferError):
            seg.detach()
        self.assertEqual(arr[99], 99.0)
        del arr
        seg.detach()
        with seg.attach(readonly=True) as v:
            a = numpy.frombuffer(v, dtype=numpy.float64)
            self.assertEqual(a.sum(), sum(range(100)))
            del a

    def test_errors_from_the_daemon(self):
        self.c.create("py.e", 64, lifetime="persistent")
        with self.assertRaises(shmd.NameExists) as cm:
            self.c.create("py.e", 64)
        self.assertEqual(cm.exception.name, "py.e")
        with self.assertRaises(shmd.NoSuchSegment) as cm:
            self.c.open("py.none")
        self.assertEqual(cm.exception.name, "py.none")
        with self.assertRaises(shmd.QuotaExceeded) as cm:
            self.c.create("py.big", 2 << 20)
        self.assertEqual((cm.exception.limit, cm.exception.max),
                         ("segment_size", 1 << 20))
        k = self.c.create("py.k", 64, key=0x1e57e001)
        with self.assertRaises(shmd.KeyInUse) as cm:
            self.c.create("py.k2", 64, key=k.key)
        self.assertEqual(cm.exception.key, 0x1e57e001)
        with self.assertRaises(shmd.InvalidParameter) as cm:
            self.c.call("io.shmd.Create", {"name": "x", "size": 1, "bogus": 2})
        self.assertEqual(cm.exception.parameter, "bogus")
        with self.assertRaises(shmd.MethodNotFound) as cm:
            self.c.call("io.shmd.Frobnicate")
        with socket.socket(socket.AF_UNIX) as raw:
            raw.connect(self.sock)
            raw.sendall(b"not json\0")
            reply = raw.recv(65536).split(b"\0")[0]
        with self.assertRaises(shmd.ProtocolError) as cm:
            shmd._protocol.decode_reply(reply)
        self.assertTrue(cm.exception.reason)
        if ROOT:
            def nobody():
                with shmd.Client(self.sock) as c:
                    try:
                        c.destroy("py.e")
                    except shmd.PermissionDenied:
                        return 0
                return 6
            self.assertEqual(in_child(nobody, uid=65534), 0)
        for e in (shmd.NameExists, shmd.SystemLimit, shmd.StateError,
                  shmd.ProtocolError):
            self.assertTrue(issubclass(e, shmd.Error))
        # a change the daemon could not record (PROTOCOL.md)
        e = shmd.errors.error_from_reply("io.shmd.StateError", {
            "errno": "ENOSPC", "path": "/run/shmd/state/segments.log",
            "message": "full"})
        self.assertIsInstance(e, shmd.StateError)
        self.assertEqual((e.errno, e.path), ("ENOSPC", "/run/shmd/state/segments.log"))

    @unittest.skipUnless(ROOT, "needs root to act as another uid")
    def test_reserved_names(self):
        # root may take any reserved name
        s = self.c.create("uid:1000/py.cam0", 64, key=0)
        self.c.destroy(s.name)

        def nobody():
            with shmd.Client(self.sock) as c:
                for name in ("uid:0/py.x", "gid:0/py.x", "uid:1000"):
                    try:
                        c.create(name, 64)
                        return 2
                    except shmd.PermissionDenied:
                        pass
                # the daemon says so too, when asked directly
                try:
                    c.call("io.shmd.Create", {"name": "uid:0/py.y",
                                              "size": 64})
                    return 3
                except shmd.PermissionDenied:
                    pass
                s = c.create("uid:65534/py.cam0", 64, key=0)
                c.destroy(s.name)
                s = c.create("uid:007/py.not-reserved", 64, key=0)
                c.destroy(s.name)
            return 0
        self.assertEqual(in_child(nobody, uid=65534), 0)

    def test_checks_before_sending(self):
        for kwargs, param in (({"size": 0}, "size"), ({"size": -1}, "size"),
                              ({"size": 1.5}, "size"),
                              ({"size": 1, "mode": 0o1000}, "mode"),
                              ({"size": 1, "lifetime": "x"}, "lifetime"),
                              ({"size": 1, "key": 2 ** 40}, "key"),
                              ({"size": 1, "attach_timeout": 0},
                               "attach_timeout")):
            with self.assertRaises(shmd.InvalidParameter) as cm:
                self.c.create("py.x", **kwargs)
            self.assertEqual(cm.exception.parameter, param)
        with self.assertRaises(shmd.InvalidParameter) as cm:
            self.c.create("bad name", 1)
        self.assertEqual(cm.exception.parameter, "name")

    def test_connection_error(self):
        with self.assertRaises(shmd.ConnectionError) as cm:
            shmd.Client("/nonexistent/shmd.sock")
        self.assertIsInstance(cm.exception, builtins.ConnectionError)
        self.assertIsInstance(cm.exception, shmd.Error)
        self.assertIn("/nonexistent/shmd.sock", str(cm.exception))
        os.environ["SHMD_SOCKET"] = self.sock
        try:
            with shmd.Client() as c:
                self.assertIn("version", c.status())
        finally:
            del os.environ["SHMD_SOCKET"]

    def test_watch(self):
        events = self.c.watch()
        self.assertEqual(next(events), ("ready", None))
        self.c.create("py.w", 64, lifetime="persistent")
        self.c.destroy("py.w")
        ev, seg = next(events)
        self.assertEqual((ev, seg.name), ("created", "py.w"))
        ev, seg = next(events)
        self.assertEqual((ev, seg.name), ("destroyed", "py.w"))
        events.close()

    def test_integer_error_parameters_are_int(self):
        with self.assertRaises(shmd.QuotaExceeded) as cm:
            self.c.create("py.big", 2 << 20)
        self.assertIs(type(cm.exception.max), int)
        k = self.c.create("py.ik", 64, key=0x1e57e002)
        with self.assertRaises(shmd.KeyInUse) as cm:
            self.c.create("py.ik2", 64, key=k.key)
        self.assertIs(type(cm.exception.key), int)

    def test_threads_share_a_client(self):
        # 4 threads x 100 calls on one Client: each reply reaches its caller
        names = ["py.th%d" % i for i in range(4)]
        for i, name in enumerate(names):
            self.c.create(name, 64 * (i + 1), lifetime="persistent")
        mixups, answered, failed = [], [], []

        def worker(i):
            try:
                for n in range(100):
                    if n % 2:
                        seg = self.c.open(names[i])
                        if (seg.name, seg.size) != (names[i], 64 * (i + 1)):
                            mixups.append((i, n, seg.name))
                    else:
                        st = self.c.status()
                        if "version" not in st:
                            mixups.append((i, n, sorted(st)))
                    answered.append(1)
            except BaseException as exc:
                failed.append(repr(exc))
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads), "calls hung")
        self.assertEqual(failed, [])
        self.assertEqual(mixups, [])
        self.assertEqual(len(answered), 400)

    def test_wait_does_not_hold_up_other_threads(self):
        got = []
        waiter = threading.Thread(
            target=lambda: got.append(self.c.open("py.later", wait=10)))
        waiter.start()
        with shmd.Client(self.sock) as other:
            self.assertTrue(wait_until(lambda: other.status()["waiters"] >= 1,
                                       timeout=10))
        # the same Client answers while its open(wait=...) waits
        self.assertIn("version", self.c.status())
        self.assertTrue(waiter.is_alive())
        seg = self.c.create("py.later", 64)
        waiter.join(10)
        self.assertFalse(waiter.is_alive())
        self.assertEqual([s.shmid for s in got], [seg.shmid])

    def test_abandoned_wait_leaves_client_usable(self):
        class Abandon(Exception):
            pass

        def abandon(signum, frame):
            raise Abandon()
        old = signal.signal(signal.SIGALRM, abandon)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            with self.assertRaises(Abandon):
                self.c.open("py.never", wait=30)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        self.assertIn("version", self.c.status())
        # its connection is closed: the daemon ends the wait
        self.assertTrue(wait_until(lambda: self.c.status()["waiters"] == 0,
                                   timeout=10))

    def test_close_ends_a_wait(self):
        c = shmd.Client(self.sock)
        errors = []

        def wait():
            try:
                c.open("py.never", wait=30)
            except shmd.Error as exc:
                errors.append(exc)
        waiter = threading.Thread(target=wait)
        waiter.start()
        self.assertTrue(wait_until(lambda: self.c.status()["waiters"] >= 1,
                                   timeout=10))
        c.close()
        waiter.join(10)
        self.assertFalse(waiter.is_alive())
        self.assertEqual([type(e) for e in errors], [shmd.ConnectionError])
        with self.assertRaises(shmd.ConnectionError):
            c.status()

    def test_status_and_list(self):
        st = self.c.status()
        self.assertEqual(st["limits"]["max_segment_size"], 1 << 20)
        self.c.create("py.l", 64, lifetime="persistent")
        self.assertEqual([s.name for s in self.c.list()], ["py.l"])

    def test_module_entry_point(self):
        self.c.create("py.cli", 128, lifetime="persistent")
        env = dict(os.environ, PYTHONPATH=os.path.join(TOP_SRCDIR, "python"))
        out = subprocess.run([sys.executable, "-m", "shmd", "--socket",
                              self.sock, "ls"], env=env, check=True,
                             capture_output=True, text=True).stdout
        self.assertEqual([s["name"] for s in json.loads(out)], ["py.cli"])
        out = subprocess.run([sys.executable, "-m", "shmd", "--socket",
                              self.sock, "info", "py.cli"], env=env,
                             check=True, capture_output=True, text=True).stdout
        self.assertEqual(json.loads(out)["size"], 128)
        r = subprocess.run([sys.executable, "-m", "shmd", "--socket",
                            self.sock, "info", "py.none"], env=env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("py.none", r.stderr)


class AsyncioClientTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--max-segment-size=1M")
        cls.sock = cls.d.socket

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    async def asyncSetUp(self):
        self.c = await shmd.aio.connect(self.sock)

    async def asyncTearDown(self):
        for s in await self.c.list():
            await self.c.destroy(s.name)
        await self.c.close()

    async def test_fifty_tasks_on_one_client(self):
        async def task(i):
            name = "py.a%d" % i
            seg = await self.c.create(name, 64 + i)
            again = await self.c.open(name)
            st = await self.c.status()
            return (seg.name, seg.size, again.shmid == seg.shmid, "version" in st)
        got = await asyncio.wait_for(asyncio.gather(*(task(i) for i in range(50))), 60)
        self.assertEqual(got, [("py.a%d" % i, 64 + i, True, True) for i in range(50)])
        self.assertEqual(len(await self.c.list()), 50)

    async def test_cancelled_wait_leaves_client_usable(self):
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(self.c.open("py.never", wait=30), 0.3)
        self.assertIn("version", await self.c.status())
        # the waiting connection is gone: the daemon no longer counts it
        async def no_waiters():
            return (await self.c.status())["waiters"] == 0
        end = time.time() + 10
        while not await no_waiters() and time.time() < end:
            await asyncio.sleep(0.01)
        self.assertTrue(await no_waiters())

    async def test_cancelled_call_drops_its_reply(self):
        await self.c.create("py.c", 64)
        for _ in range(20):
            t = asyncio.ensure_future(self.c.list())
            await asyncio.sleep(0)       # sent, not answered yet
            t.cancel()
            seg = await self.c.open("py.c")
            self.assertEqual(seg.name, "py.c")

    async def test_open_waits_without_holding_up_others(self):
        waiter = asyncio.ensure_future(self.c.open("py.alater", wait=10))
        end = time.time() + 10
        while (await self.c.status())["waiters"] < 1 and time.time() < end:
            await asyncio.sleep(0.01)
        self.assertFalse(waiter.done())
        seg = await self.c.create("py.alater", 64)
        self.assertEqual((await asyncio.wait_for(waiter, 10)).shmid, seg.shmid)

    async def test_watch(self):
        async with self.c.watch() as events:
            self.assertEqual(await events.__anext__(), ("ready", None))
            await self.c.create("py.aw", 64, lifetime="persistent")
            await self.c.destroy("py.aw")
            seen = []
            async for ev, seg in events:
                seen.append((ev, seg.name))
                if len(seen) == 2:
                    break
        self.assertEqual(seen, [("created", "py.aw"), ("destroyed", "py.aw")])

    @unittest.skipUnless(os.geteuid() == 0, "the daemon locks memory as root")
    async def test_memory_policy(self):
        seg = await self.c.create("py.apolicy", 64, locked=True, numa_node=0)
        self.assertEqual((seg.locked, seg.numa_node), (True, 0))
        with self.assertRaises(shmd.InvalidParameter) as cm:
            await self.c.create("py.abad", 64, page_size=2 << 20)
        self.assertEqual(cm.exception.parameter, "page_size")

    async def test_same_exceptions(self):
        await self.c.create("py.ae", 64)
        with self.assertRaises(shmd.NameExists) as cm:
            await self.c.create("py.ae", 64)
        self.assertEqual(cm.exception.name, "py.ae")
        with self.assertRaises(shmd.NoSuchSegment):
            await self.c.open("py.none")
        with self.assertRaises(shmd.QuotaExceeded) as cm:
            await self.c.create("py.abig", 2 << 20)
        self.assertIs(type(cm.exception.max), int)
        self.assertEqual(cm.exception.max, 1 << 20)
        with self.assertRaises(shmd.InvalidParameter) as cm:
            await self.c.create("bad name", 1)
        self.assertEqual(cm.exception.parameter, "name")
        with self.assertRaises(shmd.ConnectionError):
            await shmd.aio.connect("/nonexistent/shmd.sock")

    async def test_async_with_and_default_socket(self):
        os.environ["SHMD_SOCKET"] = self.sock
        try:
            async with shmd.aio.connect() as c:
                self.assertIn("version", await c.status())
        finally:
            del os.environ["SHMD_SOCKET"]
        with self.assertRaises(shmd.ConnectionError):
            await c.status()


@unittest.skipUnless(ROOT, "needs root to act as another uid")
class RefusedAtConnectTest(unittest.TestCase):
    def test_quota_at_connect_is_raised(self):
        # shmd answers a connection over max_clients_per_uid at once, with
        # QuotaExceeded, before any call: both clients raise it, not a
        # bare ConnectionError
        d = Daemon("--max-clients-per-uid=1")
        sock = d.socket

        def nobody():
            with shmd.Client(sock) as first:
                first.status()
                try:
                    shmd.Client(sock).status()
                    return 2
                except shmd.QuotaExceeded as e:
                    if e.limit != "clients_per_uid":
                        return 3

                async def refused():
                    c = await shmd.aio.connect(sock)
                    try:
                        # most often the refusal is read before any call
                        # (else the call takes it, the same error)
                        await asyncio.sleep(0.2)
                        await c.status()
                        return 4
                    except shmd.QuotaExceeded as e:
                        return 0 if e.limit == "clients_per_uid" else 5
                    finally:
                        await c.close()
                return asyncio.run(refused())
        try:
            self.assertEqual(in_child(nobody, uid=65534), 0)
        finally:
            d.stop()


# The Python whose pip, setuptools, wheel and mypy scripts/deps.sh installs
# (Debian's), whichever Python runs the tests (distcheck finds pyenv's first
# in some PATHs).
TOOLS_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable


class PackagingTest(unittest.TestCase):
    def need(self, *command):
        """Skip when a tool is missing, except in CI (scripts/deps.sh --test
        installs it there)."""
        if subprocess.run(list(command), capture_output=True).returncode != 0:
            if os.environ.get("CI"):
                self.fail("%s is missing (scripts/deps.sh --test)" % " ".join(command))
            self.skipTest("%s is not installed" % " ".join(command))

    def test_wheel_builds_offline(self):
        self.need(TOOLS_PYTHON, "-m", "pip", "--version")
        self.need(TOOLS_PYTHON, "-c", "import setuptools, wheel")
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "src")
            # a copy the build may write in (distcheck's source is read-only)
            shutil.copytree(os.path.join(TOP_SRCDIR, "python"), src,
                            ignore=shutil.ignore_patterns("__pycache__"),
                            copy_function=shutil.copyfile)
            for top, dirs, _ in os.walk(src):
                for d in dirs:
                    os.chmod(os.path.join(top, d), 0o755)
            os.chmod(src, 0o755)
            env = dict(os.environ, PIP_NO_INDEX="1",
                       PIP_DISABLE_PIP_VERSION_CHECK="1")
            r = subprocess.run([TOOLS_PYTHON, "-m", "pip", "wheel", "--no-deps",
                                "--no-build-isolation", "-w", tmp, src],
                               env=env, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
            self.assertEqual(len(wheels), 1)
            self.assertTrue(wheels[0].startswith("shmd-%s-py3-none-any" % shmd.__version__),
                            wheels[0])
            wheel = os.path.join(tmp, wheels[0])
            names = zipfile.ZipFile(wheel).namelist()
            for f in ("shmd/__init__.py", "shmd/aio.py", "shmd/py.typed"):
                self.assertIn(f, names)
            # the wheel alone is the package
            r = subprocess.run([sys.executable, "-c",
                                "import shmd.aio, sys; print(shmd.aio.__file__)"],
                               env=dict(os.environ, PYTHONPATH=wheel), cwd=tmp,
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(wheels[0], r.stdout)

    def test_mypy_strict(self):
        self.need(TOOLS_PYTHON, "-m", "mypy", "--version")
        r = subprocess.run([TOOLS_PYTHON, "-m", "mypy", "--strict",
                            "--cache-dir", os.devnull,
                            os.path.join(TOP_SRCDIR, "python", "shmd")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Success", r.stdout)


def readme_programs(marker):
    """The ```python blocks of README.md that follow the line marker."""
    with open(os.path.join(TOP_SRCDIR, "README.md")) as f:
        lines = f.read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].strip() == marker:
            while lines[i].strip() != "```python":
                i += 1
            end = lines.index("```", i + 1)
            blocks.append("\n".join(lines[i + 1:end]) + "\n")
            i = end
        i += 1
    return blocks


class ReadmeTest(unittest.TestCase):
    def test_shortest_programs_as_written(self):
        programs = readme_programs("<!-- tests/daemon/test_python.py runs this -->")
        self.assertEqual(len(programs), 2)
        d = Daemon()
        try:
            env = dict(os.environ, SHMD_SOCKET=d.socket,
                       PYTHONPATH=os.path.join(TOP_SRCDIR, "python"))
            outs = []
            for program in programs:
                r = subprocess.run([sys.executable, "-c", program], env=env,
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, program + r.stderr)
                outs.append(r.stdout)
            with shmd.Client(d.socket) as c:
                seg = c.open("greeting")
                c.destroy("greeting")
            self.assertEqual(outs[0], "greeting %d 4096\n" % seg.shmid)
            self.assertEqual(outs[1], "b'hello'\n")
        finally:
            d.stop()


@unittest.skipUnless(ROOT, "needs root for an IPC namespace")
class SystemLimitTest(unittest.TestCase):
    def test_system_limit(self):
        def child():
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(0x08000000) != 0:       # CLONE_NEWIPC
                return 77                            # not allowed here
            with open("/proc/sys/kernel/shmmni", "w") as f:
                f.write("1\n")
            d = Daemon()
            try:
                with shmd.Client(d.socket) as c:
                    c.create("sl.1", 64)
                    try:
                        c.create("sl.2", 64)
                    except shmd.SystemLimit as e:
                        return 0 if e.errno == "ENOSPC" and "shmmni" in e.message else 7
                    return 8
            finally:
                d.stop()
        rc = in_child(child)
        if rc == 77:
            self.skipTest("no IPC namespace may be made here")
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
