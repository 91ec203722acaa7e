"""Reduces a netsim trace and a kernel trace of one scenario to the same comparable records.

Records are one-line strings grouped by epoch (plan.py): the step results, accepts per listener,
established connections, errors (as a set: the kernel reports a pending error once), severing,
address changes, and what each socket received (UDP: each datagram with its sender; TCP: the
bytes of the epoch concatenated, because segmentation differs). Packets, drops and timestamps
are left out. Ephemeral ports become `eph(host/socket)` after the first socket seen with that
port on that host, and are checked by invariants instead (range, parity, reuse_addr half).
Listeners that may form one SO_REUSEPORT group are named by the group, so the hash pick
compares as equal. A dual-stack socket's `::ffff:a.b.c.d` is written `a.b.c.d`.
"""

import collections
import ipaddress
import json

from plan import split_sockaddr

EPH_LOW, EPH_HIGH = 32768, 60999
# Linux scans the lower half of the range first for a bind(0) with SO_REUSEADDR (61000 = high + 1).
EPH_LOWER_HALF_END = EPH_LOW + (((61000 - EPH_LOW) >> 2) << 1)


def canonical_ip(text):
    a = ipaddress.ip_address(text)
    if a.version == 6 and a.ipv4_mapped:
        return a.ipv4_mapped
    return a


def payload_text(data):
    """How a payload compares: the text when short printable UTF-8, else its size."""
    if len(data) <= 64 and b"\0" not in data:
        try:
            return json.dumps(data.decode("utf-8"), ensure_ascii=False)
        except UnicodeDecodeError:
            pass
    return "<%d bytes>" % len(data)


class Side:
    """One side's records: {epoch: Counter of lines}, and its invariant violations."""

    def __init__(self, plan, name):
        self.plan, self.name = plan, name
        self.epochs = collections.defaultdict(collections.Counter)
        self.errors = collections.defaultdict(set)
        self.tcp_bytes = collections.defaultdict(list)   # (epoch, host, socket) -> chunks
        self.port_owner = {}                               # (host, port) -> socket name
        self.violations = []
        self.crossings = []                                # netsim only: packets in flight at a step

    # --- ports -----------------------------------------------------------------------------
    def own_port(self, host, socket_name, sockaddr, how):
        """Notes that `socket_name` holds the port of `sockaddr`; `how` names the path that
        chose it (for the invariants): bind, bind_reuse_addr, connect_tcp or udp."""
        _addr, port = split_sockaddr(sockaddr)
        if port in self.plan.fixed_ports or port is None:
            return
        if (host, port) not in self.port_owner:
            self.port_owner[(host, port)] = socket_name
            self.check_port(host, socket_name, port, how)

    def check_port(self, host, socket_name, port, how):
        problems = []
        if not EPH_LOW <= port <= EPH_HIGH:
            problems.append("outside %d-%d" % (EPH_LOW, EPH_HIGH))
        if how in ("bind", "bind_reuse_addr") and port % 2 == 0:
            problems.append("even (a TCP bind-path port is odd)")
        if how == "bind_reuse_addr" and port >= EPH_LOWER_HALF_END:
            problems.append("not below %d (bind(0) with reuse_addr takes the lower half)" % EPH_LOWER_HALF_END)
        if how == "connect_tcp" and port % 2 == 1:
            problems.append("odd (a TCP connect port is even)")
        for p in problems:
            self.violations.append("%s: ephemeral port %d of %s/%s (%s): %s" % (self.name, port, host, socket_name, how, p))

    def addr(self, host, sockaddr):
        """A socket address as compared: canonical IP, fixed port or eph(owner)."""
        text, port = split_sockaddr(sockaddr)
        ip = canonical_ip(text)
        shown = "[%s]" % ip if ip.version == 6 else str(ip)
        if port is None:
            return shown
        if port not in self.plan.fixed_ports:
            owner_host = self.plan.address_host.get(str(ip), host) if not ip.is_loopback else host
            owner = self.port_owner.get((owner_host, port))
            port = "eph(%s/%s)" % (owner_host, owner) if owner else "eph(?)"
        return "%s:%s" % (shown, port)

    # --- names -----------------------------------------------------------------------------
    def sock(self, host, name):
        """A socket name as compared: a SO_REUSEPORT group member by its group's name."""
        base, hash_, _n = name.partition("#")
        group = self.plan.groups.get((host, base))
        if group is None:
            return name
        return group + ("#*" if hash_ else "")

    # --- records ---------------------------------------------------------------------------
    def add(self, epoch, line):
        self.epochs[epoch][line] += 1

    def step(self, epoch, e, proto):
        line = "step %s %s" % (e.get("host") or "-", e["op"])
        if e.get("socket"):
            line += " " + self.sock(e["host"], e["socket"])
        line += " -> " + e["result"]
        if e["result"] == "ok" and e["op"] == "listen" and "port" in e:
            line += " port=" + self.addr(e["host"], "0.0.0.0:%d" % e["port"]).split(":", 1)[1]
        if e["result"] == "ok" and e["op"] == "connect" and "local" in e:
            line += " local=" + self.addr(e["host"], e["local"])
        self.add(epoch, line)

    def accept(self, epoch, e):
        self.add(epoch, "accept %s %s -> %s local=%s remote=%s" % (
            e["host"], self.sock(e["host"], e["listener"]), self.sock(e["host"], e["socket"]),
            self.addr(e["host"], e["local"]), self.addr(e["host"], e["remote"])))

    def established(self, epoch, e):
        self.add(epoch, "established %s %s local=%s remote=%s" % (
            e["host"], e["socket"], self.addr(e["host"], e["local"]), self.addr(e["host"], e["remote"])))

    def udp_receive(self, epoch, host, name, data, sender):
        self.add(epoch, "receive %s %s %s from=%s" % (host, self.sock(host, name), payload_text(data),
                                                     self.addr(host, sender)))

    def finish(self):
        """Folds the per-epoch TCP byte streams and error sets into the records."""
        for (epoch, host, name), chunks in self.tcp_bytes.items():
            self.add(epoch, "receive %s %s %s" % (host, self.sock(host, name), self.tcp_text(chunks)))
        for (epoch, host, name), kinds in self.errors.items():
            for kind in sorted(kinds):
                self.add(epoch, "error %s %s %s" % (host, self.sock(host, name), kind))
        return self

    @staticmethod
    def tcp_text(chunks):
        """chunks: [(bytes or None when only the size is known, size)]."""
        if any(data is None for data, _n in chunks):
            return "<%d bytes>" % sum(n for _d, n in chunks)
        return payload_text(b"".join(data for data, _n in chunks))


def connect_path(step):
    """Which ephemeral-port path a successful connect step took (for the invariants)."""
    if step["proto"] == "udp":
        return "udp"
    if "local" in step:
        return "bind_reuse_addr" if step.get("reuse_addr") else "bind"
    return "connect_tcp"


def listen_path(step):
    if step["proto"] == "udp":
        return "udp"
    return "bind_reuse_addr" if step.get("reuse_addr") else "bind"


def reduce_netsim(plan, trace_lines):
    """Records of a netsim JSONL trace (an iterable of lines)."""
    side = Side(plan, "netsim")
    sent_in = {}  # packet id -> the epoch it was sent in
    udp_delivers = set()  # seq of UDP deliver events: a receive caused by one repeats it
    for line in trace_lines:
        e = json.loads(line)
        kind = e.get("event")
        if kind in ("header", "summary", "expect") or "t" not in e:
            continue
        epoch = plan.epoch_of(e["t"])
        if epoch is None:
            continue
        host = e.get("host")
        note_crossing(side, sent_in, epoch, e)
        if kind == "step":
            step = plan.step_at(e["step"])
            record_step_ports(side, step, e)
            side.step(epoch, e, step.get("proto"))
        elif kind == "accept":
            side.accept(epoch, e)
        elif kind == "established":
            side.own_port(host, e["socket"], e["local"], "connect_tcp")
            side.established(epoch, e)
        elif kind == "deliver" and e.get("proto") == "udp":
            udp_delivers.add(e["seq"])
            data = e["data"].encode() if "data" in e else bytes(e["packet"]["len"])
            side.udp_receive(epoch, host, e["socket"], data, e["packet"]["src"])
        elif kind == "receive" and e.get("cause") not in udp_delivers:
            data = e["data"].encode() if "data" in e else None
            side.tcp_bytes[(epoch, host, e["socket"])].append((data, len(data) if data else e.get("size", 0)))
        elif kind == "error":
            side.errors[(epoch, host, e["socket"])].add(e["error"])
        elif kind == "sever":
            side.add(epoch, "sever %s %s %s" % (host, e["socket"], e.get("error", "")))
        elif kind in ("address_added", "address_removed") and "step" in e:
            side.add(epoch, "%s %s %s %s" % (kind, host, e["interface"], e["address"]))
    return side.finish()


def note_crossing(side, sent_in, epoch, e):
    """A packet sent in one epoch and received in a later one: the scenario is not quiescent
    at that step, and real time (no link latency on the kernel) may place it differently."""
    packet = e.get("packet")
    if not packet:
        return
    if e["event"] == "tx":
        sent_in.setdefault(packet["id"], epoch)
    elif e["event"] == "rx" and sent_in.get(packet["id"], epoch) < epoch:
        side.crossings.append("packet %d (%s %s -> %s) sent in epoch %d arrives in epoch %d" % (
            packet["id"], packet["proto"], packet.get("src"), packet.get("dst"), sent_in[packet["id"]], epoch))


def record_step_ports(side, step, e):
    if e.get("result") != "ok":
        return
    if e["op"] == "listen" and "port" in e and not step.get("port"):
        side.own_port(e["host"], e["socket"], "0.0.0.0:%d" % e["port"], listen_path(step))
    if e["op"] == "connect" and "local" in e:
        _a, lport = split_sockaddr(step.get("local", "")) if "local" in step else (None, None)
        if not lport:
            side.own_port(e["host"], e["socket"], e["local"], connect_path(step))


def reduce_kernel(plan, events):
    """Records of the kernel runner's events (dicts, header first)."""
    side = Side(plan, "kernel")
    steps = iter(plan.timeline)
    for e in events:
        kind = e.get("event")
        if kind == "header":
            continue
        epoch, host = e["epoch"], e.get("host")
        if kind == "step":
            _t, index, _rep = next(steps)
            step = plan.steps[index]
            record_step_ports(side, step, e)
            side.step(epoch, e, step.get("proto"))
        elif kind == "accept":
            side.accept(epoch, e)
        elif kind == "established":
            side.established(epoch, e)
        elif kind == "receive":
            data = bytes.fromhex(e["data"])
            if "from" in e:
                side.udp_receive(epoch, host, e["socket"], data, e["from"])
            else:
                side.tcp_bytes[(epoch, host, e["socket"])].append((data, len(data)))
        elif kind == "error":
            side.errors[(epoch, host, e["socket"])].add(e["error"])
        elif kind in ("address_added", "address_removed"):
            side.add(epoch, "%s %s %s %s" % (kind, host, e["interface"], e["address"]))
    return side.finish()


def differences(plan, left, right):
    """[(epoch, common lines, left-only lines, right-only lines)] for epochs that differ."""
    out = []
    for k in sorted(set(left.epochs) | set(right.epochs)):
        a, b = left.epochs.get(k, collections.Counter()), right.epochs.get(k, collections.Counter())
        if a != b:
            common = a & b
            out.append((k, sorted(common.elements()), sorted((a - b).elements()), sorted((b - a).elements())))
    return out


def render(plan, left, right, diffs):
    """A readable report of the differing epochs: what both saw, then each side's own lines."""
    lines = []
    for k, common, only_left, only_right in diffs:
        lines.append(plan.epoch_label(k) + ", steps: " + "; ".join(plan.step_summary(k)))
        for line in common:
            lines.append("    both     %s" % line)
        for line in only_left:
            lines.append("  - %-8s %s" % (left.name, line))
        for line in only_right:
            lines.append("  + %-8s %s" % (right.name, line))
    return "\n".join(lines)


def render_all(plan, side):
    lines = []
    for k in sorted(side.epochs):
        lines.append(plan.epoch_label(k))
        lines.extend("    " + line for line in sorted(side.epochs[k].elements()))
    return "\n".join(lines)
