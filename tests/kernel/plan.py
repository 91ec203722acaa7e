"""What both sides of the differential test read from the scenario file alone.

The timeline (every step and repetition in the order netsim runs them), the epochs (one per
distinct step `at`: epoch k holds the steps at the k-th time and every event and repetition
after them until the next), the ports the file names (any other port is ephemeral), which host owns each address,
and the SO_REUSEPORT groups (listeners that may share one key). Nothing here depends on a run.
"""

import ipaddress
import json
import re

_UNITS = {"ns": 1, "us": 1000, "ms": 1000_000, "s": 1000_000_000}
_DURATION = re.compile(r"^([0-9]+)(?:\.([0-9]+))?(ns|us|ms|s)$")


def duration_ns(value):
    """A scenario duration ("1.5ms" or integer nanoseconds) in nanoseconds."""
    if isinstance(value, int):
        return value
    m = _DURATION.match(value)
    if not m:
        raise ValueError("not a duration: %r" % value)
    whole, frac, unit = m.groups()
    scale = _UNITS[unit]
    ns = int(whole) * scale
    if frac:
        ns += int(frac) * scale // 10 ** len(frac)
    return ns


def split_sockaddr(text):
    """'10.0.0.1:80' / '[fd00::1]:80' -> (address, port); a bare address gives port None."""
    if text.startswith("["):
        addr, _, rest = text[1:].partition("]")
        return addr, int(rest[1:]) if rest.startswith(":") else None
    if text.count(":") == 1:
        addr, port = text.split(":")
        return addr, int(port)
    return text, None


def address_only(text):
    """'10.0.0.1/24' -> '10.0.0.1' (canonical form)."""
    return str(ipaddress.ip_interface(text).ip)


def format_duration(ns):
    for unit in ("s", "ms", "us"):
        if ns and ns % _UNITS[unit] == 0:
            return "%d%s" % (ns // _UNITS[unit], unit)
    return "%dns" % ns


class Plan:
    """The scenario as both runners and the reduction see it."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.steps = scenario.get("steps", [])
        self.until_ns = duration_ns(scenario["until"]) if "until" in scenario else None
        self.timeline = self._timeline()
        # Repetitions run inside their step's epoch: a new epoch starts only at a step's `at`.
        self.epoch_times = sorted({t for t, _i, rep in self.timeline if rep == 0})
        self.fixed_ports = self._fixed_ports()
        self.address_host = self._address_hosts()
        self.groups = self._reuseport_groups()

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def _timeline(self):
        """[(time_ns, step index, repetition)] in netsim's order: time, the step's `at`, file order."""
        entries = []
        for i, step in enumerate(self.steps):
            at = duration_ns(step["at"])
            count, every = 1, 0
            if step["op"] == "send" and "repeat" in step:
                count, every = step["repeat"]["count"], duration_ns(step["repeat"]["every"])
            elif step["op"] == "ping":
                count, every = step.get("count", 1), duration_ns(step.get("every", "1s"))
            for rep in range(count):
                t = at + rep * every
                if self.until_ns is not None and t > self.until_ns:
                    break
                entries.append((t, at, i, rep))
        entries.sort()
        return [(t, i, rep) for t, _at, i, rep in entries]

    def epoch_of(self, t_ns):
        """The epoch holding an event at t_ns (None before the first step)."""
        k = None
        for index, start in enumerate(self.epoch_times):
            if start <= t_ns:
                k = index
            else:
                break
        return k

    def epoch_label(self, k):
        return "epoch %d (t=%s)" % (k, format_duration(self.epoch_times[k]))

    def step_at(self, pointer):
        """The step a trace's `step` pointer ("/steps/3") names."""
        return self.steps[int(pointer.rsplit("/", 1)[1])]

    def step_summary(self, k):
        """Short descriptions of the steps of epoch k, for reports."""
        out = []
        for t, index, _rep in self.timeline:
            if t == self.epoch_times[k]:
                st = self.steps[index]
                words = [st.get("host", ""), st["op"]] + [str(st[key]) for key in ("socket", "proto", "remote", "to", "interface", "address", "data") if key in st]
                out.append("/steps/%d %s" % (index, " ".join(w for w in words if w)))
        return out

    def _fixed_ports(self):
        ports = set()
        for step in self.steps:
            if step.get("port"):
                ports.add(step["port"])
            for key in ("remote", "local", "to"):
                if isinstance(step.get(key), str):
                    _addr, port = split_sockaddr(step[key])
                    if port:
                        ports.add(port)
        return ports

    def _address_hosts(self):
        owners = {}
        for host, h in self.scenario.get("hosts", {}).items():
            for iface in h.get("interfaces", {}).values():
                for a in iface.get("addresses", []):
                    owners[address_only(a)] = host
        for step in self.steps:
            for key in ("address", "to", "from"):
                if step["op"] in ("add_address", "change_address") and key in step:
                    owners[address_only(step[key])] = step["host"]
        return owners

    def _reuseport_groups(self):
        """{(host, socket name): label} for listeners that could form one SO_REUSEPORT group:
        same host, protocol, fixed port, addresses, family, device and uid, all with
        reuse_port. The label names every such listener, so a hash pick compares as equal."""
        keys = {}
        for step in self.steps:
            if step["op"] != "listen" or not step.get("reuse_port") or not step.get("port"):
                continue
            key = (step["host"], step["proto"], step["port"], tuple(step.get("addresses", [])),
                   step.get("family"), step.get("device"), step.get("uid", 0))
            names = keys.setdefault(key, [])
            if step["socket"] not in names:
                names.append(step["socket"])
        groups = {}
        for key, names in keys.items():
            if len(names) > 1:
                label = "{%s}" % "|".join(sorted(names))
                for name in names:
                    groups[(key[0], name)] = label
        return groups
