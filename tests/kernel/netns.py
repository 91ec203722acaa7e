"""Network namespaces for playing a scenario on the real kernel (Python stdlib only).

A `Lab` owns a set of namespaces named `netsim-k<pid>-<run>-<suffix>`: one per host, one per
shared segment (holding a bridge). veth pairs are created from inside a namespace with both ends
placed straight into their target namespaces, so nothing is ever created in, moved through or
routed to the caller's own namespace. `Lab.close()` deletes every namespace it made (their
interfaces go with them); `remove_stale()` deletes namespaces left by runs whose process died.
Sockets are made inside a namespace by switching the calling thread with setns(2).
"""

import contextlib
import ctypes
import os
import platform
import shutil
import subprocess

PREFIX = "netsim-k"
CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"

_libc = ctypes.CDLL(None, use_errno=True)
_run_counter = [0]


class LabError(RuntimeError):
    """A command that builds the lab failed (the message holds the command and its stderr)."""


def ip(*args, check=True):
    """Runs `ip ARGS`; returns stdout. Raises LabError when `check` and it fails."""
    p = subprocess.run(["ip", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise LabError("ip %s: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


@contextlib.contextmanager
def inside(ns):
    """Runs the body with this thread in namespace `ns`, then returns to where it was."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(os.path.join(NETNS_DIR, ns), os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)


def sysctl(ns, key, value):
    """Writes a sysctl inside `ns` (/proc/sys/net follows the opening thread's namespace)."""
    with inside(ns):
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(str(value))


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def our_namespaces():
    """Names of every namespace made by a Lab (of any process)."""
    out = ip("netns", "list", check=False)
    names = (line.split()[0] for line in out.splitlines() if line.strip())
    return [n for n in names if n.startswith(PREFIX)]


def remove_stale(all_runs=False):
    """Deletes namespaces of Labs whose process is gone (or all of ours); returns their names."""
    gone = []
    for name in our_namespaces():
        pid = name[len(PREFIX):].split("-", 1)[0]
        if all_runs or (pid.isdigit() and not _pid_alive(int(pid))):
            ip("netns", "del", name, check=False)
            gone.append(name)
    return gone


def unavailable_reason():
    """None when this machine can run the lab, else why not (checked in order, cheap first)."""
    if platform.system() != "Linux":
        return "not Linux (network namespaces are a Linux feature)"
    if os.geteuid() != 0:
        caps = 0
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    caps = int(line.split()[1], 16)
        if not (caps >> 12) & 1 or not (caps >> 21) & 1:
            return "not root and without CAP_NET_ADMIN + CAP_SYS_ADMIN"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    lab = Lab()
    try:
        a = lab.namespace("probe-a")
        b = lab.namespace("probe-b")
        lab.veth(a, "p0", b, "p1")
    except (LabError, OSError) as e:
        return "cannot create namespaces with a veth pair: %s" % e
    finally:
        lab.close()
    return None


class Lab:
    """The namespaces of one run. Use as a context manager: they are deleted on exit."""

    def __init__(self):
        _run_counter[0] += 1
        self.prefix = "%s%d-%d-" % (PREFIX, os.getpid(), _run_counter[0])
        self.made = []

    def namespace(self, suffix):
        """Creates namespace PREFIX+suffix with `lo` up; returns its name."""
        name = self.prefix + suffix
        ip("netns", "add", name)
        self.made.append(name)
        ip("-n", name, "link", "set", "lo", "up")
        return name

    def veth(self, ns_a, dev_a, ns_b, dev_b):
        """A veth pair made inside ns_a, its ends named dev_a in ns_a and dev_b in ns_b."""
        ip("-n", ns_a, "link", "add", dev_a, "type", "veth", "peer", "name", dev_b, "netns", ns_b)

    def close(self):
        for name in reversed(self.made):
            ip("netns", "del", name, check=False)
        self.made = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
