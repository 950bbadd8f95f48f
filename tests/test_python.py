#!/usr/bin/env python3
"""Tests of the Python client (python/shmd) against the real daemon."""

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
import time
import unittest

TOP_SRCDIR = os.environ.get("TOP_SRCDIR", os.path.join(os.path.dirname(__file__), ".."))
TOP_BUILDDIR = os.environ.get("TOP_BUILDDIR", "..")
sys.path.insert(0, os.path.join(TOP_SRCDIR, "python"))

import shmd  # noqa: E402

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
        with shmd.Client(self.sock) as c2:
            c2._conn.sock.sendall(b"not json\0")
            with self.assertRaises(shmd.ProtocolError) as cm:
                c2._conn.recv()
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
        for e in (shmd.NameExists, shmd.SystemLimit, shmd.ProtocolError):
            self.assertTrue(issubclass(e, shmd.Error))

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
