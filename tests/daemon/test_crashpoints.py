#!/usr/bin/env python3
"""Crash points: shmd killed, or its state directory failing, at every
state-changing system call of a fixed workload, then restarted.

The workload makes segments of every lifetime, keyed and keyless, one
locked and bound to a NUMA node, holds
some attached, destroys one, lets a process creator exit, and leaves
segments made outside shmd in its key range. strace (-e inject) kills
the daemon at the Nth call of one system call (mode "kill"), or fails
calls N..N+2 of it with ENOSPC or EIO (modes "enospc", "eio"), the log
compacting at every chance (SHMD_TEST_STATE_SLACK=0). Then shmd is
restarted, every other time in a new pid namespace, and checked:

- every acknowledged Create is there with the same shmid, unless its
  lifetime ended; no acknowledged Destroy comes back;
- lifetimes that ran out while it was down end (within 20 s: PATIENCE);
- segments held attached stay; segments made outside shmd are untouched;
- nothing made by shmd is left in the kernel unknown to it;
- with ENOSPC or EIO: the daemon never exits, every failed change is
  answered io.shmd.StateError and has no effect, and changes succeed
  again, without a restart, once the failures stop.

A sample of points by default; every point with --long (or
SHMD_CRASH_LONG=1), within --budget seconds. Prints how many points it
tried of how many. Creates are announced where shmd announces them on
tmpfs, in the intent page (--intent page, the default), or where it does
elsewhere, in the log (--intent log), or the whole run is made once with
each (--intent both).
"""

import argparse
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

TOP_BUILDDIR = os.environ.get("TOP_BUILDDIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SHMD = os.path.join(TOP_BUILDDIR, "daemon", "shmd")
KEY_COUNT = 64
# A range of its own, apart from a run going on beside it (another tree's).
KEY_BASE = 0x7e7c0000 + (os.getpid() % 256) * KEY_COUNT
KILL_CALLS = ["write", "writev", "shmget", "shmctl", "openat", "renameat",
              "linkat", "unlinkat"]
FAIL_CALLS = ["write", "openat", "renameat", "linkat", "shmget", "shmctl"]
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
SHM_DEST = 0o1000

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWIPC = 0x08000000
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]


def kernel():
    """Every segment: shmid -> (key, size, cpid, cuid, perms)."""
    out = {}
    with open("/proc/sysvipc/shm") as f:
        cols = f.readline().split()
        for line in f:
            d = dict(zip(cols, line.split()))
            out[int(d["shmid"])] = {"key": int(d["key"]), "size": int(d["size"]),
                                    "cpid": int(d["cpid"]), "cuid": int(d["cuid"]),
                                    "perms": int(d["perms"], 8),
                                    "nattch": int(d["nattch"])}
    return out


class Conn:
    """One raw connection: calls that answer None once shmd is gone."""

    def __init__(self, path, timeout=5.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def call(self, method, **params):
        msg = json.dumps({"method": "io.shmd." + method, "parameters": params})
        try:
            self.s.sendall(msg.encode() + b"\0")
            while b"\0" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    return None
                self.buf += chunk
        except OSError:
            return None
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def close(self):
        self.s.close()


def try_call(path, method, **params):
    try:
        c = Conn(path)
    except OSError:
        return None
    try:
        return c.call(method, **params)
    finally:
        c.close()


def wait_ready(path, proc, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return None
        r = try_call(path, "Status")
        if r is not None and "parameters" in r:
            return r["parameters"]
        time.sleep(0.01)
    return None


def read_line(fd):
    """One line from a pipe, unbuffered (the other end waits for the answer)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        data += chunk
    return data.decode()


class Helper:
    """A forked process that attaches or creates on command, and holds."""

    def __init__(self):
        self.cmd_r, self.cmd_w = os.pipe()
        self.res_r, self.res_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.cmd_w)
            os.close(self.res_r)
            self._serve()
            os._exit(0)
        os.close(self.cmd_r)
        os.close(self.res_w)

    def _serve(self):
        conns = []
        while True:
            line = read_line(self.cmd_r)
            if not line:
                return
            cmd = json.loads(line)
            if cmd[0] == "attach":
                addr = libc.shmat(cmd[1], None, 0)
                res = addr not in (None, ctypes.c_void_p(-1).value)
            elif cmd[0] == "create":
                try:
                    c = Conn(cmd[1])
                    res = c.call("Create", **cmd[2])
                    conns.append(c)
                except OSError:
                    res = None
            os.write(self.res_w, (json.dumps(res) + "\n").encode())

    def ask(self, *cmd):
        os.write(self.cmd_w, (json.dumps(cmd) + "\n").encode())
        line = read_line(self.res_r)
        return json.loads(line) if line else None

    def stop(self):
        os.close(self.cmd_w)
        os.waitpid(self.pid, 0)
        os.close(self.res_r)


def create_and_exit(path, params):
    """A process creator that exits once its Create is answered."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            res = try_call(path, "Create", **params)
        except Exception:
            res = None
        os.write(w, json.dumps(res).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data) if data else None


def group_alive(pgid):
    """Whether a process of group pgid runs (a zombie, which an init that
    does not reap may keep for long, does not)."""
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class Run:
    # Where Creates are announced (daemon/lifecycle/state.h): "page", "log".
    intent = "page"

    def __init__(self, workdir):
        self.dir = tempfile.mkdtemp(prefix="crash-", dir=workdir)
        self.sock = os.path.join(self.dir, "shmd.sock")
        self.state = os.path.join(self.dir, "state")
        self.log = open(os.path.join(self.dir, "shmd.log"), "w")
        self.args = [SHMD, "--config", "/dev/null", "--socket", self.sock,
                     "--state-dir", self.state, "--key-base=%#x" % KEY_BASE,
                     "--key-count=%d" % KEY_COUNT, "--attach-timeout=1"]
        self.env = dict(os.environ, SHMD_TEST_STATE_SLACK="0",
                        SHMD_TEST_INTENT=Run.intent)
        self.proc = None
        self.pids = set()

    def start(self, strace=None, pidns=False):
        argv = list(self.args)
        if strace:
            argv = ["strace", "-f", "-qq", "-o", os.path.join(self.dir, "trace")] + strace + argv
        if pidns:
            argv = ["unshare", "--pid", "--fork", "--mount-proc",
                    "--kill-child=SIGTERM"] + argv
        # a group of its own: strace or unshare, and shmd, end together
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, env=self.env,
                                     start_new_session=True)
        return self.proc

    def signal(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self):
        if self.proc is not None:
            self.signal(signal.SIGKILL)
            self.proc.wait()
            # until the whole group is gone, shmd under strace or unshare
            # too (a loaded machine took over 5 s: the next one found it)
            end = time.monotonic() + PATIENCE
            while time.monotonic() < end and group_alive(self.proc.pid):
                time.sleep(0.02)
        # unshare --kill-child passes a SIGTERM on: wait until the socket is dead
        end = time.monotonic() + PATIENCE
        while time.monotonic() < end and try_call(self.sock, "Status") is not None:
            time.sleep(0.02)

    def cleanup(self):
        self.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def workload(run, outcome):
    """The fixed workload; outcome records what was acknowledged."""
    path = run.sock
    holder = outcome["holder"]

    def create(name, **p):
        p["name"] = name
        p.setdefault("size", 4096)
        r = try_call(path, "Create", **p)
        note(name, r)
        return r

    def note(name, r):
        if r is None:
            outcome["unanswered"].add(name)
        elif "error" in r:
            outcome["errors"][name] = r["error"]
        else:
            outcome["acked"][name] = r["parameters"]["segment"]["shmid"]

    create("p.keyed", lifetime="persistent")
    create("p.nokey", lifetime="persistent", key=0, size=8192)
    r = create("d.held", lifetime="detach")
    if r and "error" not in r:
        holder.ask("attach", r["parameters"]["segment"]["shmid"])
    r = create("d.nokey.held", lifetime="detach", key=0)
    if r and "error" not in r:
        shmid = r["parameters"]["segment"]["shmid"]
        holder.ask("attach", shmid)
        # shmd marks it at its next look (a few hundred ms): wait for it
        end = time.monotonic() + 1.5
        while time.monotonic() < end and run.proc.poll() is None:
            k = kernel().get(shmid)
            if k is None or k["perms"] & SHM_DEST:
                break
            time.sleep(0.05)
    create("d.timeout", lifetime="detach", attach_timeout=1)
    note("pr.gone", create_and_exit(path, {"name": "pr.gone", "size": 4096,
                                           "lifetime": "process"}))
    r = holder.ask("create", path, {"name": "pr.live", "size": 4096,
                                    "lifetime": "process"})
    note("pr.live", r)
    if r and "error" not in r:
        holder.ask("attach", r["parameters"]["segment"]["shmid"])
    create("x.gone", lifetime="persistent")
    r = try_call(path, "Destroy", name="x.gone")
    if r is not None and "error" not in r:
        outcome["destroyed"].add("x.gone")
    elif r is not None and "x.gone" in outcome["acked"]:
        outcome["errors"]["destroy x.gone"] = r["error"]
    # A memory policy is set while its announcement covers the segment
    # (mode 0600, locked, attached once by shmd): a crash there leaves
    # nothing shmd cannot account for.
    create("p.policy", lifetime="persistent", locked=True, numa_node=0)
    create("p.last", lifetime="persistent", key=KEY_BASE + KEY_COUNT - 1)


# Lifetimes over by the restart: a segment never attached, and one whose
# creator exited. After a restart in a new pid namespace the creator is
# one shmd cannot see: its segment ends attach_timeout (1 s) later.
ENDS = {"d.timeout", "pr.gone"}
# How long to wait for them to go: a loaded machine lags by seconds (as
# TESTD_PATIENCE_MS in tests/testutil.h).
PATIENCE = 20.0


def check(run, outcome, mode, pidns, outside, pid1, allowed):
    """The restarted daemon against what the workload was told."""
    problems = []
    proc = run.start(pidns=pidns)
    if wait_ready(run.sock, proc) is None:
        return ["the restarted daemon did not answer"]
    listed = {}
    end = time.monotonic() + PATIENCE
    while True:
        r = try_call(run.sock, "List")
        listed = {s["name"]: s for s in r["parameters"]["segments"]} if r and "parameters" in r else {}
        if not (ENDS & set(listed)) or time.monotonic() > end:
            break
        time.sleep(0.05)
    for name, shmid in outcome["acked"].items():
        if name in ENDS or name in outcome["destroyed"]:
            continue
        if name == "x.gone" and "x.gone" in outcome["unanswered"] | set(outcome["errors"]):
            continue
        if name == "x.gone" and name not in outcome["destroyed"]:
            # its Destroy was never acknowledged: it may be there or not
            if name in listed and listed[name]["shmid"] != shmid:
                problems.append("%s came back with another shmid" % name)
            continue
        if name not in listed:
            problems.append("acknowledged %s (shmid %d) lost" % (name, shmid))
        elif listed[name]["shmid"] != shmid:
            problems.append("%s has shmid %d, acknowledged %d" % (name, listed[name]["shmid"], shmid))
    for name in outcome["destroyed"]:
        if name in listed:
            problems.append("destroyed %s came back" % name)
    for name in ENDS & set(listed):
        problems.append("%s outlived its lifetime by %d s" % (name, PATIENCE))
    for name, err in outcome["errors"].items():
        if mode == "kill":
            problems.append("%s answered %s" % (name, err))
        elif err not in allowed:
            problems.append("%s answered %s, not %s" % (name, err, " or ".join(allowed)))
        elif not name.startswith("destroy ") and name in listed:
            problems.append("%s answered %s but exists" % (name, err))
    k = kernel()
    for shmid, (key, size) in outside.items():
        if shmid not in k or k[shmid]["key"] != key or k[shmid]["size"] != size:
            problems.append("segment %d made outside shmd was touched" % shmid)
    known = {s["shmid"] for s in listed.values()}
    for shmid, seg in k.items():
        if seg["cpid"] == pid1 and shmid not in known and not seg["perms"] & SHM_DEST:
            problems.append("shmid %d (key %#x) made by shmd is unknown to it" % (shmid, seg["key"] & 0xffffffff))
    return problems


def count_calls(run, calls):
    """A clean run under strace: calls of each before ready, and in all."""
    outcome = new_outcome()
    outcome["holder"] = Helper()
    proc = run.start(strace=["-e", "trace=" + ",".join(calls)])
    status = wait_ready(run.sock, proc)
    if status is None:
        raise SystemExit("shmd did not start under strace")
    try:
        at_ready = tally(run, calls)
        workload(run, outcome)
        run.signal(signal.SIGTERM)
        proc.wait()
        return at_ready, tally(run, calls)
    finally:
        outcome["holder"].stop()
        for shmid, seg in kernel().items():
            if seg["cpid"] == status["pid"]:
                libc.shmctl(shmid, IPC_RMID, None)


def tally(run, calls):
    counts = dict.fromkeys(calls, 0)
    with open(os.path.join(run.dir, "trace")) as f:
        for line in f:
            parts = line.split(None, 1)
            if len(parts) < 2:
                continue
            rest = parts[1]
            if rest.startswith("<..."):
                continue
            name = rest.split("(", 1)[0]
            if name in counts:
                counts[name] += 1
    return counts


def new_outcome():
    return {"acked": {}, "errors": {}, "destroyed": set(), "unanswered": set(),
            "holder": None}


def make_outside():
    """Segments made outside shmd, one in its key range, one keyless."""
    out = {}
    for key, size in ((KEY_BASE + 1, 4096), (IPC_PRIVATE, 4099)):
        shmid = libc.shmget(key, size, IPC_CREAT | 0o600)
        if shmid < 0:
            raise SystemExit("shmget: errno %d" % ctypes.get_errno())
        out[shmid] = (key if key < 2**31 else key - 2**32, size)
    return out


def sweep_range():
    """Leftovers in the test's key range from an earlier, failed run: those
    whose creator is gone (a live one is another run's)."""
    for shmid, seg in kernel().items():
        if ((seg["key"] & 0xffffffff) - KEY_BASE in range(KEY_COUNT) and
                (seg["cpid"] == 0 or not os.path.exists("/proc/%d" % seg["cpid"]))):
            libc.shmctl(shmid, IPC_RMID, None)


def one_point(workdir, mode, call, n, pidns):
    run = Run(workdir)
    outside = make_outside()
    outcome = new_outcome()
    outcome["holder"] = Helper()
    pid1 = -1
    try:
        if mode == "kill":
            inject = "%s:signal=KILL:when=%d" % (call, n)
        else:
            inject = "%s:error=%s:when=%d..%d" % (call, mode.upper(), n, n + 2)
        proc = run.start(strace=["-e", "trace=" + call, "-e", "inject=" + inject])
        status = wait_ready(run.sock, proc)
        if status is not None:
            pid1 = status["pid"]
            workload(run, outcome)
        problems = []
        if mode != "kill":
            if proc.poll() is not None:
                problems.append("the daemon exited (status %s)" % proc.returncode)
            else:
                # once the failures are over (a window of 3 calls, which
                # refused Creates use up too), changes succeed again
                for _ in range(6):
                    r = try_call(run.sock, "Create", name="after", size=4096,
                                 lifetime="persistent")
                    if r is None or r.get("error") not in ("io.shmd.StateError",
                                                           "io.shmd.SystemLimit"):
                        break
                if r is None or "error" in r:
                    problems.append("a Create after the failures: %s" % (r and r.get("error")))
                else:
                    outcome["acked"]["after"] = r["parameters"]["segment"]["shmid"]
        if pid1 < 0:
            pid1 = int(open(os.path.join(run.dir, "trace")).readline().split()[0]) if os.path.exists(os.path.join(run.dir, "trace")) else -1
        run.kill()
        # a state directory refusing records: StateError; the kernel
        # refusing (shmget, shmctl): SystemLimit
        allowed = ["io.shmd.StateError"]
        if call in ("shmget", "shmctl"):
            allowed.append("io.shmd.SystemLimit")
        problems += check(run, outcome, mode, pidns, outside, pid1, allowed)
        if problems:
            run.log.flush()
            with open(os.path.join(run.dir, "shmd.log")) as f:
                problems.append("shmd's log:\n    " + "    ".join(f.readlines()[-40:]))
        return problems
    finally:
        run.kill()
        outcome["holder"].stop()
        for shmid, seg in kernel().items():
            if seg["cpid"] == pid1 or shmid in outside:
                libc.shmctl(shmid, IPC_RMID, None)
        run.cleanup()
        sweep_range()


def start_point(workdir, mode):
    """A state directory that takes no record from the start: shmd serves
    reads, refuses changes with StateError, and never exits."""
    run = Run(workdir)
    problems = []
    try:
        proc = run.start(strace=["-e", "trace=write", "-e",
                                 "inject=write:error=%s" % mode.upper()])
        status = wait_ready(run.sock, proc)
        if status is None:
            return ["shmd did not serve with a state directory refusing records"]
        r = try_call(run.sock, "List")
        if r is None or "error" in r:
            problems.append("List: %s" % r)
        for method, params in (("Create", {"name": "s", "size": 4096}),
                               ("Destroy", {"name": "s"})):
            r = try_call(run.sock, method, **params)
            want = "io.shmd.StateError" if method == "Create" else "io.shmd.NoSuchSegment"
            if r is None or r.get("error") != want:
                problems.append("%s answered %s, not %s" % (method, r, want))
            elif method == "Create" and not r["parameters"].get("path", "").startswith(run.state):
                problems.append("StateError names %s" % r["parameters"].get("path"))
        if proc.poll() is not None:
            problems.append("the daemon exited")
        for shmid, seg in kernel().items():
            if seg["cpid"] == status["pid"]:
                problems.append("shmid %d left behind" % shmid)
                libc.shmctl(shmid, IPC_RMID, None)
    finally:
        run.cleanup()
    return problems


def points_of(at_ready, total, mode, long_mode, sample):
    pts = []
    for call, n in total.items():
        first = 1 if mode == "kill" else at_ready[call] + 1
        pts += [(call, i) for i in range(first, n + 1)]
    if long_mode or len(pts) <= sample:
        return pts, len(pts)
    step = len(pts) / sample
    return [pts[int(i * step)] for i in range(sample)], len(pts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--long", action="store_true", default=os.environ.get("SHMD_CRASH_LONG") == "1",
                    help="every point, not a sample")
    ap.add_argument("--mode", action="append", choices=["kill", "enospc", "eio"])
    ap.add_argument("--sample", type=int, default=8, help="points a mode (default 8)")
    ap.add_argument("--budget", type=float, default=0, help="seconds at most (0: none)")
    ap.add_argument("--point", help="only this point: CALL:N[:pidns]")
    ap.add_argument("--intent", choices=["page", "log", "both"], default="page",
                    help="where Creates are announced (default: page, as on tmpfs)")
    args = ap.parse_args()
    if os.geteuid() != 0 or shutil.which("strace") is None or shutil.which("unshare") is None:
        # (the Debian package build runs the suite unprivileged)
        print("SKIP: crash points need root, strace and unshare")
        return 77
    # An IPC namespace of its own, as the C suites' (tests/testutil.c): the
    # kernel's table holds only this test's segments, so none of another
    # process's is taken for shmd's (pids wrap round under load: another's
    # segment may have a dead daemon's pid as its creator's).
    if libc.unshare(CLONE_NEWIPC) != 0:
        print("no IPC namespace of our own (%s): using the system's"
              % os.strerror(ctypes.get_errno()), file=sys.stderr)
    workdir = tempfile.mkdtemp(prefix="shmd-crash-")
    os.chmod(workdir, 0o755)
    start = time.monotonic()
    failed = passed = 0
    try:
        sweep_range()
        for intent in (["page", "log"] if args.intent == "both" else [args.intent]):
            Run.intent = intent
            for mode in args.mode or ["kill", "enospc", "eio"]:
                run = Run(workdir)
                outside = make_outside()
                try:
                    at_ready, total = count_calls(run, KILL_CALLS if mode == "kill" else FAIL_CALLS)
                finally:
                    run.cleanup()
                    for shmid in outside:
                        libc.shmctl(shmid, IPC_RMID, None)
                    sweep_range()
                pts, npts = points_of(at_ready, total, mode, args.long, args.sample)
                if args.point:
                    c, n, *ns = args.point.split(":")
                    pts = [(c, int(n))] if not ns else [("", 0), (c, int(n))]
                tried = 0
                for i, (call, n) in enumerate(pts):
                    if not call:
                        continue
                    if args.budget and time.monotonic() - start > args.budget:
                        break
                    pidns = i % 2 == 1
                    problems = one_point(workdir, mode, call, n, pidns)
                    tried += 1
                    where = "%s at %s #%d, restart%s (%s)" % (mode, call, n, " in a new pid namespace" if pidns else "",
                                                            intent)
                    if problems:
                        failed += 1
                        print("FAIL %s:\n  %s" % (where, "\n  ".join(problems)), flush=True)
                    else:
                        passed += 1
                        if args.long:
                            print("ok %s" % where, flush=True)
                if mode != "kill" and not args.point:
                    problems = start_point(workdir, mode)
                    if problems:
                        failed += 1
                        print("FAIL %s from the start (%s):\n  %s" % (mode, intent, "\n  ".join(problems)))
                    else:
                        passed += 1
                print("%s: tried %d of %d crash points (%s), announced in the %s" % (mode, tried, npts, ", ".join(
                    "%s %d" % (c, total[c] - (0 if mode == "kill" else at_ready[c])) for c in total), intent),
                    flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("crash points: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
