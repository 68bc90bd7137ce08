#!/usr/bin/env python3
# Offline tests of infra/: formatting, validation with the provider from the machine's
# filesystem mirror, then apply, update and destroy against moto on loopback.
"""Run: python3 tests/infra/test_infra.py   (from anywhere; `make infra-test` does it)

Never reaches the network. Terraform installs hashicorp/aws only from a filesystem
mirror, through a CLI configuration file this script writes into a temporary folder
(TF_CLI_CONFIG_FILE) with every direct installation excluded; the mirror is
TF_PLUGIN_MIRROR when set, else found on the machine. The checkpoint (version check) is
off, and HTTPS_PROXY points at a loopback trap that refuses and records every request:
one that would have left the machine fails at once, and the last test reports it.

infra/ is copied into the temporary folder before `init`, and the copy alone gets the
provider override file that sends every AWS call to moto: nothing is written into
infra/. moto runs on a free loopback port, started and stopped (by its pid) by this
script; when it or the mirror is missing, the tests that need it fail with the reason,
none is skipped.

What moto does not do, and so is validated (`terraform validate`, plan JSON) but not
checked after apply: see MOTO_GAPS below.

Standard library plus boto3. Ends with "infra: N passed, N failed"; exits 1 on failure.
"""

import argparse
import base64
import ctypes
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
import zipfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INFRA = os.path.join(TOP, "infra")
MODULE_REL = os.path.join("modules", "audit-stream")
PROVIDER = "registry.terraform.io/hashicorp/aws"
REGION = "us-east-1"
PREFIX = "infratest-"
MOTO_START_SECONDS = 20
TF_TIMEOUT = 300

# The services the configuration calls. The override gives each one moto's endpoint; a
# service missing here would go to AWS, which the dead proxy turns into a fast failure.
# (kms: reading a table with server-side encryption describes its KMS key.)
MOTO_SERVICES = ["cloudwatch", "dynamodb", "iam", "kms", "lambda", "logs", "sns", "sqs", "sts"]

# Measured with moto 5.2: what it accepts but does not keep, so the tests cannot read it
# back. Each is still validated by `terraform validate` and checked in the plan JSON.
MOTO_GAPS = {
    "aws_lambda_function.logging_config": (
        "moto's Lambda ignores LoggingConfig (JSON log format, log group, log levels): "
        "GetFunction returns none, so every plan after apply shows it to be added; the "
        "test checks it in the planned values instead"
    ),
    "aws_lambda_function.architectures (changed in place)": (
        "moto's UpdateFunctionCode ignores Architectures, so a function created for arm64 "
        "stays arm64 there; the update test checks the planned x86_64 architecture and "
        "zip, and that moto got the x86_64 zip's code"
    ),
}

# Where a mirror usually is, looked at before walking the whole filesystem.
MIRROR_GUESSES = [
    "/opt/tf-plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    os.path.expanduser("~/.terraform.d/plugins"),
    os.path.expanduser("~/.local/share/terraform/plugins"),
]


class SetupError(Exception):
    """terraform, the mirror, moto or boto3 are not usable: the tests needing it fail."""


class TestFailure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def check_eq(actual, expected, what):
    if actual != expected:
        raise TestFailure(f"{what}: expected {expected!r}, got {actual!r}")


# ---- terraform and its provider ---------------------------------------------------------


def find_terraform():
    path = shutil.which("terraform") or (
        "/usr/local/bin/terraform" if os.access("/usr/local/bin/terraform", os.X_OK) else None
    )
    if path is None:
        raise SetupError("terraform is not on PATH nor at /usr/local/bin/terraform")
    return path


def mirror_root_of(binary):
    """The folder above registry.terraform.io/ in a provider binary's path."""
    marker = os.sep + "registry.terraform.io" + os.sep
    return binary[: binary.index(marker)]


def providers_in(root):
    pattern = os.path.join(root, PROVIDER, "*", "linux_amd64", "terraform-provider-aws*")
    return sorted(glob.glob(pattern))


def find_mirror():
    """TF_PLUGIN_MIRROR, else the first mirror holding hashicorp/aws for linux_amd64."""
    env = os.environ.get("TF_PLUGIN_MIRROR")
    if env:
        if not providers_in(env):
            raise SetupError(f"TF_PLUGIN_MIRROR={env} holds no {PROVIDER}/<version>/linux_amd64/")
        return env
    for guess in MIRROR_GUESSES:
        if providers_in(guess):
            return guess
    # Then the whole filesystem (the mirror may be anywhere), less the kernel's pseudo-filesystems.
    cmd = ["find", "/", "(", "-path", "/proc", "-o", "-path", "/sys", "-o", "-path", "/dev",
           "-o", "-path", "/run", ")", "-prune", "-o",
           "-path", "*registry.terraform.io/hashicorp/aws*",
           "-name", "terraform-provider-aws*", "-print"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    for line in out.splitlines():
        if "/linux_amd64/" in line:
            return mirror_root_of(line)
    raise SetupError(
        f"no filesystem mirror of {PROVIDER} for linux_amd64 on this machine "
        "(set TF_PLUGIN_MIRROR to the folder that holds registry.terraform.io/)")


class Terraform:
    """terraform with an offline CLI configuration, in folders under one work dir."""

    def __init__(self, workdir, mirror, proxy):
        self.binary = find_terraform()
        self.mirror = mirror
        self.cli_config = os.path.join(workdir, "offline.tfrc")
        with open(self.cli_config, "w") as f:
            f.write(
                "provider_installation {\n"
                "  filesystem_mirror {\n"
                f"    path    = {json.dumps(mirror)}\n"
                f'    include = ["{PROVIDER}"]\n'
                "  }\n"
                "  direct {\n"
                '    exclude = ["*/*/*"]\n'
                "  }\n"
                "}\n")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TF_", "AWS_")) and k.lower() not in (
                   "http_proxy", "https_proxy", "no_proxy", "all_proxy")}
        env.update({
            "TF_CLI_CONFIG_FILE": self.cli_config,
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            "HTTPS_PROXY": proxy.url,
            "HTTP_PROXY": proxy.url,
            "NO_PROXY": "127.0.0.1,localhost",
            # No profile or credentials of the machine's user can leak into a run.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        self.env = env

    def run(self, chdir, *args, ok=True, timeout=TF_TIMEOUT):
        cmd = [self.binary, f"-chdir={chdir}", *args]
        try:
            proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"") + (e.stderr or b"")
            raise TestFailure(f"`terraform {' '.join(args)}` still ran after {timeout}s:\n"
                              + tail(out.decode("utf-8", "replace"), 20))
        if ok and proc.returncode != 0:
            raise TestFailure(
                f"`terraform {' '.join(args)}` exited {proc.returncode}:\n"
                + tail(proc.stdout + proc.stderr, 40))
        return proc

    def init(self, chdir):
        self.run(chdir, "init", "-backend=false", "-input=false", "-no-color")
        linked = glob.glob(os.path.join(chdir, ".terraform", "providers", PROVIDER, "*"))
        check(linked, f"init in {chdir} installed no {PROVIDER}")


def tail(text, lines):
    return "\n".join(text.strip().splitlines()[-lines:])


class TrapProxy:
    """The HTTP(S) proxy terraform is given: a loopback listener that refuses and records
    every request, so that one meant for a real AWS endpoint fails at once and is
    reported instead of leaving the machine."""

    def __init__(self):
        self.requests = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:  # the request line names the host; then hang up without answering
                    first = conn.recv(1024).split(b"\r\n", 1)[0]
                    self.requests.append(first.decode("latin-1"))
                except OSError:
                    pass


def free_port():
    """A loopback port free a moment ago (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_infra(dest):
    """infra/ without anything a local run may have left in it."""
    shutil.copytree(INFRA, dest, ignore=shutil.ignore_patterns(
        ".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*", "*.tfplan",
        "*_override.tf", "override.tf", "*.tfvars"))


# ---- moto -------------------------------------------------------------------------------


def die_with_parent():
    """In the child before exec: SIGTERM when this script dies, however it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Moto:
    """One moto server, started and stopped by this object only."""

    def __init__(self, workdir):
        self.proc = None
        self.port = None
        self.log_path = os.path.join(workdir, "moto.log")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        try:
            import moto  # noqa: F401  (only to fail with a clear reason)
        except ImportError as e:
            raise SetupError(f"moto is not installed for {sys.executable}: {e}")
        last = "no attempt"
        for _ in range(3):  # a port taken between free_port() and moto's bind: retry
            self.port = free_port()
            cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL,
                                             preexec_fn=die_with_parent)
            deadline = time.monotonic() + MOTO_START_SECONDS
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    last = f"moto exited {self.proc.returncode}: {tail(read(self.log_path), 10)}"
                    break
                try:
                    with urllib.request.urlopen(self.endpoint + "/moto-api/data.json",
                                                timeout=2) as resp:
                        if resp.status == 200:
                            return
                except OSError as e:
                    last = str(e)
                time.sleep(0.2)
            else:
                last = f"moto did not answer within {MOTO_START_SECONDS}s: {last}"
            self.stop()
        raise SetupError(f"cannot start moto: {last}")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"(unreadable: {e})"


def moto_override(endpoint):
    """The provider settings that point the root configuration's provider at moto."""
    lines = [
        "# Written by tests/infra/test_infra.py into a copy of infra/: never committed.",
        'provider "aws" {',
        f'  region                      = "{REGION}"',
        '  access_key                  = "test"',
        '  secret_key                  = "test"',
        "  skip_credentials_validation = true",
        "  skip_requesting_account_id  = true",
        "  skip_metadata_api_check     = true",
        "  skip_region_validation      = true",
        # moto neither throttles nor fails by chance: few retries make a request that
        # went to the trap proxy fail in seconds, not minutes.
        "  max_retries                 = 2",
        "  endpoints {",
    ]
    lines += [f'    {s} = "{endpoint}"' for s in MOTO_SERVICES]
    lines += ["  }", "}", ""]
    return "\n".join(lines)


def boto_clients(endpoint):
    try:
        import boto3
    except ImportError as e:
        raise SetupError(f"boto3 is not installed for {sys.executable}: {e}")
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name=REGION)
    return {s: session.client(s, endpoint_url=endpoint)
            for s in ["dynamodb", "lambda", "iam", "sqs", "sns", "cloudwatch", "logs"]}


def fake_zip(path, text):
    """A stand-in for `make package`'s zip: moto stores the code, it never runs it."""
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, text)
    with open(path, "rb") as f:
        return base64.b64encode(hashlib.sha256(f.read()).digest()).decode()


# ---- HCL, read just enough --------------------------------------------------------------


def variable_blocks(path):
    """{name: body} of the top-level variable blocks of one of our own .tf files."""
    text = read(path)
    return dict(re.findall(r'^variable "([A-Za-z0-9_]+)" \{\n(.*?)^\}$', text, re.S | re.M))


def hcl_attr(body, name):
    m = re.search(rf"^  {name}\s*=\s*(.*)$", body, re.M)
    return m.group(1).strip() if m else None


# ---- the tests --------------------------------------------------------------------------


class Suite:
    """State shared by the tests, which run in order: later ones use what earlier made."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.tf = None
        self.setup_error = None
        self.moto = Moto(workdir)
        self.aws = None
        self.live = os.path.join(workdir, "live")  # the copy that is applied to moto
        self.dist = os.path.join(workdir, "dist")
        self.code_sha = {}
        self.applied = False
        self.outputs = None
        self.proxy = TrapProxy()

    # -- helpers

    def need_tf(self):
        if self.tf is None:
            raise SetupError(self.setup_error or "terraform is not set up")
        return self.tf

    def need_live(self):
        if not self.applied:
            raise TestFailure("needs the apply against moto, which failed")

    def apply_vars(self, **extra):
        values = {
            "package_dir": self.dist,
            "name_prefix": PREFIX,
            "create_alarm_topic": "true",
            "audit_ttl_attribute": "expiresAt",
            "audit_ignore_attributes": '["updatedAt","etag"]',
        }
        values.update(extra)
        return [f"-var={k}={v}" for k, v in values.items()]

    def output(self, name):
        return self.outputs[name]["value"]

    # -- static

    def test_nothing_generated_in_infra(self):
        """infra/ holds no state, override file, plan or provider cache git would take."""
        listed = subprocess.run(
            ["git", "-C", TOP, "ls-files", "--cached", "--others", "--exclude-standard",
             "--", "infra"], capture_output=True, text=True, check=True).stdout.split()
        bad = [p for p in listed if re.search(
            r"(^|/)(\.terraform/|[^/]*\.tfstate|[^/]*override\.tf(\.json)?$|[^/]*\.tfplan$)", p)]
        check(not bad, f"generated files would be committed in infra/: {bad}")
        check(os.path.isfile(os.path.join(INFRA, MODULE_REL, "main.tf")),
              "infra/modules/audit-stream/main.tf is missing")

    def test_fmt(self):
        """terraform fmt -check -recursive infra (reads only)."""
        tf = self.need_tf()
        proc = tf.run(INFRA, "fmt", "-check", "-recursive", "-diff", "-no-color", ok=False)
        check(proc.returncode == 0, "terraform fmt would change:\n" + tail(proc.stdout, 40))

    def test_validate_root(self):
        """init from the mirror, then validate, the ready root configuration."""
        self.validate(os.path.join(self.workdir, "validate"), "")

    def test_validate_module(self):
        """init and validate modules/audit-stream alone, as a team's root would call it."""
        self.validate(os.path.join(self.workdir, "validate"), MODULE_REL)

    def validate(self, copy, rel):
        tf = self.need_tf()
        if not os.path.isdir(copy):
            copy_infra(copy)
        chdir = os.path.join(copy, rel)
        tf.init(chdir)
        proc = tf.run(chdir, "validate", "-json", "-no-color", ok=False)
        result = json.loads(proc.stdout)
        messages = [f"{d['severity']}: {d['summary']}: {d.get('detail', '')}"
                    for d in result.get("diagnostics", [])]
        check(result.get("valid") is True and proc.returncode == 0,
              "terraform validate failed:\n" + "\n".join(messages))
        check(not messages, "terraform validate warns:\n" + "\n".join(messages))

    def test_variables_documented(self):
        """Every variable: description and type; a validation unless bool or map; the
        root exposes every module input under the same name, type and description, and
        infra/README.md lists every root variable."""
        module = variable_blocks(os.path.join(INFRA, MODULE_REL, "variables.tf"))
        root = variable_blocks(os.path.join(INFRA, "variables.tf"))
        check(len(module) >= 20, f"only {len(module)} module variables found")
        problems = []
        for name, body in module.items():
            typ = hcl_attr(body, "type")
            if not hcl_attr(body, "description"):
                problems.append(f"module variable {name} has no description")
            if typ is None:
                problems.append(f"module variable {name} has no type")
            elif not (typ == "bool" or typ.startswith("map(")) and "validation {" not in body:
                problems.append(f"module variable {name} has no validation block")
            if name not in root:
                problems.append(f"root configuration does not expose {name}")
                continue
            if hcl_attr(root[name], "type") != typ:
                problems.append(f"root variable {name} has another type than the module's")
            if name != "package_dir" and (hcl_attr(root[name], "description")
                                          != hcl_attr(body, "description")):
                problems.append(f"root variable {name} is described otherwise than the module's")
        readme = read(os.path.join(INFRA, "README.md"))
        for name, body in root.items():
            if not hcl_attr(body, "description") or not hcl_attr(body, "type"):
                problems.append(f"root variable {name} lacks a description or type")
            if not re.search(rf"^\| `{name}` \|", readme, re.M):
                problems.append(f"infra/README.md has no table row for `{name}`")
        check(not problems, "\n".join(problems))

    # -- against moto

    def test_moto_setup(self):
        """Start moto, copy infra/ with the generated override, init from the mirror."""
        tf = self.need_tf()
        self.moto.start()
        self.aws = boto_clients(self.moto.endpoint)
        copy_infra(self.live)
        with open(os.path.join(self.live, "moto_override.tf"), "w") as f:
            f.write(moto_override(self.moto.endpoint))
        os.makedirs(self.dist)
        self.code_sha["arm64"] = fake_zip(
            os.path.join(self.dist, "audit_producer-arm64.zip"), "#!/bin/sh\n# arm64\n")
        self.code_sha["x86_64"] = fake_zip(
            os.path.join(self.dist, "audit_producer-x86_64.zip"), "#!/bin/sh\n# x86_64\n")
        tf.init(self.live)

    def test_variable_validation(self):
        """Bad values are refused by the module's validation blocks, each by name."""
        tf = self.need_tf()
        check(os.path.isdir(os.path.join(self.live, ".terraform")), "needs the moto setup")
        bad = {
            "architecture": "sparc",
            "name_prefix": "bad prefix!",
            "audit_format": "xml",
            "log_retention_days": "2",
            "memory_size": "100",
            "timeout": "901",
            "starting_position": "AT_TIMESTAMP",
            "batch_size": "0",
            "parallelization_factor": "11",
            "maximum_record_age_in_seconds": "30",
            "maximum_retry_attempts": "-2",
            "billing_mode": "ON_DEMAND",
            "audit_concurrency": "0",
            "log_level": "VERBOSE",
            "aws_region": "Mars",
        }
        args = [f"-var={k}={v}" for k, v in bad.items()] + [f"-var=package_dir={self.dist}"]
        proc = tf.run(self.live, "plan", "-refresh=false", "-input=false", "-json",
                      *args, ok=False)
        check(proc.returncode != 0, "plan with invalid values succeeded")
        details = []
        for line in proc.stdout.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("type") == "diagnostic":
                details.append(msg["diagnostic"].get("detail", ""))
        missed = [k for k in bad if not any(f"The value of {k} must" in d for d in details)]
        check(not missed, f"no validation error for {missed}; diagnostics:\n"
              + "\n".join(details))

    def test_apply(self):
        """terraform apply of the root configuration against moto."""
        tf = self.need_tf()
        check(self.aws is not None, "needs the moto setup")
        tf.run(self.live, "apply", "-auto-approve", "-input=false", "-no-color",
               *self.apply_vars())
        self.applied = True
        proc = tf.run(self.live, "output", "-json", "-no-color")
        self.outputs = json.loads(proc.stdout)

    def test_tables(self):
        """Both tables: key, stream, on-demand, PITR, SSE, TTL, deletion protection."""
        self.need_live()
        ddb = self.aws["dynamodb"]
        conf = ddb.describe_table(TableName=PREFIX + "Configuration")["Table"]
        audit = ddb.describe_table(TableName=PREFIX + "Audit")["Table"]
        check_eq(self.output("configuration_table_name"), PREFIX + "Configuration", "output")
        check_eq(self.output("audit_table_name"), PREFIX + "Audit", "output")
        check_eq(self.output("configuration_table_arn"), conf["TableArn"], "output")
        check_eq(self.output("audit_table_arn"), audit["TableArn"], "output")
        check_eq(self.output("configuration_stream_arn"), conf["LatestStreamArn"], "output")
        for table, key in ((conf, "key"), (audit, "id")):
            name = table["TableName"]
            check_eq(table["KeySchema"], [{"AttributeName": key, "KeyType": "HASH"}],
                     f"{name} key schema")
            check_eq(table["AttributeDefinitions"],
                     [{"AttributeName": key, "AttributeType": "S"}], f"{name} attributes")
            check_eq(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST",
                     f"{name} billing mode")
            check_eq(table.get("SSEDescription", {}).get("Status"), "ENABLED", f"{name} SSE")
            check_eq(table.get("DeletionProtectionEnabled"), True,
                     f"{name} deletion protection (on by default)")
            pitr = ddb.describe_continuous_backups(TableName=name)[
                "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
            check_eq(pitr["PointInTimeRecoveryStatus"], "ENABLED", f"{name} PITR")
        check_eq(conf["StreamSpecification"],
                 {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
                 "Configuration stream")
        check(not audit.get("StreamSpecification"), "Audit must have no stream")
        ttl = ddb.describe_time_to_live(TableName=PREFIX + "Audit")["TimeToLiveDescription"]
        check_eq((ttl["TimeToLiveStatus"], ttl.get("AttributeName")), ("ENABLED", "expiresAt"),
                 "Audit TTL")
        ttl = ddb.describe_time_to_live(TableName=PREFIX + "Configuration")
        check_eq(ttl["TimeToLiveDescription"]["TimeToLiveStatus"], "DISABLED",
                 "Configuration TTL")

    def test_function(self):
        """Runtime, handler, architecture, the arm64 zip's hash, memory, timeout, env."""
        self.need_live()
        fn = self.aws["lambda"].get_function_configuration(FunctionName=PREFIX + "audit_producer")
        check_eq(self.output("function_name"), fn["FunctionName"], "output function_name")
        check_eq(fn["Runtime"], "provided.al2023", "runtime")
        check_eq(fn["Handler"], "bootstrap", "handler")
        check_eq(fn["Architectures"], ["arm64"], "architectures (default)")
        check_eq(fn["CodeSha256"], self.code_sha["arm64"], "code: the arm64 zip")
        check_eq((fn["MemorySize"], fn["Timeout"]), (256, 60), "memory and timeout")
        check_eq(fn["Environment"]["Variables"], {
            "AUDIT_TABLE": PREFIX + "Audit",
            "AUDIT_FORMAT": "classic",
            "AUDIT_CONCURRENCY": "8",
            "AUDIT_IGNORE_ATTRIBUTES": "updatedAt,etag",
        }, "environment")
        check_eq(fn["Role"], self.output("function_role_arn"), "role")
        groups = self.aws["logs"].describe_log_groups(
            logGroupNamePrefix="/aws/lambda/" + PREFIX)["logGroups"]
        check_eq([(g["logGroupName"], g.get("retentionInDays")) for g in groups],
                 [("/aws/lambda/" + PREFIX + "audit_producer", 30)], "log group and retention")

    def test_event_source_mapping(self):
        """The mapping: stream, response types, bisect, retries, age, failure queue."""
        self.need_live()
        # moto's ListEventSourceMappings does not match a FunctionName filter given as a
        # name when the mapping was made with the ARN: get it by the UUID output instead.
        esm = self.aws["lambda"].get_event_source_mapping(
            UUID=self.output("event_source_mapping_uuid"))
        check_eq(esm["EventSourceArn"], self.output("configuration_stream_arn"), "event source")
        check_eq(esm["FunctionArn"], self.output("function_arn"), "function")
        check_eq(esm["FunctionResponseTypes"], ["ReportBatchItemFailures"], "response types")
        check_eq(esm["BisectBatchOnFunctionError"], True, "bisect_batch_on_function_error")
        check_eq(esm["DestinationConfig"]["OnFailure"]["Destination"],
                 self.output("failure_queue_arn"), "on-failure destination")
        check_eq((esm["StartingPosition"], esm["BatchSize"], esm["ParallelizationFactor"],
                  esm["MaximumRetryAttempts"], esm["MaximumRecordAgeInSeconds"]),
                 ("TRIM_HORIZON", 100, 1, 10, 86400),
                 "starting position, batch size, parallelization, retries, record age")

    def test_failure_queue(self):
        """The failure queue: 14 days' retention, encrypted (SSE-SQS)."""
        self.need_live()
        sqs = self.aws["sqs"]
        url = sqs.get_queue_url(QueueName=PREFIX + "audit_producer-failures")["QueueUrl"]
        check_eq(self.output("failure_queue_url"), url, "output failure_queue_url")
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        check_eq(attrs["MessageRetentionPeriod"], "1209600", "retention (14 days)")
        check_eq(attrs.get("SqsManagedSseEnabled"), "true", "SSE-SQS")

    def test_iam_least_privilege(self):
        """The role's policies: exactly the expected action per resource, and no
        wildcard except the log-group ARN's ':*' for the two log-writing actions."""
        self.need_live()
        iam = self.aws["iam"]
        role = PREFIX + "audit_producer"
        trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        check_eq([(s["Effect"], s["Principal"], s["Action"]) for s in trust["Statement"]],
                 [("Allow", {"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")],
                 "trust policy")
        check_eq(iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], [],
                 "attached managed policies (AWSLambda* managed policies grant '*')")
        statements = []
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            if isinstance(doc, str):
                doc = json.loads(doc)
            statements += doc["Statement"]
        check(statements, "the role has no inline policy")

        log_group_arn = self.aws["logs"].describe_log_groups(
            logGroupNamePrefix="/aws/lambda/" + PREFIX)["logGroups"][0]["logGroupArn"]
        allowed_wildcard = log_group_arn + ":*"
        grants = set()
        problems = []
        for st in statements:
            for forbidden in ("NotAction", "NotResource", "NotPrincipal", "Condition"):
                if forbidden in st:
                    problems.append(f"statement {st.get('Sid')} uses {forbidden}")
            if st.get("Effect") != "Allow":
                problems.append(f"statement {st.get('Sid')} is not an Allow")
            actions = listify(st.get("Action"))
            resources = listify(st.get("Resource"))
            for action in actions:
                if "*" in action or "?" in action:
                    problems.append(f"wildcard action {action!r}")
            for resource in resources:
                # The only '*' allowed: the documented "<log group ARN>:*" of the
                # function's own log group, for exactly the two log-writing actions.
                if resource == allowed_wildcard and set(actions) <= {
                        "logs:CreateLogStream", "logs:PutLogEvents"}:
                    continue
                if "*" in resource or "?" in resource:
                    problems.append(f"wildcard resource {resource!r} for {actions}")
            grants |= {(a, r) for a in actions for r in resources}
        check(not problems, "\n".join(problems))
        expected = {
            ("dynamodb:PutItem", self.output("audit_table_arn")),
            ("dynamodb:DescribeStream", self.output("configuration_stream_arn")),
            ("dynamodb:GetRecords", self.output("configuration_stream_arn")),
            ("dynamodb:GetShardIterator", self.output("configuration_stream_arn")),
            ("dynamodb:ListStreams", self.output("configuration_stream_arn")),
            ("logs:CreateLogStream", allowed_wildcard),
            ("logs:PutLogEvents", allowed_wildcard),
            ("sqs:SendMessage", self.output("failure_queue_arn")),
        }
        check_eq(sorted(grants), sorted(expected), "grants (action, resource)")

    def test_alarms(self):
        """IteratorAge, Errors and failure-queue alarms, all notifying the topic."""
        self.need_live()
        topic = self.output("alarm_topic_arn")
        check(topic and topic.startswith("arn:aws:sns:"), f"alarm topic output {topic!r}")
        topics = [t["TopicArn"] for t in self.aws["sns"].list_topics()["Topics"]]
        check(topic in topics, f"topic {topic} does not exist")
        alarms = self.aws["cloudwatch"].describe_alarms(
            AlarmNamePrefix=PREFIX)["MetricAlarms"]
        got = {(a["Namespace"], a["MetricName"],
                tuple((d["Name"], d["Value"]) for d in a["Dimensions"]))
               for a in alarms}
        fn, queue = PREFIX + "audit_producer", PREFIX + "audit_producer-failures"
        check_eq(got, {
            ("AWS/Lambda", "IteratorAge", (("FunctionName", fn),)),
            ("AWS/Lambda", "Errors", (("FunctionName", fn),)),
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", queue),)),
        }, "alarms")
        check_eq(sorted(a["AlarmName"] for a in alarms), sorted(self.output("alarm_names")),
                 "output alarm_names")
        for a in alarms:
            check_eq(a["AlarmActions"], [topic], f"{a['AlarmName']} alarm actions")
            check_eq(a["OKActions"], [topic], f"{a['AlarmName']} OK actions")
        by_metric = {a["MetricName"]: a for a in alarms}
        check_eq(by_metric["IteratorAge"]["Threshold"], 300000.0, "IteratorAge threshold (ms)")

    def test_plan_after_apply(self):
        """A second plan changes nothing but what moto cannot keep (MOTO_GAPS); the
        planned logging_config is the JSON one on the function's own log group."""
        self.need_live()
        tf = self.need_tf()
        proc = tf.run(self.live, "plan", "-input=false", "-no-color", "-detailed-exitcode",
                      "-out=again.tfplan", *self.apply_vars(), ok=False)
        check(proc.returncode in (0, 2), "plan failed:\n" + tail(proc.stdout + proc.stderr, 30))
        plan = json.loads(tf.run(self.live, "show", "-json", "again.tfplan").stdout)
        changed = {}
        for rc in plan.get("resource_changes", []):
            if rc["change"]["actions"] in (["no-op"], ["read"]):
                continue
            before, after = rc["change"]["before"] or {}, rc["change"]["after"] or {}
            keys = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
            changed[rc["address"]] = (rc["change"]["actions"], sorted(keys))
        function = "module.audit_stream.aws_lambda_function.audit_producer"
        allowed = {function: (["update"], ["logging_config"])}
        unexpected = {a: c for a, c in changed.items() if allowed.get(a) != c}
        check(not unexpected, f"drift beyond the known moto gaps: {unexpected}")
        planned = [r for r in walk_resources(plan["planned_values"]["root_module"])
                   if r["address"] == function]
        check_eq(planned[0]["values"]["logging_config"], [{
            "log_format": "JSON",
            "log_group": "/aws/lambda/" + PREFIX + "audit_producer",
            "application_log_level": "INFO",
            "system_log_level": "INFO",
        }], "planned logging_config")

    def test_update_architecture(self):
        """architecture = x86_64 plans the x86_64 zip and architecture and deploys that
        zip's code; deletion protection goes off (as README's removal steps do)."""
        self.need_live()
        tf = self.need_tf()
        tf.run(self.live, "plan", "-input=false", "-no-color", "-out=update.tfplan",
               *self.apply_vars(architecture="x86_64", deletion_protection="false"))
        plan = json.loads(tf.run(self.live, "show", "-json", "update.tfplan").stdout)
        function = [r for r in walk_resources(plan["planned_values"]["root_module"])
                    if r["type"] == "aws_lambda_function"][0]["values"]
        check_eq(function["architectures"], ["x86_64"], "planned architectures")
        check(function["filename"].endswith("/audit_producer-x86_64.zip"),
              f"planned zip {function['filename']}")
        check_eq(function["source_code_hash"], self.code_sha["x86_64"], "planned code hash")
        tf.run(self.live, "apply", "-input=false", "-no-color", "update.tfplan")
        fn = self.aws["lambda"].get_function_configuration(FunctionName=PREFIX + "audit_producer")
        check_eq(fn["CodeSha256"], self.code_sha["x86_64"], "code: the x86_64 zip")
        for name in ("Configuration", "Audit"):
            table = self.aws["dynamodb"].describe_table(TableName=PREFIX + name)["Table"]
            check_eq(table.get("DeletionProtectionEnabled"), False,
                     f"{name} deletion protection after the update")

    def test_destroy(self):
        """terraform destroy leaves none of it behind."""
        self.need_live()
        tf = self.need_tf()
        tf.run(self.live, "destroy", "-auto-approve", "-input=false", "-no-color",
               "-refresh=false", *self.apply_vars(architecture="x86_64",
                                                 deletion_protection="false"))
        self.applied = False
        left = []
        tables = self.aws["dynamodb"].list_tables()["TableNames"]
        left += [t for t in tables if t.startswith(PREFIX)]
        left += [f["FunctionName"] for f in self.aws["lambda"].list_functions()["Functions"]]
        left += [r["RoleName"] for r in self.aws["iam"].list_roles()["Roles"]
                 if r["RoleName"].startswith(PREFIX)]
        left += self.aws["sqs"].list_queues().get("QueueUrls", [])
        left += [a["AlarmName"] for a in self.aws["cloudwatch"].describe_alarms()["MetricAlarms"]]
        left += [t["TopicArn"] for t in self.aws["sns"].list_topics()["Topics"]]
        left += [g["logGroupName"] for g in self.aws["logs"].describe_log_groups()["logGroups"]]
        left += [m["UUID"] for m in
                 self.aws["lambda"].list_event_source_mappings()["EventSourceMappings"]]
        check(not left, f"left after destroy: {left}")

    def test_stayed_on_loopback(self):
        """No request of any terraform run tried to leave the machine."""
        self.need_tf()
        check(not self.proxy.requests,
              "requests sent to the trap proxy (an AWS service missing from the override's "
              f"endpoints?): {sorted(set(self.proxy.requests))}")

    TESTS = [
        "nothing_generated_in_infra", "fmt", "validate_root", "validate_module",
        "variables_documented", "moto_setup", "variable_validation", "apply", "tables",
        "function", "event_source_mapping", "failure_queue", "iam_least_privilege", "alarms",
        "plan_after_apply", "update_architecture", "destroy", "stayed_on_loopback",
    ]


def listify(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def walk_resources(module):
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from walk_resources(child)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder (copies, state, moto.log) and print it")
    parser.add_argument("tests", nargs="*", help="run only these tests (by name)")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="auditstream-infra.")
    suite = Suite(workdir)
    try:
        suite.tf = Terraform(workdir, find_mirror(), suite.proxy)
        print(f"infra: terraform {suite.tf.binary}, provider mirror {suite.tf.mirror}")
    except (SetupError, subprocess.SubprocessError, OSError) as e:
        suite.setup_error = str(e)
        print(f"infra: setup: {e}")
    for gap, why in MOTO_GAPS.items():
        print(f"infra: moto gap, validated only: {gap}: {why}")

    names = args.tests or Suite.TESTS
    passed = failed = 0
    started = time.monotonic()
    try:
        for name in names:
            test = getattr(suite, "test_" + name, None)
            t0 = time.monotonic()
            try:
                if test is None:
                    raise TestFailure(f"no test named {name}")
                test()
            except (TestFailure, SetupError) as e:
                failed += 1
                print(f"FAIL {name} ({time.monotonic() - t0:.1f}s): {e}")
            except Exception:  # an unexpected error fails the test, the run goes on
                failed += 1
                print(f"FAIL {name} ({time.monotonic() - t0:.1f}s):\n{traceback.format_exc()}")
            else:
                passed += 1
                print(f"ok   {name} ({time.monotonic() - t0:.1f}s)")
    finally:
        # Whatever a failed test left applied lives only in this moto: stopping it is
        # the cleanup.
        suite.moto.stop()
        if args.keep:
            print(f"infra: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"infra: {time.monotonic() - started:.0f}s")
    print(f"infra: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
