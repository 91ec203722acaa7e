#!/usr/bin/env python3
"""A real single-node Slurm cluster runs a sharded check and sweep (docs/cluster.md).

Starts munged, slurmctld and slurmd itself, as its own child processes, from a minimal
slurm.conf in a temporary directory (one node, 2 CPUs, proctrack/pgid, no cgroups); submits
the recipe of docs/cluster.md: an `sbatch --array` of shards throttled with `%M`, each running
`netsim check` and `netsim sweep` with `--shard env --results-out`, then a merge job with
`--dependency=afterok`; and compares the merged tables, JUnit file and exit codes with the
one-machine runs. Stops the daemons it started by their pids, also on failure.

NETSIM_CLUSTER_KEEP=1 keeps the temporary directory (logs, parts). Exit 77 (skipped) with the reason when Slurm or munge is missing or the daemons cannot
start, unless NETSIM_CLUSTER_REQUIRED=1 (set by .ci/run): then that is a failure.

  slurm_test.py --netsim BUILD/netsim --source REPO
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
SHARDS = 4
THROTTLE = 2


class Skip(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """munged + slurmctld + slurmd in `work`, stopped by stop()."""

    def __init__(self, work):
        self.work = work
        self.procs = []  # (name, Popen), in start order
        self.conf = os.path.join(work, "slurm.conf")
        self.env = dict(os.environ, SLURM_CONF=self.conf)

    def start(self):
        for tool in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol"):
            if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
                raise Skip(f"{tool} not found (apt-get install slurm-wlm munge; .ci/setup does)")
        if os.geteuid() != 0:
            raise Skip("slurmd runs jobs as their user and needs root here (run as root, as CI does)")
        w = self.work
        sock = os.path.join(w, "munge.socket")
        key = os.path.join(w, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        self.spawn("munged", ["munged", "-F", "--force", f"--socket={sock}", f"--key-file={key}",
                              f"--pid-file={w}/munged.pid", f"--log-file={w}/munged.log",
                              f"--seed-file={w}/munged.seed"])
        self.wait_for(lambda: os.path.exists(sock), "munged", f"{w}/munged.log")
        host = socket.gethostname().split(".")[0]
        for d in ("state", "spool"):
            os.makedirs(os.path.join(w, d))
        with open(self.conf, "w") as f:
            f.write(f"""ClusterName=netsim
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
StateSaveLocation={w}/state
SlurmdSpoolDir={w}/spool
SlurmctldPidFile={w}/slurmctld.pid
SlurmdPidFile={w}/slurmd.pid
SlurmctldLogFile={w}/slurmctld.log
SlurmdLogFile={w}/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=netsim-node NodeHostname={host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=netsim Nodes=netsim-node Default=YES MaxTime=INFINITE State=UP
""")
        self.spawn("slurmctld", ["slurmctld", "-D", "-c", "-f", self.conf])
        self.spawn("slurmd", ["slurmd", "-D", "-f", self.conf, "-N", "netsim-node"])
        def node_idle():
            out = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=self.env, capture_output=True,
                                 text=True)
            return out.returncode == 0 and out.stdout.strip().startswith("idle")
        self.wait_for(node_idle, "slurmctld and slurmd (node idle)", f"{w}/slurmctld.log", 30)

    def spawn(self, name, argv):
        log = open(os.path.join(self.work, name + ".out"), "w")
        exe = shutil.which(argv[0], path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        self.procs.append((name, subprocess.Popen([exe] + argv[1:], stdout=log, stderr=subprocess.STDOUT,
                                                  env=self.env, start_new_session=True)))

    def wait_for(self, ready, what, log, seconds=15):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise Skip(f"{name} exited with {p.returncode} while starting: "
                               + tail(os.path.join(self.work, name + ".out")) + tail(log))
            if ready():
                return
            time.sleep(0.2)
        raise Skip(f"{what} not ready after {seconds} s: " + tail(log))

    def stop(self):
        """SIGTERM to each daemon started here (its pid), newest first; SIGKILL after 10 s."""
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def tail(path, lines=8):
    try:
        with open(path, errors="replace") as f:
            return "\n  " + "\n  ".join(f.read().splitlines()[-lines:])
    except OSError:
        return ""


def sbatch(cluster, args):
    out = subprocess.run(["sbatch", "--parsable", *args], env=cluster.env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"sbatch {' '.join(args)} failed: {out.stderr}")
    return out.stdout.strip().split(";")[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netsim", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    required = os.environ.get("NETSIM_CLUSTER_REQUIRED") == "1"
    netsim = os.path.abspath(args.netsim)
    suite = os.path.join(args.source, "tests", "data", "check")
    scenario = os.path.join(suite, "ok.json")
    check = f"check {suite} -j1 --progress never"
    sweep = f"sweep {scenario} --set /seed=1..30 --set '/links/0/loss=[0, 1]' -j1"
    work = tempfile.mkdtemp(prefix="netsim-slurm-")
    cluster = Cluster(work)
    start = time.monotonic()
    try:
        cluster.start()
        print(f"cluster up in {time.monotonic() - start:.1f} s ({work})")
        # The recipe of docs/cluster.md: the shards, then the merge once all of them succeeded.
        job = sbatch(cluster, [f"--array=0-{SHARDS - 1}%{THROTTLE}", "--cpus-per-task=1",
                               f"--output={work}/shard-%a.out", f"--chdir={work}", "--wrap",
                               f"{netsim} {check} --shard env --results-out check-$SLURM_ARRAY_TASK_ID.part && "
                               f"{netsim} {sweep} --shard env --results-out sweep-$SLURM_ARRAY_TASK_ID.part"])
        sbatch(cluster, [f"--dependency=afterok:{job}", f"--output={work}/merge.out", f"--chdir={work}",
                         "--wrap",
                         f"{netsim} merge check-*.part --junit merged.xml > check.txt; echo $? > check.rc; "
                         f"{netsim} merge sweep-*.part > sweep.txt; echo $? > sweep.rc"])
        deadline = time.monotonic() + 45
        while not os.path.exists(os.path.join(work, "sweep.rc")):
            if time.monotonic() > deadline:
                queue = subprocess.run(["squeue"], env=cluster.env, capture_output=True, text=True).stdout
                raise RuntimeError("the jobs did not finish in 45 s:\n" + queue + tail(f"{work}/slurmctld.log")
                                   + "".join(tail(f"{work}/shard-{k}.out") for k in range(SHARDS)))
            time.sleep(0.3)
        time.sleep(0.2)  # the merge job's last write
        failures = []
        for name, cmd, junit in (("check", check + f" --junit {work}/local.xml", True), ("sweep", sweep, False)):
            local = subprocess.run(f"{netsim} {cmd}", shell=True, capture_output=True, text=True)
            merged = open(os.path.join(work, name + ".txt")).read()
            rc = int(open(os.path.join(work, name + ".rc")).read())
            if merged != local.stdout:
                failures.append(f"{name}: the merged table differs from the local run\n--- local\n"
                                f"{local.stdout}--- merged\n{merged}")
            if rc != local.returncode:
                failures.append(f"{name}: merge exited {rc}, the local run {local.returncode}")
            if junit:
                times = re.compile(r'time="[0-9.]+"')
                a = times.sub("", open(os.path.join(work, "local.xml")).read())
                b = times.sub("", open(os.path.join(work, "merged.xml")).read())
                if a != b:
                    failures.append("check: the merged JUnit file differs from the local run's")
            print(f"{name}: {SHARDS} Slurm shards + merge == local run: {'no' if failures else 'yes'} "
                  f"(exit {rc})")
        if failures:
            print("\n".join(failures))
            return 1
        print(f"slurm test passed in {time.monotonic() - start:.1f} s")
        return 0
    except Skip as e:
        print(f"slurm test skipped: {e}")
        if required:
            print("NETSIM_CLUSTER_REQUIRED=1: the cluster test must run here")
            return 1
        return SKIP
    finally:
        cluster.stop()
        if os.environ.get("NETSIM_CLUSTER_KEEP") == "1":
            print(f"kept {work} (NETSIM_CLUSTER_KEEP=1)")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
