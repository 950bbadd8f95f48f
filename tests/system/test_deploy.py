#!/usr/bin/env python3
"""What deploy/ gives admins says what it must (README, "Containers";
DAEMON.md, "Containers"). Nothing here runs a container: tests/system/containers
plays the image, the pod route and the restarts. Here: every manifest
parses and has what its kind requires, shmd never runs as root, a holder
owns the IPC namespace the others join, the socket is on a volume they all
mount, and each Kubernetes recipe meets the Pod Security level it claims.
"""

import fnmatch
import os
import re
import sys
import unittest

try:
    import yaml
except ImportError:            # python3-yaml: scripts/deps.sh --test
    yaml = None

SRC = os.environ.get("TOP_SRCDIR") or os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", "..")
DEPLOY = os.path.join(SRC, "deploy")
SOCK_DIR = "/run/shmd"
STATUS = ["shmdctl", "--socket", SOCK_DIR + "/shmd.sock", "status"]

# what configure requires, and the tools that make a tree with no
# configure buildable
BUILD_DEPS = {"build-essential", "autoconf", "automake", "libtool",
              "pkg-config", "libevent-dev", "libjson-c-dev", "check"}

# the volume types Pod Security's "restricted" level allows
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir",
                      "ephemeral", "persistentVolumeClaim", "projected",
                      "secret"}


def read(name):
    with open(os.path.join(SRC, name)) as f:
        return f.read()


def load(name):
    return [d for d in yaml.safe_load_all(read(os.path.join("deploy", name)))
            if d is not None]


def mounts_run(container, volume):
    return any(m["name"] == volume and m["mountPath"] == SOCK_DIR
               for m in container.get("volumeMounts", []))


def pod_spec(doc):
    """The pod spec of a Pod or of a workload's template."""
    return doc["spec"] if doc["kind"] == "Pod" else \
        doc["spec"]["template"]["spec"]


def all_containers(spec):
    return spec.get("initContainers", []) + spec["containers"]


def effective(spec, container, key):
    """A securityContext field, the container's over the pod's."""
    sc = container.get("securityContext", {})
    return sc[key] if key in sc else spec.get("securityContext", {}).get(key)


def why_not_restricted(spec):
    """What keeps a pod spec from Pod Security's "restricted" level, or
    None: host namespaces, volume types, root, privilege escalation,
    capabilities, seccomp."""
    for host in ("hostIPC", "hostPID", "hostNetwork"):
        if spec.get(host):
            return host
    for v in spec.get("volumes", []):
        kinds = set(v) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            return "volume %s: %s" % (v["name"], ", ".join(sorted(kinds)))
    for c in all_containers(spec):
        sc = c.get("securityContext", {})
        if effective(spec, c, "runAsNonRoot") is not True:
            return "%s: runAsNonRoot" % c["name"]
        if effective(spec, c, "runAsUser") == 0:
            return "%s: runAsUser 0" % c["name"]
        if sc.get("allowPrivilegeEscalation") is not False:
            return "%s: allowPrivilegeEscalation" % c["name"]
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []) or \
                set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            return "%s: capabilities" % c["name"]
        seccomp = effective(spec, c, "seccompProfile") or {}
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            return "%s: seccompProfile" % c["name"]
    return None


class ContainerfileTest(unittest.TestCase):
    def setUp(self):
        self.text = read("deploy/Containerfile")
        self.final = self.text[self.text.rindex("\nFROM "):]  # what ships
        self.build = self.text[:self.text.rindex("\nFROM ")]

    def test_base_image_is_an_argument(self):
        self.assertRegex(self.text, r"(?m)^ARG BASE_IMAGE=\S+")
        froms = re.findall(r"(?m)^FROM\s+(\S+)", self.text)
        self.assertEqual(len(froms), 2, froms)
        for f in froms:
            self.assertEqual(f, "${BASE_IMAGE}")

    def test_every_build_dependency_named(self):
        packages = set(re.findall(r"[\w.+-]+", " ".join(re.findall(
            r"apt-get install -y --no-install-recommends((?:[^&]|\\\n)*)",
            self.build))))
        self.assertEqual(BUILD_DEPS - packages, set())

    def test_runs_as_non_root_with_state_on_volume(self):
        users = re.findall(r"(?m)^USER\s+(\S+)", self.final)
        self.assertTrue(users and users[-1] not in ("root", "0"), users)
        self.assertRegex(self.final, r"(?m)^VOLUME\s+%s\s*$" % SOCK_DIR)

    def test_healthcheck_asks_status(self):
        (check,) = re.findall(r"(?ms)^HEALTHCHECK .*?CMD (\[.*?\])",
                              self.final)
        self.assertEqual(yaml.safe_load(check), STATUS)

    def test_entrypoint_has_daemon_and_holder_modes(self):
        self.assertIn('ENTRYPOINT ["/usr/bin/shmd-container"]', self.final)
        self.assertRegex(self.final, r'(?m)^CMD \["shmd"\]$')
        script = read("deploy/shmd-container")
        self.assertRegex(script, r"(?m)^shmd\)$")
        self.assertRegex(script, r"(?m)^holder\)$")
        self.assertIn("exec /usr/bin/catatonit -P", script)
        self.assertTrue(os.access(os.path.join(DEPLOY, "shmd-container"),
                                  os.X_OK))


class DockerignoreTest(unittest.TestCase):
    def test_keeps_vcs_and_every_build_output_out(self):
        ignored = {l.strip() for l in read(".dockerignore").splitlines()
                   if l.strip() and not l.startswith("#")}
        self.assertIn(".git", ignored)
        kept = [l[1:] for l in ignored if l.startswith("!")]
        for pattern in read(".gitignore").splitlines():
            pattern = pattern.strip()
            if not pattern or pattern.startswith("#"):
                continue
            if pattern.startswith("!"):     # a source kept: kept here too
                self.assertTrue(any(fnmatch.fnmatch(pattern.strip("!/"), k)
                                    for k in kept), pattern)
                continue
            anchored = "/" in pattern.rstrip("/")
            bare = pattern.strip("/")
            want = bare if anchored else "**/" + bare
            self.assertIn(want, ignored, "gitignore's %s" % pattern)


class ComposeTest(unittest.TestCase):
    def test_holder_owns_the_namespace(self):
        (doc,) = load("compose.yaml")
        services = doc["services"]
        holder = services["holder"]
        self.assertEqual(holder["ipc"], "shareable")
        self.assertEqual(holder["command"], "holder")
        self.assertEqual(holder["image"], services["shmd"]["image"])
        self.assertNotIn(holder.get("user", "0"), ("0", "root"))
        for name, svc in services.items():
            if name == "holder":
                continue
            self.assertEqual(svc["ipc"], "service:holder", name)
            self.assertIn("shmd-run:%s" % SOCK_DIR, svc["volumes"], name)
        shmd = services["shmd"]
        self.assertEqual(shmd["restart"], "unless-stopped")
        self.assertNotIn(shmd.get("user", "0"), ("0", "root"))
        self.assertIn("ALL", shmd["cap_drop"])

    def test_names_podman_compose_unsupported(self):
        text = read("deploy/compose.yaml")
        self.assertRegex(text, r"podman-compose 1\.0\.x[^\n]*ignores every "
                               r"`ipc:`")
        self.assertIn("deploy/podman-pod.sh", text)


class KubernetesTest(unittest.TestCase):
    def check_objects(self, docs):
        for d in docs:
            for key in ("apiVersion", "kind", "metadata", "spec"):
                self.assertIn(key, d)
            self.assertTrue(d["metadata"].get("name"))
            spec = pod_spec(d)
            for c in all_containers(spec):
                self.assertTrue(c.get("name") and c.get("image"), c)
                sc = c.get("securityContext", {})
                self.assertIs(sc.get("readOnlyRootFilesystem"), True,
                              c["name"])
                self.assertIs(sc.get("allowPrivilegeEscalation"), False,
                              c["name"])
                self.assertIn("ALL", sc.get("capabilities", {})
                              .get("drop", []), c["name"])
                self.assertIs(effective(spec, c, "runAsNonRoot"), True,
                              c["name"])
                self.assertNotEqual(effective(spec, c, "runAsUser"), 0,
                                    c["name"])
                self.assertTrue(mounts_run(c, "shmd-run"), c["name"])
            # no init container made to chown as root: fsGroup instead
            self.assertEqual(spec.get("initContainers", []), [])

    def check_shmd(self, spec):
        (shmd,) = [c for c in spec["containers"] if c["name"] == "shmd"]
        self.assertEqual(shmd["readinessProbe"]["exec"]["command"], STATUS)
        self.assertEqual(effective(spec, shmd, "runAsUser"), 990)
        self.assertEqual(spec["securityContext"]["fsGroup"], 990)

    def test_sidecar_pod(self):
        docs = load("kubernetes/pod-sidecar.yaml")
        self.check_objects(docs)
        (pod,) = docs
        self.assertEqual(pod["kind"], "Pod")
        spec = pod["spec"]
        # a pod's containers share one IPC namespace: no hostIPC needed
        (vol,) = [v for v in spec["volumes"] if v["name"] == "shmd-run"]
        self.assertIn("emptyDir", vol)
        self.assertGreater(len(spec["containers"]), 1)
        self.check_shmd(spec)
        self.assertIsNone(why_not_restricted(spec))
        self.assertIn('"restricted"', read("deploy/kubernetes/"
                                           "pod-sidecar.yaml"))

    def test_daemonset_and_its_clients(self):
        docs = load("kubernetes/daemonset.yaml")
        self.check_objects(docs)
        (ds,) = [d for d in docs if d["kind"] == "DaemonSet"]
        self.assertEqual(ds["spec"]["selector"]["matchLabels"],
                         ds["spec"]["template"]["metadata"]["labels"])
        spec = pod_spec(ds)
        self.assertIs(spec["hostIPC"], True)
        (vol,) = [v for v in spec["volumes"] if v["name"] == "shmd-run"]
        self.assertEqual(vol["hostPath"]["path"], SOCK_DIR)
        self.check_shmd(spec)
        pods = [d for d in docs if d["kind"] == "Pod"]
        self.assertTrue(pods)
        for pod in pods:
            self.assertIs(pod["spec"]["hostIPC"], True)
            (v,) = [v for v in pod["spec"]["volumes"]
                    if v["name"] == "shmd-run"]
            self.assertEqual(v["hostPath"]["path"], SOCK_DIR)
        # hostIPC and hostPath: "privileged", which the file must say
        for d in docs:
            self.assertIsNotNone(why_not_restricted(pod_spec(d)))
        text = read("deploy/kubernetes/daemonset.yaml")
        self.assertIn('"privileged" level', text)
        self.assertIn("trade-offs of hostIPC", text)


if __name__ == "__main__":
    if yaml is None:
        print("python3-yaml is not installed (scripts/deps.sh --test): "
              "skipped")
        sys.exit(77)
    result = unittest.main(verbosity=2, exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)
