#!/usr/bin/env python3
"""What deploy/ gives admins says what it must (nothing here runs Docker
or Kubernetes): every manifest parses, shmd never runs as root, clients
share shmd's IPC namespace, and the socket is on a volume they all mount.
"""

import os
import re
import sys
import unittest

try:
    import yaml
except ImportError:            # python3-yaml: scripts/deps.sh --test
    yaml = None

SRC = os.environ.get("TOP_SRCDIR") or os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..")
DEPLOY = os.path.join(SRC, "deploy")
SOCK_DIR = "/run/shmd"


def load(name):
    with open(os.path.join(DEPLOY, name)) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def mounts_run(container, volume):
    return any(m["name"] == volume and m["mountPath"] == SOCK_DIR
               for m in container.get("volumeMounts", []))


def unprivileged(container):
    sc = container.get("securityContext", {})
    return sc.get("runAsNonRoot") is True and sc.get("runAsUser", 0) != 0 \
        and sc.get("allowPrivilegeEscalation") is False \
        and "ALL" in sc.get("capabilities", {}).get("drop", [])


class DeployTest(unittest.TestCase):
    def test_containerfile(self):
        with open(os.path.join(DEPLOY, "Containerfile")) as f:
            text = f.read()
        final = text[text.rindex("\nFROM "):]      # the image that ships
        users = re.findall(r"^USER\s+(\S+)", final, re.M)
        self.assertTrue(users and users[-1] not in ("root", "0"), users)
        self.assertRegex(final, r"(?m)^VOLUME\s+%s\s*$" % SOCK_DIR)
        self.assertIn("%s/shmd.sock" % SOCK_DIR, final)
        self.assertIn("%s/state" % SOCK_DIR, final)

    def test_compose_shares_ipc(self):
        (doc,) = load("compose.yaml")
        services = doc["services"]
        self.assertEqual(services["shmd"]["ipc"], "shareable")
        self.assertNotIn(services["shmd"].get("user", "0"), ("0", "root"))
        for name, svc in services.items():
            self.assertIn("shmd-run:%s" % SOCK_DIR, svc["volumes"], name)
            if name != "shmd":
                self.assertEqual(svc["ipc"], "service:shmd", name)

    def test_sidecar_pod(self):
        (pod,) = load("kubernetes/pod-sidecar.yaml")
        self.assertEqual(pod["kind"], "Pod")
        spec = pod["spec"]
        # a pod's containers share one IPC namespace: no hostIPC needed
        self.assertFalse(spec.get("hostIPC", False))
        (vol,) = [v for v in spec["volumes"] if v["name"] == "shmd-run"]
        self.assertIn("emptyDir", vol)
        names = [c["name"] for c in spec["containers"]]
        self.assertIn("shmd", names)
        self.assertGreater(len(names), 1)
        for c in spec["containers"]:
            self.assertTrue(mounts_run(c, "shmd-run"), c["name"])
        (shmd,) = [c for c in spec["containers"] if c["name"] == "shmd"]
        self.assertTrue(unprivileged(shmd))

    def test_daemonset_and_its_clients(self):
        docs = load("kubernetes/daemonset.yaml")
        (ds,) = [d for d in docs if d["kind"] == "DaemonSet"]
        spec = ds["spec"]["template"]["spec"]
        self.assertIs(spec["hostIPC"], True)
        (vol,) = [v for v in spec["volumes"] if v["name"] == "shmd-run"]
        self.assertEqual(vol["hostPath"]["path"], SOCK_DIR)
        (shmd,) = [c for c in spec["containers"] if c["name"] == "shmd"]
        self.assertTrue(unprivileged(shmd))
        self.assertTrue(mounts_run(shmd, "shmd-run"))
        pods = [d for d in docs if d["kind"] == "Pod"]
        self.assertTrue(pods)
        for pod in pods:
            self.assertIs(pod["spec"]["hostIPC"], True)
            (v,) = [v for v in pod["spec"]["volumes"]
                    if v.get("hostPath", {}).get("path") == SOCK_DIR]
            for c in pod["spec"]["containers"]:
                self.assertTrue(mounts_run(c, v["name"]), c["name"])


if __name__ == "__main__":
    if yaml is None:
        print("python3-yaml is not installed (scripts/deps.sh --test): "
              "skipped")
        sys.exit(77)
    result = unittest.main(verbosity=2, exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)
