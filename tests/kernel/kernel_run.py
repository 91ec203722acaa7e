#!/usr/bin/env python3
"""Plays a netsim-scenario/1 file on the real Linux kernel and writes what the sockets saw.

Usage: kernel_run.py SCENARIO.json [-o TRACE.jsonl] [--settle SECONDS] [--cap SECONDS]
       kernel_run.py --cleanup       (delete namespaces left by runs that died)

Each host is a network namespace; each point-to-point link a veth pair made inside the
namespaces; each shared segment a bridge in a namespace of its own (netns.py). Steps run in
netsim's order (plan.py) on real sockets: a `listen` on N addresses is N sockets, a wildcard
without `family` is a dual-stack [::] socket, `uid` is the socket's owner (seteuid around
socket()). After the steps of one instant the runner watches every socket for the real-time
equivalent of the gap to the next instant, at least --settle and at most --cap seconds.

The output is JSON Lines in netsim's event names, each event tagged with its epoch (the index of
its step time, plan.py): `step` (op, socket, result as an error kind via the errno table below,
`port` for a listen, `local` for a connect), `accept`, `established`, `receive` (UDP: `from`),
`error`, `address_added` / `address_removed` (the host's addresses before and after an address
or interface step, so flushed secondaries and IPv6 addresses show). The first line is a header
with the kernel release. Exit 0 after a run; 2 for a scenario that cannot be played on the
kernel (the reason on stderr); 77 when this machine cannot run namespaces.
"""

import argparse
import errno
import json
import os
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
from plan import Plan, address_only, split_sockaddr  # noqa: E402

SKIP = 77
IP_MTU_DISCOVER, IP_PMTUDISC_DO = 10, 2
IPV6_MTU_DISCOVER, IPV6_DONTFRAG = 23, 62
DEFAULT_BACKLOG = 128  # netsim's defaults.tcp.backlog

# errno -> netsim error kind, by where the errno comes from. A value missing here shows as
# "errno:NAME" and so as a difference.
ASYNC_KINDS = {errno.ECONNREFUSED: "connection_refused", errno.ECONNRESET: "connection_reset",
               errno.ETIMEDOUT: "timed_out", errno.ENETUNREACH: "network_unreachable",
               errno.EHOSTUNREACH: "network_unreachable", errno.EPIPE: "connection_reset"}
SEND_KINDS = {errno.ENETUNREACH: "network_unreachable", errno.EHOSTUNREACH: "network_unreachable",
              errno.EMSGSIZE: "message_too_long", errno.ENOTCONN: "not_connected",
              errno.EDESTADDRREQ: "not_connected", errno.EPIPE: "invalid_state",
              errno.ECONNREFUSED: "connection_refused", errno.ECONNRESET: "connection_reset",
              errno.EINVAL: "invalid_argument"}


class Unplayable(Exception):
    """The scenario uses something the kernel runner cannot reproduce faithfully."""


def bind_kind(err, port_given):
    if err == errno.EADDRINUSE:
        return "address_in_use" if port_given else "no_ports"
    return {errno.EADDRNOTAVAIL: "address_not_available", errno.EINVAL: "invalid_argument",
            errno.ENODEV: "no_such_device"}.get(err, "errno:" + errno.errorcode.get(err, str(err)))


def connect_kind(err, proto, port_bound):
    if err == errno.EADDRNOTAVAIL:
        return "address_not_available" if port_bound else "no_ports"
    if err == errno.EAGAIN and proto == "udp":
        return "no_ports"
    if err == errno.EINVAL:
        return "invalid_argument"
    return other_kind(err, ASYNC_KINDS)


def other_kind(err, table):
    return table.get(err, "errno:" + errno.errorcode.get(err, str(err)))


def sockaddr_text(sa):
    addr, port = sa[0], sa[1]
    return "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)


class Sock:
    """One scenario socket: a listener (one kernel socket per address), a TCP connection, or a
    UDP socket. `state`: listening, bound, connecting, connected or dead (closed by the stack)."""

    def __init__(self, name, host, proto, fds, state):
        self.name, self.host, self.proto, self.fds, self.state = name, host, proto, fds, state
        self.eof = False

    def close(self):
        for s in self.fds:
            s.close()
        self.fds = []


class KernelRun:
    """One play of a scenario: `run()` builds the namespaces, runs the timeline, tears down."""

    def __init__(self, plan, settle=0.15, cap=3.0):
        self.plan, self.settle, self.cap = plan, settle, cap
        self.sc = plan.scenario
        self.lab = netns.Lab()
        self.ns = {}              # host -> namespace
        self.socks = {}           # (host, name) -> Sock, while the name is taken
        self.children = {}        # (host, listener name) -> accepts so far (names L#n)
        self.addresses = {}       # host -> set of (interface, "addr/plen") last seen
        self.events = []
        self.epoch = 0
        backlog = self.sc.get("defaults", {}).get("tcp", {}).get("backlog")
        self.default_backlog = DEFAULT_BACKLOG if backlog is None else backlog

    # --- the run ---------------------------------------------------------------------------
    def run(self):
        self.check_playable()
        try:
            self.build()
            for k in range(len(self.plan.epoch_times)):
                self.epoch = k
                self.play_epoch(k)
        finally:
            for s in self.socks.values():
                s.close()
            self.lab.close()
        return self.events

    def play_epoch(self, k):
        """The steps of epoch k, then its repetitions at their offsets (compressed when the gap
        is longer than --cap), watching the sockets until the window ends."""
        times = self.plan.epoch_times
        start = times[k]
        end = times[k + 1] if k + 1 < len(times) else None
        if end is not None:
            gap = (end - start) / 1e9
        elif self.plan.until_ns is not None:
            gap = max(0, self.plan.until_ns - start) / 1e9
        else:
            gap = self.cap
        window = max(self.settle, min(gap, self.cap))
        scale = window / gap if gap > window else 1.0
        began = time.monotonic()
        for t, index, _rep in self.plan.timeline:
            if t < start or (end is not None and t >= end):
                continue
            wait = began + (t - start) / 1e9 * scale - time.monotonic()
            if wait > 0:
                self.watch(wait)
            self.step(self.plan.steps[index])
        self.watch(max(self.settle, began + window - time.monotonic()))
        self.drain_ended()

    def emit(self, **fields):
        fields["epoch"] = self.epoch
        self.events.append(fields)

    def check_playable(self):
        if self.sc.get("routes") == "auto":
            raise Unplayable('"routes": "auto" (the kernel would need netsim\'s computed routes)')
        model = self.sc.get("defaults", {}).get("host", {}).get("host_model")
        if model == "strong" or any(h.get("host_model") == "strong" for h in self.sc.get("hosts", {}).values()):
            raise Unplayable("host_model strong (Linux is a weak host; no ip-rule emulation here)")
        loss = self.sc.get("defaults", {}).get("link", {}).get("loss", 0)
        if loss or any(link.get("loss", 0) for link in self.sc.get("links", [])):
            raise Unplayable("link loss (the kernel's random draws are not the scenario's)")
        for i, step in enumerate(self.plan.steps):
            if step["op"] in ("ping", "link_down", "link_up", "set_host_model"):
                raise Unplayable("/steps/%d: op %s is not played on the kernel" % (i, step["op"]))

    # --- topology ----------------------------------------------------------------------------
    def build(self):
        hosts = self.sc.get("hosts", {})
        for i, (host, h) in enumerate(sorted(hosts.items())):
            ns = self.lab.namespace("h%d" % i)
            self.ns[host] = ns
            for key, value in (("net.ipv6.conf.all.accept_dad", 0), ("net.ipv6.conf.default.accept_dad", 0),
                               ("net.ipv6.conf.all.accept_ra", 0), ("net.ipv6.conf.default.accept_ra", 0),
                               ("net.ipv4.icmp_ratelimit", 0), ("net.ipv6.icmp.ratelimit", 0),
                               ("net.ipv4.icmp_msgs_per_sec", 100000), ("net.ipv4.icmp_msgs_burst", 100000)):
                netns.sysctl(ns, key, value)
            if h.get("forwarding"):
                netns.sysctl(ns, "net.ipv4.ip_forward", 1)
                netns.sysctl(ns, "net.ipv6.conf.all.forwarding", 1)
        on_link = set()
        link_mtu = self.sc.get("defaults", {}).get("link", {}).get("mtu")
        for n, link in enumerate(self.sc.get("links", [])):
            ends = [e.split(".", 1) for e in link["between"]]
            on_link.update((host, dev) for host, dev in ends)
            if len(ends) == 2:
                (ha, da), (hb, db) = ends
                self.lab.veth(self.ns[ha], da, self.ns[hb], db)
            else:
                seg = self.lab.namespace("s%d" % n)
                netns.sysctl(seg, "net.ipv6.conf.all.disable_ipv6", 1)
                netns.sysctl(seg, "net.ipv6.conf.default.disable_ipv6", 1)
                netns.ip("-n", seg, "link", "add", "br0", "type", "bridge")
                netns.ip("-n", seg, "link", "set", "br0", "up")
                for j, (host, dev) in enumerate(ends):
                    self.lab.veth(seg, "p%d" % j, self.ns[host], dev)
                    netns.ip("-n", seg, "link", "set", "p%d" % j, "master", "br0", "up")
            mtu = link.get("mtu", link_mtu)
            if mtu:
                for host, dev in ends:
                    netns.ip("-n", self.ns[host], "link", "set", dev, "mtu", str(mtu))
        stub, stub_ends = None, []
        for host, h in sorted(hosts.items()):
            ns = self.ns[host]
            for dev, iface in sorted(h.get("interfaces", {}).items()):
                if (host, dev) not in on_link:  # its peer waits in a namespace of its own
                    if stub is None:
                        stub = self.lab.namespace("stub")
                    peer = "x%d" % len(stub_ends)
                    stub_ends.append(peer)
                    self.lab.veth(ns, dev, stub, peer)
                    netns.ip("-n", stub, "link", "set", peer, "up")
                if "mtu" in iface:
                    netns.ip("-n", ns, "link", "set", dev, "mtu", str(iface["mtu"]))
                for a in iface.get("addresses", []):
                    self.add_address(ns, dev, a)
                if iface.get("up", True):
                    netns.ip("-n", ns, "link", "set", dev, "up")
        for host, h in sorted(hosts.items()):
            for r in h.get("routes", []):
                netns.ip("-n", self.ns[host], "route", "add", *self.route_args(r))
        self.wait_links_up()
        self.warm_up(on_link)
        for host in self.ns:
            self.addresses[host] = self.read_addresses(host)

    @staticmethod
    def route_args(r):
        args = [r["to"]]
        if "via" in r:
            args += ["via", r["via"]]
        if "dev" in r:
            args += ["dev", r["dev"]]
        return args + ["metric", str(r.get("metric", 0))]

    def add_address(self, ns, dev, cidr):
        extra = ["nodad"] if ":" in cidr else []
        netns.ip("-n", ns, "addr", "add", cidr, "dev", dev, *extra)

    def wait_links_up(self, timeout=5.0):
        """Until every veth that is up has its carrier (both ends up)."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = []
            for host, ns in self.ns.items():
                for link in json.loads(netns.ip("-n", ns, "-j", "link", "show")):
                    flags = link.get("flags", [])
                    if "UP" in flags and "LOWER_UP" not in flags and link["ifname"] != "lo":
                        waiting.append("%s.%s" % (host, link["ifname"]))
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise netns.LabError("links without carrier after %.0f s: %s" % (timeout, ", ".join(waiting)))
            time.sleep(0.02)

    def warm_up(self, on_link, timeout=5.0):
        """Sends a datagram to every address across every link until it arrives: a fresh veth
        loses the first packets for a few hundred milliseconds, and netsim has no such start."""
        deadline = time.monotonic() + timeout
        hosts = self.sc.get("hosts", {})
        for link in self.sc.get("links", []):
            ends = [tuple(e.split(".", 1)) for e in link["between"]]
            for src, dst in ((a, b) for a in ends for b in ends if a[0] != b[0]):
                src_iface = hosts[src[0]]["interfaces"].get(src[1], {})
                dst_iface = hosts[dst[0]]["interfaces"].get(dst[1], {})
                if not src_iface.get("up", True) or not dst_iface.get("up", True):
                    continue
                for target in dst_iface.get("addresses", []):
                    addr = address_only(target)
                    v6 = ":" in addr
                    if any((":" in a) == v6 for a in src_iface.get("addresses", [])):
                        self.probe(src, dst[0], addr, v6, deadline)

    def probe(self, src, dst_host, addr, v6, deadline):
        family = socket.AF_INET6 if v6 else socket.AF_INET
        with netns.inside(self.ns[dst_host]):
            rx = socket.socket(family, socket.SOCK_DGRAM)
        with netns.inside(self.ns[src[0]]):
            tx = socket.socket(family, socket.SOCK_DGRAM)
        try:
            rx.bind((addr, 0))
            tx.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, src[1].encode())
            while time.monotonic() < deadline:
                try:
                    tx.sendto(b"ready?", (addr, rx.getsockname()[1]))
                except OSError:
                    pass
                if select.select([rx], [], [], 0.05)[0]:
                    return
        finally:
            rx.close()
            tx.close()

    def read_addresses(self, host):
        """The host's addresses as {(interface, "addr/plen")}, link-local IPv6 left out."""
        found = set()
        for link in json.loads(netns.ip("-n", self.ns[host], "-j", "addr", "show")):
            for a in link.get("addr_info", []):
                if a.get("scope") == "link":
                    continue
                found.add((link["ifname"], "%s/%d" % (a["local"], a["prefixlen"])))
        return found

    def note_address_changes(self, host):
        now = self.read_addresses(host)
        before = self.addresses[host]
        for dev, a in sorted(before - now):
            self.emit(event="address_removed", host=host, interface=dev, address=a)
        for dev, a in sorted(now - before):
            self.emit(event="address_added", host=host, interface=dev, address=a)
        self.addresses[host] = now

    # --- steps -----------------------------------------------------------------------------
    def step(self, st):
        op, host = st["op"], st.get("host")
        record = {"event": "step", "host": host, "op": op}
        if "socket" in st:
            record["socket"] = st["socket"]
        handler = getattr(self, "op_" + op)
        result = handler(st, record)
        record["result"] = result
        record["epoch"] = self.epoch
        self.events.append(record)
        if op in ("add_address", "remove_address", "change_address", "interface_down", "interface_up"):
            self.note_address_changes(host)

    def new_socket(self, host, family, proto, st, v6only):
        """A socket in the host's namespace with the step's options; raises OSError."""
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        uid = st.get("uid", 0)
        with netns.inside(self.ns[host]):
            if uid:
                os.seteuid(uid)
            try:
                s = socket.socket(family, kind)
            finally:
                if uid:
                    os.seteuid(0)
        try:
            if st.get("reuse_addr"):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if st.get("reuse_port"):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
            if st.get("device"):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, st["device"].encode())
            if proto == "udp":  # an oversized datagram fails message_too_long, as in netsim
                if family == socket.AF_INET:
                    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
                else:
                    s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IP_PMTUDISC_DO)
                    s.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)
        except OSError:
            s.close()
            raise
        s.setblocking(False)
        return s

    def taken(self, host, name):
        return (host, name) in self.socks

    def op_listen(self, st, record):
        host, name, proto = st["host"], st["socket"], st["proto"]
        if self.taken(host, name):
            return "socket_exists"
        port = st.get("port", 0)
        addresses = st.get("addresses", [])
        if addresses:
            targets = [(socket.AF_INET6 if ":" in a else socket.AF_INET, a, True) for a in addresses]
        elif st.get("family") == "ipv4":
            targets = [(socket.AF_INET, "0.0.0.0", True)]
        else:
            targets = [(socket.AF_INET6, "::", st.get("family") == "ipv6")]
        fds = []
        result = self.open_listener(host, proto, st, targets, port, fds)
        if result != "ok":  # all or nothing: the sockets made so far go
            for s in fds:
                s.close()
            return result
        port = fds[0].getsockname()[1]
        self.socks[(host, name)] = Sock(name, host, proto, fds, "listening" if proto == "tcp" else "bound")
        record["port"] = port
        return "ok"

    def open_listener(self, host, proto, st, targets, port, fds):
        """Binds (and for TCP listens) one socket per target, in order, into `fds`; returns
        "ok" or the first failure's kind. A port 0 listener on N addresses shares one port."""
        port_given = port != 0
        for family, addr, v6only in targets:
            try:
                s = self.new_socket(host, family, proto, st, v6only)
            except OSError as e:
                return bind_kind(e.errno, port_given)
            fds.append(s)
            try:
                s.bind((addr, port))
                port = s.getsockname()[1]
                if proto == "tcp":
                    s.listen(st.get("backlog", self.default_backlog))
            except OSError as e:
                return bind_kind(e.errno, port_given)
        return "ok"

    def op_connect(self, st, record):
        host, name, proto = st["host"], st["socket"], st["proto"]
        if self.taken(host, name):
            return "socket_exists"
        raddr, rport = split_sockaddr(st["remote"])
        family = socket.AF_INET6 if ":" in raddr else socket.AF_INET
        try:
            s = self.new_socket(host, family, proto, st, True)
        except OSError as e:
            return bind_kind(e.errno, False)
        port_bound = False
        if "local" in st:
            laddr, lport = split_sockaddr(st["local"])
            try:
                s.bind((laddr, lport or 0))
            except OSError as e:
                s.close()
                return bind_kind(e.errno, bool(lport))
            port_bound = True
        try:
            s.connect((raddr, rport))
        except BlockingIOError:
            pass  # EINPROGRESS: the handshake goes on while the runner watches
        except OSError as e:
            s.close()
            return connect_kind(e.errno, proto, port_bound)
        state = "connecting" if proto == "tcp" else "connected"
        self.socks[(host, name)] = Sock(name, host, proto, [s], state)
        record["local"] = sockaddr_text(s.getsockname())
        return "ok"

    def open_entry(self, st):
        """(the step's socket, None) or (None, the error kind a step on it gets)."""
        entry = self.socks.get((st["host"], st["socket"]))
        if entry is None:
            return None, "unknown_socket"
        if entry.state == "dead" or not entry.fds:  # ended by the stack (reset, refused, ...)
            return None, "not_connected"
        return entry, None

    def op_send(self, st, record):
        entry, error = self.open_entry(st)
        if error:
            return error
        if entry.state == "connecting":  # the kernel refuses data before the handshake ends
            deadline = time.monotonic() + 1.0
            while entry.state == "connecting" and time.monotonic() < deadline:
                self.watch(0.01)
            if entry.state == "dead":
                return "not_connected"
        data = st["data"].encode() if "data" in st else bytes(st["size"])
        s = entry.fds[0]
        try:
            if "to" in st and entry.proto == "udp":
                addr, port = split_sockaddr(st["to"])
                if s.family == socket.AF_INET6 and ":" not in addr:
                    addr = "::ffff:" + addr
                s.sendto(data, socket.MSG_NOSIGNAL, (addr, port))
            elif entry.proto == "tcp":
                s.settimeout(2.0)
                try:
                    s.sendall(data, socket.MSG_NOSIGNAL)
                finally:
                    s.setblocking(False)
            else:
                s.send(data, socket.MSG_NOSIGNAL)
        except OSError as e:
            return other_kind(e.errno, SEND_KINDS)
        return "ok"

    def op_close(self, st, record):
        entry = self.socks.pop((st["host"], st["socket"]), None)
        if entry is None:
            return "unknown_socket"
        entry.close()
        return "ok"

    def op_shutdown(self, st, record):
        entry, error = self.open_entry(st)
        if error:
            return error
        how = {"read": socket.SHUT_RD, "write": socket.SHUT_WR, "both": socket.SHUT_RDWR}[st.get("how", "both")]
        try:
            for s in entry.fds:
                s.shutdown(how)
        except OSError as e:
            return other_kind(e.errno, SEND_KINDS)
        return "ok"

    def ip_step(self, st, *args):
        try:
            netns.ip("-n", self.ns[st["host"]], *args)
        except netns.LabError as e:
            return "ip_failed: " + str(e).split(": ", 1)[-1]
        return "ok"

    def current_cidr(self, host, dev, address):
        """The address with the prefix length it has on the host now (the step may omit it)."""
        want = address_only(address)
        for d, a in self.read_addresses(host):
            if d == dev and address_only(a) == want:
                return a
        return address if "/" in address else want

    def op_add_address(self, st, record):
        try:
            self.add_address(self.ns[st["host"]], st["interface"], st["address"])
        except netns.LabError as e:
            return "ip_failed: " + str(e).split(": ", 1)[-1]
        return "ok"

    def op_remove_address(self, st, record):
        cidr = self.current_cidr(st["host"], st["interface"], st["address"])
        return self.ip_step(st, "addr", "del", cidr, "dev", st["interface"])

    def op_change_address(self, st, record):
        result = self.op_remove_address(dict(st, address=st["from"]), record)
        if result != "ok":
            return result
        return self.op_add_address(dict(st, address=st["to"]), record)

    def op_interface_down(self, st, record):
        return self.ip_step(st, "link", "set", st["interface"], "down")

    def op_interface_up(self, st, record):
        return self.ip_step(st, "link", "set", st["interface"], "up")

    def op_add_route(self, st, record):
        return self.ip_step(st, "route", "add", *self.route_args(st))

    def op_remove_route(self, st, record):
        return self.ip_step(st, "route", "del", *self.route_args(st))

    # --- watching sockets ------------------------------------------------------------------
    def watch(self, seconds):
        """Records what every socket sees for `seconds` of real time."""
        deadline = time.monotonic() + seconds
        while True:
            poller, owners = select.poll(), {}
            for entry in list(self.socks.values()):
                if entry.state == "dead" or (entry.proto == "tcp" and entry.eof):
                    continue
                mask = select.POLLOUT if entry.state == "connecting" else select.POLLIN
                for s in entry.fds:
                    poller.register(s.fileno(), mask)
                    owners[s.fileno()] = (entry, s)
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for fd, _mask in poller.poll(left * 1000):
                entry, s = owners[fd]
                if entry.state in ("dead",) or (entry.host, entry.name) not in self.socks:
                    continue
                self.drain(entry, s)

    def drain_ended(self):
        """Reads what reached TCP sockets that are no longer polled because a read returned
        end-of-stream (after shutdown(read) Linux still queues data: it refuses nothing)."""
        for entry in list(self.socks.values()):
            if entry.proto != "tcp" or not entry.eof or entry.state == "dead":
                continue
            while True:
                try:
                    data = entry.fds[0].recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:
                    self.emit(event="error", host=entry.host, socket=entry.name,
                              error=other_kind(e.errno, ASYNC_KINDS))
                    entry.state = "dead"
                    break
                if not data:
                    break
                self.emit(event="receive", host=entry.host, socket=entry.name, data=data.hex())

    def drain(self, entry, s):
        host, name = entry.host, entry.name
        if entry.state == "listening":
            while True:
                try:
                    child, peer = s.accept()
                except (BlockingIOError, InterruptedError):
                    return
                except OSError as e:
                    self.emit(event="error", host=host, socket=name, error=other_kind(e.errno, ASYNC_KINDS))
                    return
                n = self.children.get((host, name), 0) + 1
                self.children[(host, name)] = n
                child_name = "%s#%d" % (name, n)
                child.setblocking(False)
                self.socks[(host, child_name)] = Sock(child_name, host, "tcp", [child], "connected")
                self.emit(event="accept", host=host, listener=name, socket=child_name,
                          local=sockaddr_text(child.getsockname()), remote=sockaddr_text(peer))
        if entry.state == "connecting":
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                entry.state = "dead"
                self.emit(event="error", host=host, socket=name, error=other_kind(err, ASYNC_KINDS))
                return
            entry.state = "connected"
            self.emit(event="established", host=host, socket=name,
                      local=sockaddr_text(s.getsockname()), remote=sockaddr_text(s.getpeername()))
            return
        while True:
            try:
                data, peer = s.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                self.emit(event="error", host=host, socket=name, error=other_kind(e.errno, ASYNC_KINDS))
                if entry.proto == "tcp":
                    entry.state = "dead"
                    return
                continue
            if entry.proto == "tcp":
                if not data:
                    entry.eof = True
                    return
                self.emit(event="receive", host=host, socket=name, data=data.hex())
            else:
                self.emit(event="receive", host=host, socket=name, data=data.hex(),
                          **{"from": sockaddr_text(peer)})


def _terminate(signum, _frame):
    raise KeyboardInterrupt("signal %d" % signum)


def play(plan, settle=0.15, cap=3.0):
    """Runs the plan on the kernel; returns its events (header first). SIGTERM and SIGINT
    unwind through the teardown, so no namespace is left behind."""
    old = {sig: signal.signal(sig, _terminate) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        netns.remove_stale()
        header = {"event": "header", "format": "netsim-kernel-trace/1", "kernel": os.uname().release,
                  "scenario": plan.scenario.get("name", ""), "settle": settle, "cap": cap}
        return [header] + KernelRun(plan, settle, cap).run()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", nargs="?")
    ap.add_argument("-o", "--output", help="write the JSONL trace here (default: stdout)")
    ap.add_argument("--settle", type=float, default=0.15, help="shortest watch after an instant (s)")
    ap.add_argument("--cap", type=float, default=3.0, help="longest watch after an instant (s)")
    ap.add_argument("--cleanup", action="store_true", help="delete namespaces of dead runs and exit")
    a = ap.parse_args()
    if a.cleanup:
        for name in netns.remove_stale():
            print("deleted", name)
        return 0
    if not a.scenario:
        ap.error("SCENARIO is required")
    reason = netns.unavailable_reason()
    if reason:
        print("SKIP: " + reason, file=sys.stderr)
        return SKIP
    try:
        events = play(Plan.load(a.scenario), a.settle, a.cap)
    except Unplayable as e:
        print("%s: cannot be played on the kernel: %s" % (a.scenario, e), file=sys.stderr)
        return 2
    text = "".join(json.dumps(e, sort_keys=True) + "\n" for e in events)
    if a.output:
        with open(a.output + ".tmp", "w") as f:
            f.write(text)
        os.replace(a.output + ".tmp", a.output)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
