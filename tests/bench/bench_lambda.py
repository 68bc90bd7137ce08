#!/usr/bin/env python3
# Benchmark of the packaged function started the way Lambda starts it: init time, cold start
# against moto with SigV4 on, and peak RSS over a 1,000-record batch. Reports; never judges.
"""Run from the top of the tree (make bench does, after the C programs):

    bench_lambda.py [--zip dist/audit_producer-x86_64.zip] [--bootstrap build/bootstrap]
                    [--probe build/bench/runtime_probe] [--runs N] [--rss-runs N]
                    [--invocations N] [--rss-only] [--env NAME=VALUE ...]
                    [--extra-probe PROGRAM ...] [--rss-runs 0]
                    [--time S] [--rounds N]

What it measures, each run a fresh process (a cold start):
  init time   from just before exec (Popen) of the bootstrap to the Runtime API stand-in
              receiving its first GET /2018-06-01/runtime/invocation/next. Measured for the
              packaged bootstrap (the zip unzipped into an empty /var/task stand-in, run
              with Lambda's LD_LIBRARY_PATH and only Lambda's variables, as
              tests/package/test_package.sh runs it), for build/bootstrap (Debian's shared
              libraries, lazy binding) and for runtime_probe (connect + GET and nothing
              else: the floor that Python's Popen, exec and the stand-in add).
  cold start  from the same instant to the first response posted for a 100-record batch
              (the first 100 records of events/bench-1000-mixed.json) whose items the
              packaged bootstrap writes to moto with SigV4 verification on.
  peak RSS    VmHWM from /proc/PID/status after the packaged bootstrap answered
              events/bench-1000-mixed.json, once and again after --invocations deliveries
              to the same process (a warm function's steady state), with where the memory
              is (from /proc/PID/smaps, sampled every 5 ms while the batches run; the
              sample with the most Rss). --env adds variables to the packaged bootstrap's
              environment, for experiments (GLIBC_TUNABLES=..., AUDIT_CONCURRENCY=...).
  experiments --extra-probe copies a program that connects and GETs as runtime_probe does
              (built against other libraries, say, with -Wl,-rpath,'$ORIGIN/lib') into the
              unzipped /var/task and adds its init time to the table; --rss-runs 0 skips
              the RSS part; --moto-auth-off measures the cold start with moto's signature
              checks off (what they cost moto, not the function).

The Runtime API is tests/support/runtime_standin.py, imported and served from this process,
with its request handler subclassed to take a CLOCK_MONOTONIC timestamp when a request's
head has been read (and one when the connection is accepted): the shared stand-in is not
changed. moto is started, given an IAM user, role and policy with auth off, then switched to
auth on, by tests/integration/test_ddb_moto.py's Moto and Aws classes; the function signs
with the role's temporary credentials (a session token, as on Lambda).

Runs take turns (probe, build/bootstrap, packaged, probe, ...) so that a machine busy with
something else for a while slows them alike; medians are what to compare. --runs is the
number of runs of each (at least 10; --rounds from BENCH_ARGS raises it, --time is ignored).
Python 3 standard library, plus moto and boto3 for moto's setup.
"""

import argparse
import importlib.util
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EVENT_1000 = os.path.join(TOP, "events", "bench-1000-mixed.json")
COLD_RECORDS = 100
MIN_RUNS = 10
DEFAULT_RUNS = 15
DEFAULT_RSS_RUNS = 3
INVOKE_TIMEOUT_MS = 600000  # the invocation's deadline: never the reason a batch stops
GET_WAIT_S = 20
RESPONSE_WAIT_S = 300
SMAPS_EVERY_S = 0.005

TARGET_INIT_MS = 5.0
TARGET_RSS_MB = 15.0

API = "/2018-06-01/runtime/"


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


standin = load("runtime_standin", os.path.join(TOP, "tests", "support", "runtime_standin.py"))
motolib = load("test_ddb_moto", os.path.join(TOP, "tests", "integration", "test_ddb_moto.py"))
kill = load("processes", os.path.join(TOP, "tests", "support", "processes.py")).stop_process


def now_ns():
    return time.monotonic_ns()


# ---- the stand-in, with arrival times taken on our side ---------------------------------------


class Timing:
    """Arrival times of the runtime's connections and requests since the last reset."""

    def __init__(self):
        self.cond = threading.Condition()
        self.reset()

    def reset(self):
        with self.cond:
            self.accepts = []
            self.gets = []
            self.responses = []  # POST .../response and .../error, in order

    def accepted(self):
        t = now_ns()
        with self.cond:
            self.accepts.append(t)

    def request(self, method, path):
        t = now_ns()
        if not path.startswith(API):
            return
        with self.cond:
            if method == "GET" and path.startswith(API + "invocation/next"):
                self.gets.append(t)
            elif method == "POST" and (path.endswith("/response") or path.endswith("/error")
                                       or path.endswith("/init/error")):
                self.responses.append(t)
            self.cond.notify_all()

    def wait(self, what, count, timeout):
        """The time of the count-th `what` ("gets" or "responses"), or None on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(getattr(self, what)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.05))
            return getattr(self, what)[count - 1]


class TimedHandler(standin.Handler):
    def do_GET(self):
        self.server.timing.request("GET", self.path)
        super().do_GET()

    def do_POST(self):
        self.server.timing.request("POST", self.path)
        super().do_POST()


class TimedServer(standin.Server):
    def __init__(self, timing):
        super().__init__(("127.0.0.1", 0), standin.DEFAULT_MAX_RESPONSE, False)
        self.RequestHandlerClass = TimedHandler
        self.timing = timing

    def process_request(self, request, client_address):
        self.timing.accepted()
        super().process_request(request, client_address)

    def handle_error(self, request, client_address):
        # A function killed at the end of its run resets its connection: not news.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class Control:
    """The stand-in's control API, over HTTP as tests use it."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/_test/"

    def call(self, method, name, body=None, timeout=30):
        req = urllib.request.Request(self.base + name, data=body, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode())

    def enqueue(self, payload, request_id):
        return self.call("POST", f"enqueue?request_id={request_id}&timeout_ms={INVOKE_TIMEOUT_MS}",
                         payload)

    def reset(self):
        self.call("POST", "reset", b"")

    def results(self):
        return self.call("GET", "results")


# ---- processes ----------------------------------------------------------------------------------


class BenchError(Exception):
    pass


def lambda_llp(fs, task):
    """Lambda's LD_LIBRARY_PATH, as tests/package/test_package.sh builds it."""
    return (f"{fs}/var/lang/lib:/lib64:/usr/lib64:{fs}/var/runtime:{fs}/var/runtime/lib:"
            f"{task}:{task}/lib:{fs}/opt/lib")


def unzip_task(zip_path, fs):
    task = os.path.join(fs, "var", "task")
    for d in (task, f"{fs}/var/lang/lib", f"{fs}/var/runtime/lib", f"{fs}/opt/lib"):
        os.makedirs(d, exist_ok=True)
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            path = z.extract(info, task)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(path, mode)
    return task


class Function:
    """One way of starting the function: an executable, its folder, its environment."""

    def __init__(self, name, exe, cwd, env):
        self.name, self.exe, self.cwd, self.env = name, exe, cwd, env


def median_min_max(values):
    return statistics.median(values), min(values), max(values)


def read_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData", "VmSize"):
                out[name] = int(value.split()[0])  # kB
    return out


def read_smaps(pid, task):
    """Rss and Private_Dirty (kB) per mapping group: the zip's bootstrap, each library by
    name, [heap], [stack], anonymous mappings, the rest."""
    groups = {}
    current = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                parts = line.split(None, 5)
                path = parts[5].strip() if len(parts) > 5 else ""
                if path == "":
                    key = "[anonymous mmap]"
                elif path.startswith("["):
                    key = path
                else:
                    key = "zip bootstrap" if path == task + "/bootstrap" else \
                        os.path.basename(path)
                current = groups.setdefault(key, {"rss": 0, "dirty": 0, "anon": 0})
            elif current is not None:
                if line.startswith("Rss:"):
                    current["rss"] += int(line.split()[1])
                elif line.startswith("Private_Dirty:"):
                    current["dirty"] += int(line.split()[1])
                elif line.startswith("Anonymous:"):
                    current["anon"] += int(line.split()[1])
    return groups


# ---- the runs -----------------------------------------------------------------------------------


class Bench:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.timing = Timing()
        self.server = None
        self.control = None
        self.moto = None
        self.proc = None
        self.log_path = os.path.join(workdir, "function.log")

    def start_servers(self):
        # moto first: Moto.start uses a preexec_fn, safe only before this process has threads.
        self.moto = motolib.Moto(self.workdir)
        self.moto.start()
        aws = motolib.Aws(self.moto)
        aws.setup()
        self.creds = aws.temp
        self.server = TimedServer(self.timing)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        self.api = f"127.0.0.1:{self.server.server_address[1]}"
        self.control = Control(self.server.server_address[1])

    def stop_servers(self):
        kill(self.proc)
        if self.server is not None:
            self.server.stop()
            self.server.server_close()
        if self.moto is not None:
            self.moto.stop()

    def env(self, fs, task, concurrency=8, extra=None):
        key, secret, token = self.creds
        env = {
            "AWS_LAMBDA_RUNTIME_API": self.api,
            "AUDIT_TABLE": motolib.TABLE,
            "AUDIT_CONCURRENCY": str(concurrency),
            "AWS_REGION": motolib.REGION,
            "AWS_DEFAULT_REGION": motolib.REGION,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_SESSION_TOKEN": token,
            "AWS_ENDPOINT_URL_DYNAMODB": self.moto.endpoint,
            "AWS_LAMBDA_FUNCTION_NAME": "audit_producer",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": "INFO",
            "LD_LIBRARY_PATH": lambda_llp(fs, task),
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": task,
            "LAMBDA_RUNTIME_DIR": f"{fs}/var/runtime",
        }
        env.update(extra or {})
        return env

    def spawn(self, fn, env=None):
        """Starts `fn`; returns its process and the instant just before the exec."""
        log = open(self.log_path, "wb")
        try:
            t0 = now_ns()
            proc = subprocess.Popen([fn.exe], cwd=fn.cwd, env=env or fn.env,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        self.proc = proc
        return proc, t0

    def log_tail(self):
        return motolib.log_tail(self.log_path)

    def settle(self):
        """Waits until the stand-in has finished every request: a long poll left by a
        process that was killed ends only when its thread sees the client gone, and until
        then it would take the next run's event."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if all(r["outcome"] is not None for r in self.control.results()["requests"]):
                return
            time.sleep(0.01)
        raise BenchError("the stand-in still has a request in progress after 5 s")

    def prepare(self, payload, request_id):
        self.settle()
        self.control.reset()
        if payload is not None:
            self.control.enqueue(payload, request_id)
        self.timing.reset()

    def expect_complete(self, fn, request_id, index=0):
        posts = self.control.results()["posts"]
        if len(posts) <= index or posts[index]["kind"] != "response" or \
                posts[index]["request_id"] != request_id or \
                posts[index]["json"] != {"batchItemFailures": []}:
            got = posts[index] if len(posts) > index else None
            raise BenchError(f"{fn.name}: invocation {request_id} was not answered "
                             f"{{\"batchItemFailures\":[]}}: {json.dumps(got)[:400]}\n"
                             f"{self.log_tail()}")

    def summary(self):
        """The function's last summary line (JSON logs), as a dict, or {}."""
        found = {}
        try:
            with open(self.log_path, "rb") as f:
                for line in f:
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(obj, dict) and "records" in obj and "duration_ms" in obj:
                        found = obj
        except OSError:
            pass
        return found

    def run_init(self, fn, payload, request_id, wait_response):
        """One cold start of `fn`: (init ms, first response ms or None, accept ms)."""
        self.prepare(payload, request_id)
        proc, t0 = self.spawn(fn)
        try:
            t_get = self.timing.wait("gets", 1, GET_WAIT_S)
            if t_get is None:
                raise BenchError(f"{fn.name}: no GET /invocation/next within {GET_WAIT_S} s "
                                 f"(exit {proc.poll()}):\n{self.log_tail()}")
            t_resp = None
            if wait_response:
                t_resp = self.timing.wait("responses", 1, RESPONSE_WAIT_S)
                if t_resp is None:
                    raise BenchError(f"{fn.name}: no response within {RESPONSE_WAIT_S} s:\n"
                                     f"{self.log_tail()}")
            else:
                proc.wait(GET_WAIT_S)
        finally:
            kill(proc)
            self.proc = None
        if wait_response:
            self.expect_complete(fn, request_id)
        with self.timing.cond:
            t_acc = self.timing.accepts[0] if self.timing.accepts else t_get
        return ((t_get - t0) / 1e6, (t_resp - t0) / 1e6 if t_resp else None, (t_acc - t0) / 1e6)

    def run_rss(self, fn, payload, invocations):
        """Peak RSS of one process over `invocations` deliveries of `payload`."""
        self.prepare(None, None)
        proc, _ = self.spawn(fn)
        samples = {"after": []}
        best = None
        try:
            if self.timing.wait("gets", 1, GET_WAIT_S) is None:
                raise BenchError(f"{fn.name}: no GET /invocation/next:\n{self.log_tail()}")
            samples["idle"] = read_status(proc.pid)
            samples["idle_smaps"] = read_smaps(proc.pid, fn.cwd)
            for n in range(1, invocations + 1):
                request_id = f"bench-rss-{n}"
                self.control.enqueue(payload, request_id)
                deadline = time.monotonic() + RESPONSE_WAIT_S
                while True:
                    got = self.timing.wait("responses", n, SMAPS_EVERY_S)
                    try:
                        groups = read_smaps(proc.pid, fn.cwd)
                    except OSError:
                        groups = None
                    if groups is not None:
                        total = sum(g["rss"] for g in groups.values())
                        if best is None or total > best[0]:
                            best = (total, groups)
                    if got is not None:
                        break
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise BenchError(f"{fn.name}: no response to the 1,000-record batch:\n"
                                         f"{self.log_tail()}")
                self.expect_complete(fn, request_id, n - 1)
                status = read_status(proc.pid)
                status["summary"] = self.summary()
                samples["after"].append(status)
            samples["peak_smaps"] = best[1] if best else {}
            samples["peak_smaps_total"] = best[0] if best else 0
        finally:
            kill(proc)
            self.proc = None
        return samples

    def ld_statistics(self, fn):
        """The dynamic loader's own account of its start-up work (LD_DEBUG=statistics)."""
        self.prepare(b'{"Records":[]}', "bench-ld-statistics")
        env = dict(fn.env, LD_DEBUG="statistics")
        proc, _ = self.spawn(fn, env)
        try:
            self.timing.wait("responses", 1, GET_WAIT_S)
        finally:
            kill(proc)
            self.proc = None
        lines = []
        with open(self.log_path, "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                if ":" in line and ("startup" in line or "relocation" in line or
                                    "objects" in line):
                    lines.append(" ".join(line.split(":", 1)[1].split()))
        return lines


# ---- reporting ----------------------------------------------------------------------------------


def fmt_row(label, values):
    med, lo, hi = median_min_max(values)
    return f"{label:<48} {med:9.2f} {lo:9.2f} {hi:9.2f} {len(values):5d}"


def report_init(times, ld_stats):
    print(f"{'init time: exec -> first GET /invocation/next':<48} {'median':>9} {'min':>9} "
          f"{'max':>9} {'runs':>5}   (ms)")
    for name, values in times.items():
        print(fmt_row(name, [t[0] for t in values]))
    packaged = times[PACKAGED]
    init_med = statistics.median(t[0] for t in packaged)
    floor_med = statistics.median(t[0] for t in times[PROBE])
    acc = statistics.median(t[0] - t[2] for t in packaged)
    print(f"  connection accepted -> GET read by the stand-in (Python's share): median {acc:.2f} ms")
    print(f"  packaged bootstrap minus the floor (medians): {init_med - floor_med:.2f} ms")
    verdict = "PASS" if init_med < TARGET_INIT_MS else "MISS"
    print(f"  target init < {TARGET_INIT_MS:.0f} ms (packaged, median): {init_med:.2f} ms {verdict}")
    if ld_stats:
        print("  LD_DEBUG=statistics (packaged): " + "; ".join(ld_stats))


def report_cold(args, cold, stats):
    print(f"{'cold start: exec -> first response posted':<48} {'median':>9} {'min':>9} {'max':>9} "
          f"{'runs':>5}   (ms)")
    auth = "off" if args.moto_auth_off else "on"
    print(fmt_row(f"{COLD_RECORDS} records -> moto (SigV4 {auth}), c=8", cold))
    durations = [s["duration_ms"] for s in stats if s.get("duration_ms") is not None]
    if durations:
        print(fmt_row("  of which the batch (summary duration_ms)", durations))
    items = stats[0].get("items") if stats else None
    requests = [s["requests"] for s in stats if s.get("requests") is not None]
    retries = sum(s.get("retries", 0) for s in stats)
    print(f"  {items} items a batch, {statistics.median(requests) if requests else '?'} "
          f"requests (median), {retries} retries in all")
    rest = [c - s["duration_ms"] for c, s in zip(cold, stats) if s.get("duration_ms") is not None]
    if rest:
        print(fmt_row("  the rest (init, event, response post)", rest))


def report_rss(args, rss):
    print(f"peak RSS over events/bench-1000-mixed.json (1,000 records), {len(rss)} processes, "
          f"each invoked {args.invocations} times (kB)")
    print(f"{'process':<10} {'idle VmRSS':>11} {'VmHWM 1st':>11} {'VmHWM last':>11} "
          f"{'VmRSS last':>11} {'RssAnon':>9} {'RssFile':>9} {'items':>6} {'batch ms':>9}")
    for i, r in enumerate(rss):
        first, last = r["after"][0], r["after"][-1]
        s = first.get("summary", {})
        print(f"{i + 1:<10} {r['idle']['VmRSS']:11d} {first['VmHWM']:11d} "
              f"{last['VmHWM']:11d} {last['VmRSS']:11d} {last['RssAnon']:9d} "
              f"{last['RssFile']:9d} {s.get('items', '?'):>6} {s.get('duration_ms', '?'):>9}")
    for i, r in enumerate(rss):
        print(f"  process {i + 1}, after each invocation: VmHWM "
              + " ".join(str(a["VmHWM"]) for a in r["after"]) + "; VmRSS "
              + " ".join(str(a["VmRSS"]) for a in r["after"]))
    peak = statistics.median(r["after"][0]["VmHWM"] for r in rss)
    peak_last = statistics.median(r["after"][-1]["VmHWM"] for r in rss)
    verdict = "PASS" if max(peak, peak_last) / 1024 < TARGET_RSS_MB else "MISS"
    print(f"  target peak RSS < {TARGET_RSS_MB:.0f} MB: median VmHWM {peak / 1024:.2f} MB after "
          f"one batch, {peak_last / 1024:.2f} MB after {args.invocations} {verdict}")
    # The breakdown of the sample with the most Rss, from the median process.
    mid = sorted(rss, key=lambda r: r["after"][-1]["VmHWM"])[len(rss) // 2]
    groups, idle, total = mid["peak_smaps"], mid["idle_smaps"], mid["peak_smaps_total"]
    print(f"  where it is: the largest /proc/PID/smaps sample during the batches, {total} kB "
          f"(idle after init: {sum(g['rss'] for g in idle.values())} kB); anon = the mapping's "
          "Anonymous pages (written: heap, relocated data)")
    print(f"  {'mapping':<34} {'Rss':>7} {'anon':>7} {'idle Rss':>9}")
    rest = [0, 0, 0]
    for key, g in sorted(groups.items(), key=lambda kv: -kv[1]["rss"]):
        irss = idle.get(key, {}).get("rss", 0)
        if g["rss"] >= 100:
            print(f"  {key:<34} {g['rss']:7d} {g['anon']:7d} {irss:9d}")
        else:
            rest[0] += g["rss"]
            rest[1] += g["anon"]
            rest[2] += irss
    print(f"  {'(mappings under 100 kB)':<34} {rest[0]:7d} {rest[1]:7d} {rest[2]:9d}")
    anon = sum(groups.get(k, {}).get("rss", 0) for k in ("[heap]", "[anonymous mmap]", "[stack]"))
    print(f"  heap + anonymous mappings + stack: {anon} kB")


PROBE = "runtime_probe (floor: connect + GET only)"
BUILT = "build/bootstrap (Debian libraries)"
PACKAGED = "packaged bootstrap (zip, Lambda's LLP)"


def report(args, times, cold, stats, rss, ld_stats):
    print(f"bench_lambda: the packaged bootstrap ({os.path.relpath(args.zip, TOP)}) started as "
          "Lambda starts it; every run a new process"
          + (f"; extra environment: {' '.join(args.env)}" if args.env else ""))
    print("load average (1, 5, 15 min) at the end: "
          + ", ".join(f"{x:.2f}" for x in os.getloadavg())
          + f" on {os.cpu_count()} CPUs (other work on the machine shows up as noise)")
    if times[PACKAGED]:
        report_init(times, ld_stats)
        print()
        report_cold(args, cold, stats)
        print()
    if rss:
        report_rss(args, rss)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--zip", default=os.path.join(TOP, "dist", "audit_producer-x86_64.zip"))
    p.add_argument("--bootstrap", default=os.path.join(TOP, "build", "bootstrap"))
    p.add_argument("--probe", default=os.path.join(TOP, "build", "bench", "runtime_probe"))
    p.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    p.add_argument("--rss-runs", type=int, default=DEFAULT_RSS_RUNS, help="0: no RSS part")
    p.add_argument("--invocations", type=int, default=2,
                   help="deliveries of the 1,000-record batch per RSS process")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="one more variable for the bootstrap (repeatable), for experiments "
                        "such as GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072")
    p.add_argument("--rss-only", action="store_true", help="measure peak RSS alone")
    p.add_argument("--moto-auth-off", action="store_true",
                   help="experiment: switch moto's SigV4 verification off after setup")
    p.add_argument("--extra-probe", action="append", default=[], metavar="PROGRAM",
                   help="one more program whose init time to measure, run from /var/task")
    p.add_argument("--rounds", type=int, default=0, help="BENCH_ARGS: at least this many runs")
    p.add_argument("--time", type=float, default=0, help="BENCH_ARGS: ignored")
    args = p.parse_args()
    args.runs = max(args.runs, args.rounds, MIN_RUNS)
    args.zip = os.path.abspath(args.zip)
    for e in args.env:
        if "=" not in e:
            p.error(f"--env wants NAME=VALUE, not {e!r}")
    return args


def raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, raise_exit)
    os.chdir(TOP)
    for path, what in ((args.zip, "make package-x86_64"), (args.bootstrap, "make"),
                       (args.probe, "make build/bench/runtime_probe")):
        if not os.path.exists(path):
            print(f"bench_lambda: {path} is missing ({what})", file=sys.stderr)
            return 2
    with open(EVENT_1000, "rb") as f:
        event_1000 = f.read()
    records = json.loads(event_1000)["Records"]
    event_100 = json.dumps({"Records": records[:COLD_RECORDS]}, separators=(",", ":"),
                           ensure_ascii=False).encode()
    empty = b'{"Records":[]}'

    workdir = tempfile.mkdtemp(prefix="auditstream-bench-")
    bench = Bench(args, workdir)
    try:
        fs = os.path.join(workdir, "fs")
        task = unzip_task(args.zip, fs)
        bench.start_servers()
        if args.moto_auth_off:
            bench.moto.set_auth(False)
        packaged = Function(PACKAGED,
                            os.path.join(task, "bootstrap"), task,
                            bench.env(fs, task, extra=dict(e.split("=", 1) for e in args.env)))
        build_task = os.path.dirname(os.path.abspath(args.bootstrap))
        built = Function(BUILT, os.path.abspath(args.bootstrap),
                         build_task, bench.env(fs, build_task))
        probe = Function(PROBE, os.path.abspath(args.probe), task, bench.env(fs, task))
        extras = []
        for path in args.extra_probe:
            name = os.path.basename(path)
            shutil.copy2(path, os.path.join(task, name))
            extras.append(Function(f"{name} (experiment, from /var/task)",
                                   os.path.join(task, name), task, bench.env(fs, task)))

        # One of each first, unmeasured: page cache, moto's first requests.
        bench.run_init(packaged, event_100, "bench-warm", True)
        times = {f.name: [] for f in [probe, built, packaged] + extras}
        cold, stats = [], []
        for i in range(0 if args.rss_only else args.runs):
            times[probe.name].append(bench.run_init(probe, empty, f"probe-{i}", False))
            for extra in extras:
                times[extra.name].append(bench.run_init(extra, empty, f"extra-{i}", False))
            times[built.name].append(bench.run_init(built, empty, f"built-{i}", True))
            t = bench.run_init(packaged, event_100, f"cold-{i}", True)
            times[packaged.name].append(t)
            cold.append(t[1])
            stats.append(bench.summary())
        ld_stats = [] if args.rss_only else bench.ld_statistics(packaged)
        rss = [bench.run_rss(packaged, event_1000, args.invocations)
               for _ in range(args.rss_runs)]
        report(args, times, cold, stats, rss, ld_stats)
    except (BenchError, motolib.SetupError) as e:
        print(f"bench_lambda: {e}", file=sys.stderr)
        return 1
    finally:
        bench.stop_servers()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
