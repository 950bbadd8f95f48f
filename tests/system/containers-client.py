#!/usr/bin/env python3
"""The application of tests/system/containers: a client of shmd in a container of
its own (or an unshare stand-in), through the Python client.

  write NAME DATA   create a persistent segment, attach, write DATA, detach;
                    print the segment as JSON
  read NAME N       open, attach, print the first N bytes
  hold NAME SIZE    create a `process` segment, print it as JSON, then live
                    (attached) until killed
  once NAME SIZE    create a `process` segment, print it as JSON, and exit
"""

import json
import signal
import sys

import shmd


def show(seg):
    print(json.dumps({"shmid": seg.shmid, "lifetime": seg.lifetime,
                      "creator_pid": seg.creator_pid}), flush=True)


def main(argv):
    cmd, name = argv[1], argv[2]
    with shmd.Client() as c:
        if cmd == "write":
            data = argv[3].encode()
            seg = c.create(name, 4096, mode=0o644, lifetime="persistent")
            with seg.attach() as view:
                view[:len(data)] = data
            show(seg)
        elif cmd == "read":
            seg = c.open(name)
            with seg.attach(readonly=True) as view:
                sys.stdout.write(bytes(view[:int(argv[3])]).decode() + "\n")
        elif cmd == "once":
            show(c.create(name, int(argv[3]), lifetime="process"))
        elif cmd == "hold":
            seg = c.create(name, int(argv[3]), lifetime="process")
            # as a container's pid 1, SIGTERM does nothing unless handled
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            with seg.attach():
                show(seg)
                while True:
                    signal.pause()
        else:
            sys.exit("usage: containers-client.py write|read|hold|once NAME ...")


if __name__ == "__main__":
    main(sys.argv)
