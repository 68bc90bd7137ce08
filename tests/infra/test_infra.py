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
import urllib.parse
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
# The Audit table's index that `auditstream` reads one item's trail through.
HISTORY_INDEX = "history"
# The redaction key test_update deploys: 32 random bytes, new each run, so that finding
# it in any output terraform printed cannot be a coincidence.
REDACT_KEY = base64.b64encode(os.urandom(32)).decode()
# The trust settings and the write API, all off in the first apply and all on in
# test_update: each names the function variable it sets and that variable's value.
TRUST_VARS = {
    "audit_actor_attribute": ("updatedBy", "AUDIT_ACTOR_ATTRIBUTE", "updatedBy"),
    "audit_retention_days": ("400", "AUDIT_RETENTION_DAYS", "400"),
    "audit_redact_attributes": ('["password","apiToken"]', "AUDIT_REDACT_ATTRIBUTES",
                                "password,apiToken"),
    "audit_redact_key": (REDACT_KEY, "AUDIT_REDACT_KEY", REDACT_KEY),
    "audit_chain": ("true", "AUDIT_CHAIN", "on"),
    "audit_write_api": ("BatchWriteItem", "AUDIT_WRITE_API", "BatchWriteItem"),
}
# What test_update changes in place, and test_destroy then destroys with.
UPDATE_VARS = {"architecture": "x86_64", "deletion_protection": "false",
               "history_index": "false", **{k: v[0] for k, v in TRUST_VARS.items()}}
# The function's environment with every setting off (the first apply's variables).
BASE_ENV = {
    "AUDIT_TABLE": PREFIX + "Audit",
    "AUDIT_FORMAT": "classic",
    "AUDIT_CONCURRENCY": "8",
    "AUDIT_IGNORE_ATTRIBUTES": "updatedAt,etag",
}

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
    "aws_dynamodb_table.attribute (after an index is deleted)": (
        "moto's UpdateTable deletes the history index but keeps its historyKey and "
        "historySort attribute definitions, which DynamoDB drops with the index; the "
        "update test checks the index gone and the planned attributes instead"
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
        """Every variable: description and type; a validation unless bool or map (or
        sensitive, checked by a precondition instead, since Terraform prints the value a
        validation block refuses); the root exposes every module input under the same
        name, type, description and sensitivity, and infra/README.md lists every root
        variable."""
        module = variable_blocks(os.path.join(INFRA, MODULE_REL, "variables.tf"))
        root = variable_blocks(os.path.join(INFRA, "variables.tf"))
        module_text = "".join(read(p) for p in glob.glob(os.path.join(INFRA, MODULE_REL, "*.tf")))
        check(len(module) >= 20, f"only {len(module)} module variables found")
        problems = []
        for name, body in module.items():
            typ = hcl_attr(body, "type")
            sensitive = hcl_attr(body, "sensitive") == "true"
            if not hcl_attr(body, "description"):
                problems.append(f"module variable {name} has no description")
            if typ is None:
                problems.append(f"module variable {name} has no type")
            elif sensitive:
                if "validation {" in body:
                    problems.append(f"sensitive variable {name} has a validation block, "
                                    "which prints a value it refuses")
                if f'error_message = "The value of {name} must' not in module_text:
                    problems.append(f"sensitive variable {name} has no precondition")
            elif not (typ == "bool" or typ.startswith("map(")) and "validation {" not in body:
                problems.append(f"module variable {name} has no validation block")
            if name not in root:
                problems.append(f"root configuration does not expose {name}")
                continue
            if hcl_attr(root[name], "type") != typ:
                problems.append(f"root variable {name} has another type than the module's")
            if (hcl_attr(root[name], "sensitive") == "true") != sensitive:
                problems.append(f"root variable {name} is not as sensitive as the module's")
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
            # The trust settings and the write API (more rounds in test_trust_validation).
            "audit_actor_attribute": " updatedBy",
            "audit_retention_days": "0",
            "audit_redact_attributes": '["password","password"]',
            "audit_write_api": "batchwriteitem",
            # history_read and history_write may be left out, not be 0.
            "provisioned_capacity": "{configuration_read=5,configuration_write=5,"
                                    "audit_read=5,audit_write=5,history_write=0}",
        }
        details = self.refused_plan(bad)
        missed = [k for k in bad if not any(f"The value of {k} must" in d for d in details)]
        check(not missed, f"no validation error for {missed}; diagnostics:\n"
              + "\n".join(details))
        # A bool's type is its validation: Terraform refuses anything else by name
        # before any validation block runs, hence a plan of its own.
        bools = {"history_index": "maybe", "create_trail_policies": "yes"}
        details = self.refused_plan(bools)
        missed = [k for k in bools if not any(
            f"var.{k} set using -var" in d and "a bool is required" in d for d in details)]
        check(not missed, f"no type error for {missed}; diagnostics:\n" + "\n".join(details))

    def refused_plan(self, values, chdir=None):
        """The diagnostics' details of a plan with these -var values, which must fail
        (in the live copy unless `chdir` says otherwise)."""
        args = [f"-var={k}={v}" for k, v in values.items()] + [f"-var=package_dir={self.dist}"]
        proc = self.need_tf().run(chdir or self.live, "plan", "-refresh=false", "-input=false",
                                  "-json", *args, ok=False)
        check(proc.returncode != 0, f"plan with invalid values succeeded: {values}")
        self.refused_output = proc.stdout + proc.stderr
        details = []
        for line in proc.stdout.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("type") == "diagnostic":
                details.append(msg["diagnostic"].get("detail", ""))
        return details

    def test_trust_validation(self):
        """Each bad value of a trust setting or of the write API is refused by name, as
        the function would refuse it at init: an actor name with blanks around it, empty
        or with a comma; more ignored names than the function reads; retention days out
        of 1..36500 or not whole; redact names empty, with a comma or blanks, repeated or
        too many; a write API by another name or case; a chain that is not a bool.
        test_variable_validation's plan of the root configuration refuses a first value
        of each; these rounds go through the module's variables.tf alone, which needs no
        provider (Terraform reports one failure per variable and plan, so each round is
        a plan)."""
        rounds = [
            {"audit_actor_attribute": "", "audit_retention_days": "36501",
             "audit_redact_attributes": '["password",""]', "audit_write_api": "TransactWriteItems"},
            {"audit_actor_attribute": "updatedBy\t", "audit_retention_days": "1.5",
             "audit_ignore_attributes": json.dumps([f"i{i}" for i in range(65)]),
             "audit_redact_attributes": '["pass,word"]', "audit_write_api": ""},
            {"audit_retention_days": "-1", "audit_actor_attribute": "updatedBy,owner",
             "audit_redact_attributes": json.dumps([f"a{i}" for i in range(65)])},
            {"audit_redact_attributes": '[" password"]'},
        ]
        alone = os.path.join(self.workdir, "variables-alone")
        os.makedirs(alone, exist_ok=True)
        shutil.copy(os.path.join(INFRA, MODULE_REL, "variables.tf"), alone)
        problems = []
        for values in rounds:
            details = self.refused_plan(values, alone)
            problems += [f"{k}={v!r}: not refused by name" for k, v in values.items()
                         if not any(f"The value of {k} must" in d for d in details)]
        # A bool's type is its validation, checked before any validation block.
        details = self.refused_plan({"audit_chain": "on"}, alone)
        if not any("var.audit_chain set using -var" in d and "a bool is required" in d
                   for d in details):
            problems.append("audit_chain=on: no type error naming it:\n" + "\n".join(details))
        check(not problems, "\n".join(problems))

    def test_trust_conflicts(self):
        """What a validation block cannot say, refused before anything is deployed, each
        failure reported in the same plan: a redaction key of 44 characters that decode
        to 31 bytes (a precondition, never a validation block, which would print it);
        the actor also redacted, or ignored (compared after trimming, as the function
        reads the list); another TTL attribute than the one retention writes. The
        refused key appears nowhere in what terraform printed."""
        check(os.path.isdir(os.path.join(self.live, ".terraform")), "needs the moto setup")
        key31 = base64.b64encode(os.urandom(31)).decode()
        check_eq((len(key31), key31.count("=")), (44, 2), "a 31-byte key's base64")
        details = self.refused_plan({
            "audit_redact_key": key31,
            "audit_actor_attribute": "updatedBy",
            "audit_redact_attributes": '["password","updatedBy"]',
            "audit_ignore_attributes": '["etag"," updatedBy "]',
            "audit_retention_days": "30", "audit_ttl_attribute": "expiry",
        })
        check(key31 not in self.refused_output, "the refused redaction key was printed")
        expected = [
            "The value of audit_redact_key must be null or standard padded base64",
            "The value of audit_actor_attribute must not also be in audit_redact_attributes",
            "The value of audit_actor_attribute must not also be in audit_ignore_attributes",
            'The value of audit_ttl_attribute must be null or "expiresAt" while '
            "audit_retention_days is set",
        ]
        missed = [e for e in expected if not any(e in " ".join(d.split()) for d in details)]
        check(not missed, f"not refused: {missed}; diagnostics:\n" + "\n".join(details))

    def test_redact_key_rule(self):
        """The function's precondition on audit_redact_key, read from function.tf and
        evaluated by `terraform console` for each shape of key, agrees with what the
        function accepts (padded standard base64 of 32 to 256 bytes): keys of 0 to 48 and
        255 to 257 random bytes, and keys refused for their form."""
        tf = self.need_tf()
        text = read(os.path.join(INFRA, MODULE_REL, "function.tf"))
        m = re.search(r"precondition \{\s*condition = (var\.audit_redact_key == null .*?)\n"
                      r"\s*error_message = \"The value of audit_redact_key must", text, re.S)
        check(m, "no precondition on audit_redact_key in function.tf")
        condition = " ".join(m.group(1).split())
        sizes = list(range(49)) + [255, 256, 257, 300]
        cases = [(base64.b64encode(os.urandom(n)).decode(), 32 <= n <= 256) for n in sizes]
        good = base64.b64encode(os.urandom(34)).decode()  # 46 characters and "=="
        cases += [
            (good.rstrip("="), False), (good[:-1], False),     # padding left out
            (base64.urlsafe_b64encode(b"\xfb\xff" * 20).decode(), False),  # - and _
            (good[:20] + "\n" + good[20:], False),             # wrapped
            (" " + good, False), (good + " ", False),
            (good[:-4] + "A=A=", False), (good[:-4] + "====", False),
            ("=" + good[1:], False),
            ("not base64 at all, but long enough for 32 bytes...", False),
        ]
        lines = [condition.replace("var.audit_redact_key", json.dumps(key)) for key, _ in cases]
        console = os.path.join(self.workdir, "console")
        os.makedirs(console, exist_ok=True)
        # Piped, the console reads its whole input as one expression: one list of them.
        proc = subprocess.run([tf.binary, f"-chdir={console}", "console"], env=tf.env,
                              input="jsonencode([" + ", ".join(lines) + "])\n",
                              capture_output=True, text=True, timeout=60)
        try:
            got = json.loads(json.loads(proc.stdout))
        except ValueError:
            got = None
        check(proc.returncode == 0 and isinstance(got, list) and len(got) == len(cases),
              f"console gave {proc.stdout[:300]!r}: {tail(proc.stderr, 10)}")
        wrong = [f"{key!r}: {'accepted' if g else 'refused'}"
                 for (key, ok), g in zip(cases, got) if g is not ok]
        check(not wrong, "the key precondition disagrees with the function:\n" + "\n".join(wrong))

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
        # The Audit table also defines the history index's two keys (test_history_index).
        for table, key, attributes in ((conf, "key", ["key"]),
                                       (audit, "id", ["historyKey", "historySort", "id"])):
            name = table["TableName"]
            check_eq(table["KeySchema"], [{"AttributeName": key, "KeyType": "HASH"}],
                     f"{name} key schema")
            check_eq(sorted((a["AttributeName"], a["AttributeType"])
                            for a in table["AttributeDefinitions"]),
                     [(a, "S") for a in attributes], f"{name} attributes")
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
        # No retention: every audit item is kept (test_update turns retention on).
        for name in ("Audit", "Configuration"):
            ttl = ddb.describe_time_to_live(TableName=PREFIX + name)["TimeToLiveDescription"]
            check_eq(ttl["TimeToLiveStatus"], "DISABLED", f"{name} TTL without retention")

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
        # Exactly these: no trust setting or write API is passed while none is set.
        check_eq(fn["Environment"]["Variables"], BASE_ENV, "environment")
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
        wildcard except the log-group ARN's ':*' for the two log-writing actions; with
        the chain off and PutItem, no BatchGetItem and no BatchWriteItem."""
        self.need_live()
        iam = self.aws["iam"]
        role = PREFIX + "audit_producer"
        trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        check_eq([(s["Effect"], s["Principal"], s["Action"]) for s in trust["Statement"]],
                 [("Allow", {"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")],
                 "trust policy")
        check_eq(iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], [],
                 "attached managed policies (AWSLambda* managed policies grant '*')")
        check_eq(sorted(self.function_grants()), sorted(self.expected_function_grants()),
                 "grants (action, resource)")

    def log_group_wildcard(self):
        """The one resource with a '*' the function's role may name."""
        return self.aws["logs"].describe_log_groups(
            logGroupNamePrefix="/aws/lambda/" + PREFIX)["logGroups"][0]["logGroupArn"] + ":*"

    def function_grants(self):
        """The (action, resource) pairs of the function role's inline policies as moto
        keeps them, after checking that none holds a wildcard, a Not* or a Condition."""
        iam = self.aws["iam"]
        role = PREFIX + "audit_producer"
        statements = []
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            if isinstance(doc, str):
                doc = json.loads(doc)
            statements += doc["Statement"]
        check(statements, "the role has no inline policy")
        return statement_grants(statements, self.log_group_wildcard())

    def expected_function_grants(self, chain=False, batch_write=False):
        audit = self.output("audit_table_arn")
        stream = self.output("configuration_stream_arn")
        expected = {
            ("dynamodb:PutItem", audit),
            ("dynamodb:DescribeStream", stream),
            ("dynamodb:GetRecords", stream),
            ("dynamodb:GetShardIterator", stream),
            ("dynamodb:ListStreams", stream),
            ("logs:CreateLogStream", self.log_group_wildcard()),
            ("logs:PutLogEvents", self.log_group_wildcard()),
            ("sqs:SendMessage", self.output("failure_queue_arn")),
        }
        if chain:  # chain heads are read; they are moved with the PutItem above
            expected.add(("dynamodb:BatchGetItem", audit))
        if batch_write:
            expected.add(("dynamodb:BatchWriteItem", audit))
        return expected

    def test_history_index(self):
        """The Audit table's history index: keys historyKey (S) and historySort (S),
        projection ALL, on by default; the outputs name it; a Query through it returns
        one key's items in historySort order and leaves out items without historyKey."""
        self.need_live()
        ddb = self.aws["dynamodb"]
        audit = ddb.describe_table(TableName=PREFIX + "Audit")["Table"]
        conf = ddb.describe_table(TableName=PREFIX + "Configuration")["Table"]
        check(not conf.get("GlobalSecondaryIndexes"), "Configuration must have no index")
        check(not audit.get("LocalSecondaryIndexes"), "Audit must have no local index")
        indexes = audit.get("GlobalSecondaryIndexes") or []
        check_eq([i["IndexName"] for i in indexes], [HISTORY_INDEX], "Audit's global indexes")
        index = indexes[0]
        check_eq(index["KeySchema"], [{"AttributeName": "historyKey", "KeyType": "HASH"},
                                      {"AttributeName": "historySort", "KeyType": "RANGE"}],
                 "history index key schema")
        check_eq(index["Projection"], {"ProjectionType": "ALL"}, "history index projection")
        check_eq(index.get("IndexStatus"), "ACTIVE", "history index status")
        check_eq(self.output("history_index_name"), HISTORY_INDEX, "output history_index_name")
        # moto's DescribeTable gives no IndexArn: the ARN is the table's, as AWS forms it.
        check_eq(self.output("history_index_arn"),
                 f"{audit['TableArn']}/index/{HISTORY_INDEX}", "output history_index_arn")

        table = PREFIX + "Audit"
        items = [("i2", "k1", "0002/u"), ("i1", "k1", "0001/u"), ("i3", "k2", "0001/u")]
        for item_id, key, sort in items:
            ddb.put_item(TableName=table, Item={"id": {"S": item_id}, "historyKey": {"S": key},
                                                "historySort": {"S": sort}})
        ddb.put_item(TableName=table, Item={"id": {"S": "head"}, "chainOf": {"S": "k1"}})
        got = ddb.query(TableName=table, IndexName=HISTORY_INDEX,
                        KeyConditionExpression="historyKey = :k",
                        ExpressionAttributeValues={":k": {"S": "k1"}})["Items"]
        check_eq([i["id"]["S"] for i in got], ["i1", "i2"], "Query history for k1")
        for item_id in ("i1", "i2", "i3", "head"):
            ddb.delete_item(TableName=table, Key={"id": {"S": item_id}})

    def trail_arns(self):
        audit = self.output("audit_table_arn")
        return {
            "audit": audit,
            "index": f"{audit}/index/{HISTORY_INDEX}",
            "conf": self.output("configuration_table_arn"),
        }

    def stored_policy(self, name):
        """The default version's document of the managed policy output <name>_policy_arn."""
        iam = self.aws["iam"]
        policy_arn = self.output(f"{name}_policy_arn")
        version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
        doc = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)
        doc = doc["PolicyVersion"]["Document"]
        return json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc

    def test_trail_policies(self):
        """The reader and backfill policies: the managed policies hold the output
        documents; exactly the intended (action, resource) pairs, no wildcard, no
        Deny/Not*/Condition; the calls each tool makes are allowed and the others
        refused (IAM's matching, evaluated here: moto cannot, see
        test_trail_policies_enforced); the function's role holds neither."""
        self.need_live()
        iam = self.aws["iam"]
        arns = self.trail_arns()
        for name, (expected, calls) in trail_expectations(arns).items():
            doc = json.loads(self.output(f"{name}_policy_json"))
            policy = iam.get_policy(PolicyArn=self.output(f"{name}_policy_arn"))["Policy"]
            check_eq(policy["PolicyName"], f"{PREFIX}audit-trail-{name}", f"{name} policy name")
            check_eq(self.stored_policy(name), doc, f"{name} managed policy vs output {name}_policy_json")
            grants, problems = policy_grants(doc)
            check(not problems, f"{name} policy:\n" + "\n".join(problems))
            check_eq(sorted(grants), sorted(expected), f"{name} grants (action, resource)")
            wrong = [f"{what}: {action} on {resource} is "
                     + ("refused" if allowed else "allowed")
                     for what, action, resource, allowed in calls
                     if iam_allows(doc["Statement"], action, resource) != allowed]
            check(not wrong, f"{name} policy:\n" + "\n".join(wrong))
        role = PREFIX + "audit_producer"
        check_eq(iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], [],
                 "policies attached to the function's role")
        for policy_arn in (self.output("reader_policy_arn"), self.output("backfill_policy_arn")):
            entities = iam.list_entities_for_policy(PolicyArn=policy_arn)
            check_eq((entities["PolicyRoles"], entities["PolicyUsers"], entities["PolicyGroups"]),
                     ([], [], []), f"{policy_arn} attached by the module")

    def test_trail_policies_enforced(self):
        """With moto's SigV4 and IAM checks on: a user holding the reader policy's actions
        Queries the index, scans and reads Audit and is refused every write; a user
        holding the backfill policy's actions scans Configuration, reads the trail,
        writes a BASELINE with a condition and is refused DeleteItem, UpdateItem and
        BatchWriteItem. moto authorizes DynamoDB against the resource "*" (it does not
        work out a table's ARN), so those users hold the documents with every Resource
        made "*"; a user holding the managed policy itself is refused even its Query,
        which this test asserts so that it notices the day moto checks resources.
        Resources are checked by test_trail_policies."""
        self.need_live()
        from botocore.exceptions import ClientError
        iam = self.aws["iam"]
        ddb = self.aws["dynamodb"]
        audit, conf = PREFIX + "Audit", PREFIX + "Configuration"
        ddb.put_item(TableName=conf, Item={"key": {"S": "CACHE_TTL_SEC"}, "value": {"N": "1"}})
        ddb.put_item(TableName=audit, Item={
            "id": {"S": "trail-1"}, "historyKey": {"S": "CACHE_TTL_SEC"},
            "historySort": {"S": "2024-05-01T12:30:45.000Z/1"}})
        keys = {}
        for name in ("reader", "backfill"):
            user = f"{PREFIX}{name}"
            iam.create_user(UserName=user)
            doc = json.loads(self.output(f"{name}_policy_json"))
            iam.put_user_policy(UserName=user, PolicyName="actions-only",
                                PolicyDocument=json.dumps(any_resource(doc)))
            keys[name] = iam.create_access_key(UserName=user)["AccessKey"]
        iam.create_user(UserName=PREFIX + "scoped")
        iam.attach_user_policy(UserName=PREFIX + "scoped",
                               PolicyArn=self.output("reader_policy_arn"))
        keys["scoped"] = iam.create_access_key(UserName=PREFIX + "scoped")["AccessKey"]

        def client(name):
            return self.boto3_session(keys[name]).client("dynamodb",
                                                          endpoint_url=self.moto.endpoint)

        def outcome(call):
            try:
                call()
                return "ok"
            except ClientError as e:
                err = e.response.get("Error", {})
                status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status == 403 and "AccessDenied" in err.get("Message", ""):
                    return "denied"
                return err.get("Code") or f"HTTP {status}"

        index_query = {"TableName": audit, "IndexName": HISTORY_INDEX,
                       "KeyConditionExpression": "historyKey = :k",
                       "ExpressionAttributeValues": {":k": {"S": "CACHE_TTL_SEC"}}}
        key = {"id": {"S": "trail-1"}}
        baseline = {"id": {"S": "baseline-1"}, "historyKey": {"S": "CACHE_TTL_SEC"},
                    "historySort": {"S": "0" * 40}}
        self.moto_auth(True)
        try:
            check_eq(outcome(lambda: client("scoped").query(**index_query)), "denied",
                     "moto refusing the scoped reader policy's own Query (if moto now checks "
                     "resources, attach the managed policies themselves below)")
            r, b = client("reader"), client("backfill")
            got = r.query(**index_query)["Items"]
            check_eq([i["id"]["S"] for i in got], ["trail-1"], "reader's Query of the index")
            results = {
                "reader Query table": outcome(lambda: r.query(
                    TableName=audit, KeyConditionExpression="id = :i",
                    ExpressionAttributeValues={":i": {"S": "trail-1"}})),
                "reader GetItem": outcome(lambda: r.get_item(TableName=audit, Key=key)),
                "reader BatchGetItem": outcome(lambda: r.batch_get_item(
                    RequestItems={audit: {"Keys": [key]}})),
                "reader DescribeTable": outcome(lambda: r.describe_table(TableName=audit)),
                "reader Scan": outcome(lambda: r.scan(TableName=audit)),
                "reader PutItem": outcome(lambda: r.put_item(TableName=audit, Item=baseline)),
                "reader DeleteItem": outcome(lambda: r.delete_item(TableName=audit, Key=key)),
                "reader UpdateItem": outcome(lambda: r.update_item(
                    TableName=audit, Key=key, UpdateExpression="SET x = :x",
                    ExpressionAttributeValues={":x": {"S": "x"}})),
                "reader BatchWriteItem": outcome(lambda: r.batch_write_item(
                    RequestItems={audit: [{"DeleteRequest": {"Key": key}}]})),
                "backfill DescribeTable Configuration": outcome(
                    lambda: b.describe_table(TableName=conf)),
                "backfill Scan Configuration segment": outcome(lambda: b.scan(
                    TableName=conf, Segment=0, TotalSegments=1)),
                "backfill DescribeTable Audit": outcome(lambda: b.describe_table(TableName=audit)),
                "backfill Query index": outcome(lambda: b.query(**index_query)),
                "backfill GetItem": outcome(lambda: b.get_item(TableName=audit, Key=key)),
                "backfill BatchGetItem": outcome(lambda: b.batch_get_item(
                    RequestItems={audit: {"Keys": [key]}})),
                "backfill PutItem new": outcome(lambda: b.put_item(
                    TableName=audit, Item=baseline,
                    ConditionExpression="attribute_not_exists(id)")),
                "backfill PutItem again": outcome(lambda: b.put_item(
                    TableName=audit, Item=baseline,
                    ConditionExpression="attribute_not_exists(id)")),
                "backfill DeleteItem": outcome(lambda: b.delete_item(TableName=audit, Key=key)),
                "backfill UpdateItem": outcome(lambda: b.update_item(
                    TableName=audit, Key=key, UpdateExpression="SET x = :x",
                    ExpressionAttributeValues={":x": {"S": "x"}})),
                "backfill BatchWriteItem": outcome(lambda: b.batch_write_item(
                    RequestItems={audit: [{"DeleteRequest": {"Key": key}}]})),
                "backfill DeleteItem Configuration": outcome(lambda: b.delete_item(
                    TableName=conf, Key={"key": {"S": "CACHE_TTL_SEC"}})),
            }
        finally:
            self.moto_auth(False)
            # The managed policy must be free to go at destroy, as in AWS.
            for name in ("reader", "backfill", "scoped"):
                try:
                    delete_user(iam, PREFIX + name)
                except ClientError:
                    pass  # never made: test_destroy lists any user left
        expected = {name: "denied" if name.split()[1] in (
            "PutItem", "DeleteItem", "UpdateItem", "BatchWriteItem") else "ok"
            for name in results}
        expected.update({"backfill PutItem new": "ok",
                         "backfill PutItem again": "ConditionalCheckFailedException",
                         # The chain is off: backfill reads no chain head. moto sees
                         # the GetItem it holds on Configuration as one on "*", so only
                         # BatchGetItem is refused here (test_trail_policies checks both).
                         "backfill BatchGetItem": "denied"})
        wrong = [f"{call}: expected {expected[call]}, got {got}"
                 for call, got in results.items() if got != expected[call]]
        check(not wrong, "outcomes with IAM enforced:\n" + "\n".join(wrong))
        # Nothing the denied calls aimed at changed.
        check_eq(ddb.get_item(TableName=audit, Key=key)["Item"].get("x"), None,
                 "trail-1 after the refused UpdateItem")
        check(ddb.get_item(TableName=conf, Key={"key": {"S": "CACHE_TTL_SEC"}}).get("Item"),
              "Configuration item after the refused DeleteItem")

    def boto3_session(self, key):
        import boto3
        return boto3.session.Session(aws_access_key_id=key["AccessKeyId"],
                                     aws_secret_access_key=key["SecretAccessKey"],
                                     region_name=REGION)

    def moto_auth(self, on):
        """moto's SigV4 and IAM checks for every request from now on, or for none."""
        req = urllib.request.Request(self.moto.endpoint + "/moto-api/reset-auth",
                                     data=b"0" if on else b"inf",
                                     headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        check(resp.status == 200 and b'"ok"' in body, f"reset-auth answered {body[:200]!r}")

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

    def planned(self, name, **variables):
        """A plan (no refresh) of the live copy with these variables: its JSON."""
        tf = self.need_tf()
        tf.run(self.live, "plan", "-refresh=false", "-input=false", "-no-color",
               f"-out={name}.tfplan", *self.apply_vars(**variables))
        return json.loads(tf.run(self.live, "show", "-json", f"{name}.tfplan").stdout)

    def test_plan_provisioned(self):
        """billing_mode = PROVISIONED gives the index its own capacity: history_read as
        set, history_write left out and so the table's audit_write. In the same plan,
        audit_ttl_attribute without retention turns TTL on for that attribute."""
        self.need_live()
        capacity = ("{configuration_read=2,configuration_write=3,audit_read=4,"
                    "audit_write=6,history_read=7}")
        plan = self.planned("provisioned", billing_mode="PROVISIONED",
                            provisioned_capacity=capacity, audit_ttl_attribute="stampedAt")
        audit = planned_resource(plan, "aws_dynamodb_table", "audit")
        check_eq(audit["ttl"], [{"enabled": True, "attribute_name": "stampedAt"}],
                 "planned Audit TTL with audit_ttl_attribute and no retention")
        check_eq((audit["billing_mode"], audit["read_capacity"], audit["write_capacity"]),
                 ("PROVISIONED", 4, 6), "planned Audit capacity")
        index = audit["global_secondary_index"]
        check_eq([(i["name"], i["hash_key"], i["range_key"], i["projection_type"],
                   i["read_capacity"], i["write_capacity"]) for i in index],
                 [(HISTORY_INDEX, "historyKey", "historySort", "ALL", 7, 6)],
                 "planned history index")
        conf = planned_resource(plan, "aws_dynamodb_table", "configuration")
        check_eq((conf["read_capacity"], conf["write_capacity"]), (2, 3),
                 "planned Configuration capacity")

    def test_plan_settings_apart(self):
        """Each setting grants only what it needs, on its own: the chain on with PutItem
        adds BatchGetItem for the function and for backfill, and no BatchWriteItem;
        BatchWriteItem with the chain off adds BatchWriteItem alone.
        Settings given as their defaults ("off", PutItem) are passed as given, and
        leave the Audit table alone (no TTL)."""
        self.need_live()
        cases = [
            ({"audit_chain": "true", "audit_write_api": "PutItem"},
             {"AUDIT_CHAIN": "on", "AUDIT_WRITE_API": "PutItem"}, True, False),
            ({"audit_chain": "false", "audit_write_api": "BatchWriteItem"},
             {"AUDIT_CHAIN": "off", "AUDIT_WRITE_API": "BatchWriteItem"}, False, True),
        ]
        for variables, env, chain, batch_write in cases:
            what = ", ".join(f"{k}={v}" for k, v in variables.items())
            plan = self.planned("apart", **variables)
            function = planned_resource(plan, "aws_lambda_function", "audit_producer")
            check_eq(function["environment"][0]["variables"], dict(BASE_ENV, **env),
                     f"planned environment with {what}")
            # Also what keeps the policies known at plan: a change pending on the table
            # would defer reading their documents to apply.
            check_eq(resource_change(plan, "aws_dynamodb_table", "audit")["actions"], ["no-op"],
                     f"planned Audit table change with {what}")
            role_policy = planned_resource(plan, "aws_iam_role_policy", "function")["policy"]
            check(isinstance(role_policy, str), f"role policy not known at plan with {what}")
            grants = statement_grants(json.loads(role_policy)["Statement"],
                                      self.log_group_wildcard())
            check_eq(sorted(grants), sorted(self.expected_function_grants(chain, batch_write)),
                     f"planned function grants with {what}")
            backfill = json.loads(planned_resource(plan, "aws_iam_policy", "backfill")["policy"])
            grants, problems = policy_grants(backfill)
            check(not problems, f"backfill policy with {what}:\n" + "\n".join(problems))
            expected, _ = trail_expectations(self.trail_arns(), chain=chain)["backfill"]
            check_eq(sorted(grants), sorted(expected), f"planned backfill grants with {what}")

    def test_update(self):
        """An update in place: architecture = x86_64 plans the x86_64 zip and architecture
        and deploys that zip's code; history_index = false removes the index and its key
        attributes from the Audit table (kept, not replaced), nulls the outputs and takes
        the index out of both policies; deletion protection goes off (as README's removal
        steps do). Every trust setting and BatchWriteItem go on: TTL on expiresAt, each
        variable in the function's environment, BatchGetItem and BatchWriteItem on Audit
        for the function and BatchGetItem for backfill, and the redaction key
        marked sensitive in the plan and in no text terraform prints."""
        self.need_live()
        tf = self.need_tf()
        printed = []  # everything terraform wrote while it held the key
        proc = tf.run(self.live, "plan", "-input=false", "-no-color", "-out=update.tfplan",
                      *self.apply_vars(**UPDATE_VARS))
        printed.append(("plan", proc.stdout + proc.stderr))
        proc = tf.run(self.live, "show", "-no-color", "update.tfplan")
        printed.append(("show", proc.stdout + proc.stderr))
        plan = json.loads(tf.run(self.live, "show", "-json", "update.tfplan").stdout)
        function = planned_resource(plan, "aws_lambda_function", "audit_producer")
        check_eq(function["architectures"], ["x86_64"], "planned architectures")
        check(function["filename"].endswith("/audit_producer-x86_64.zip"),
              f"planned zip {function['filename']}")
        check_eq(function["source_code_hash"], self.code_sha["x86_64"], "planned code hash")
        change = resource_change(plan, "aws_lambda_function", "audit_producer")
        check_eq(change["after_sensitive"]["environment"][0]["variables"],
                 {"AUDIT_REDACT_KEY": True}, "planned environment's sensitive values")
        # The plan's text names the other settings, so hiding the key hid no more than it.
        check("AUDIT_CHAIN" in printed[0][1] and "(sensitive value)" in printed[0][1],
              "the plan's text shows neither the settings nor a sensitive value:\n"
              + tail(printed[0][1], 40))
        audit = planned_resource(plan, "aws_dynamodb_table", "audit")
        check_eq((audit["global_secondary_index"], [a["name"] for a in audit["attribute"]]),
                 ([], ["id"]), "planned Audit indexes and attributes without the index")
        check_eq(audit["ttl"], [{"enabled": True, "attribute_name": "expiresAt"}],
                 "planned Audit TTL with retention")
        actions = {rc["address"]: rc["change"]["actions"] for rc in plan["resource_changes"]}
        check_eq(actions["module.audit_stream.aws_dynamodb_table.audit"], ["update"],
                 "Audit table change without the index (never a replacement)")
        proc = tf.run(self.live, "apply", "-input=false", "-no-color", "update.tfplan")
        printed.append(("apply", proc.stdout + proc.stderr))
        proc = tf.run(self.live, "output", "-no-color")
        printed.append(("output", proc.stdout + proc.stderr))
        proc = tf.run(self.live, "output", "-json", "-no-color")
        printed.append(("output -json", proc.stdout + proc.stderr))
        self.outputs = json.loads(proc.stdout)
        leaked = [what for what, text in printed if REDACT_KEY in text]
        check(not leaked, f"the redaction key in clear text in terraform's {leaked}")

        fn = self.aws["lambda"].get_function_configuration(FunctionName=PREFIX + "audit_producer")
        check_eq(fn["CodeSha256"], self.code_sha["x86_64"], "code: the x86_64 zip")
        check_eq(fn["Environment"]["Variables"],
                 dict(BASE_ENV, **{env: value for _, env, value in TRUST_VARS.values()}),
                 "environment with every setting")
        ddb = self.aws["dynamodb"]
        ttl = ddb.describe_time_to_live(TableName=PREFIX + "Audit")["TimeToLiveDescription"]
        check_eq((ttl["TimeToLiveStatus"], ttl.get("AttributeName")), ("ENABLED", "expiresAt"),
                 "Audit TTL with retention")
        for name in ("Configuration", "Audit"):
            table = ddb.describe_table(TableName=PREFIX + name)["Table"]
            check_eq(table.get("DeletionProtectionEnabled"), False,
                     f"{name} deletion protection after the update")
        audit = ddb.describe_table(TableName=PREFIX + "Audit")["Table"]
        check_eq(audit.get("GlobalSecondaryIndexes", []), [], "Audit's indexes, turned off")
        check_eq(sorted(self.function_grants()),
                 sorted(self.expected_function_grants(chain=True, batch_write=True)),
                 "function grants with the chain and BatchWriteItem")
        for name in ("history_index_name", "history_index_arn"):
            # `terraform output -json` leaves a null output out.
            check_eq(self.outputs.get(name, {}).get("value"), None,
                     f"output {name} without the index")
        for name, (expected, calls) in trail_expectations(self.trail_arns(), chain=True).items():
            stored = self.stored_policy(name)
            check_eq(stored, json.loads(self.output(f"{name}_policy_json")),
                     f"{name} managed policy vs output, without the index")
            grants, problems = policy_grants(stored)
            check(not problems, f"{name} policy:\n" + "\n".join(problems))
            check_eq(sorted(grants), sorted(g for g in expected if "/index/" not in g[1]),
                     f"{name} grants without the index, with the chain")
            wrong = [f"{what}: {action} on {resource} is " + ("refused" if allowed else "allowed")
                     for what, action, resource, allowed in calls if "/index/" not in resource
                     and iam_allows(stored["Statement"], action, resource) != allowed]
            check(not wrong, f"{name} policy with the chain:\n" + "\n".join(wrong))

    def test_destroy(self):
        """terraform destroy leaves none of it behind."""
        self.need_live()
        tf = self.need_tf()
        tf.run(self.live, "destroy", "-auto-approve", "-input=false", "-no-color",
               "-refresh=false", *self.apply_vars(**UPDATE_VARS))
        self.applied = False
        left = []
        tables = self.aws["dynamodb"].list_tables()["TableNames"]
        left += [t for t in tables if t.startswith(PREFIX)]
        left += [f["FunctionName"] for f in self.aws["lambda"].list_functions()["Functions"]]
        left += [r["RoleName"] for r in self.aws["iam"].list_roles()["Roles"]
                 if r["RoleName"].startswith(PREFIX)]
        left += [p["Arn"] for p in self.aws["iam"].list_policies(Scope="Local")["Policies"]]
        left += [u["UserName"] for u in self.aws["iam"].list_users()["Users"]]
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
        "variables_documented", "redact_key_rule", "moto_setup", "variable_validation",
        "trust_validation", "trust_conflicts", "apply", "tables",
        "history_index", "function", "event_source_mapping", "failure_queue",
        "iam_least_privilege", "trail_policies", "trail_policies_enforced", "alarms",
        "plan_after_apply", "plan_provisioned", "plan_settings_apart", "update", "destroy",
        "stayed_on_loopback",
    ]


# ---- the trail's IAM policies ------------------------------------------------------------


def trail_expectations(arns, chain=False):
    """{policy: (its exact (action, resource) grants, [(what, action, resource, allowed)])}:
    the calls `auditstream` makes, which each policy must allow, and calls it must refuse.
    `chain`: audit_chain is on, so backfill reads chain heads too."""
    audit, index, conf = arns["audit"], arns["index"], arns["conf"]
    other = audit.replace(f":table/{PREFIX}Audit", ":table/Elsewhere")
    reader_grants = {(f"dynamodb:{a}", audit) for a in
                     ("BatchGetItem", "DescribeTable", "GetItem", "Query", "Scan")}
    reader_grants.add(("dynamodb:Query", index))
    backfill_grants = {
        ("dynamodb:DescribeTable", conf), ("dynamodb:GetItem", conf), ("dynamodb:Scan", conf),
        ("dynamodb:DescribeTable", audit), ("dynamodb:Query", index),
        ("dynamodb:PutItem", audit),
    }
    if chain:  # chain heads, read by the function's own chain code: BatchGetItem only
        backfill_grants.add(("dynamodb:BatchGetItem", audit))
    writes = ("PutItem", "DeleteItem", "UpdateItem", "BatchWriteItem")
    reader_calls = [
        ("history/show: Query the index", "dynamodb:Query", index, True),
        ("verify --all: Scan Audit", "dynamodb:Scan", audit, True),
        ("chain head: GetItem", "dynamodb:GetItem", audit, True),
        ("chain heads: BatchGetItem", "dynamodb:BatchGetItem", audit, True),
        ("index check: DescribeTable", "dynamodb:DescribeTable", audit, True),
        ("Scan the index", "dynamodb:Scan", index, False),
        ("Query another index", "dynamodb:Query", f"{audit}/index/other", False),
        ("Scan Configuration", "dynamodb:Scan", conf, False),
        ("GetItem Configuration", "dynamodb:GetItem", conf, False),
        ("Scan another table", "dynamodb:Scan", other, False),
        ("read Audit's stream", "dynamodb:GetRecords", f"{audit}/stream/x", False),
        ("the actions in other case", "DYNAMODB:PUTITEM", audit, False),
    ] + [(f"write Audit: {w}", f"dynamodb:{w}", audit, False) for w in writes] + [
        (f"write Configuration: {w}", f"dynamodb:{w}", conf, False) for w in writes]
    backfill_calls = [
        ("key schema: DescribeTable Configuration", "dynamodb:DescribeTable", conf, True),
        ("Scan Configuration", "dynamodb:Scan", conf, True),
        ("read an item again: GetItem Configuration", "dynamodb:GetItem", conf, True),
        ("DescribeTable Audit", "dynamodb:DescribeTable", audit, True),
        ("replay: Query the index", "dynamodb:Query", index, True),
        ("chain heads: BatchGetItem", "dynamodb:BatchGetItem", audit, chain),
        ("BASELINE: PutItem Audit", "dynamodb:PutItem", audit, True),
        ("GetItem Audit (no call reads one item)", "dynamodb:GetItem", audit, False),
        ("Scan Audit", "dynamodb:Scan", audit, False),
        ("Query Audit by id", "dynamodb:Query", audit, False),
        ("Scan another table", "dynamodb:Scan", other, False),
        ("PutItem another table", "dynamodb:PutItem", other, False),
        ("Query Configuration", "dynamodb:Query", conf, False),
        ("write Audit: DeleteItem", "dynamodb:DeleteItem", audit, False),
        ("write Audit: UpdateItem", "dynamodb:UpdateItem", audit, False),
        ("write Audit: BatchWriteItem (deletes too)", "dynamodb:BatchWriteItem", audit, False),
        ("drop Audit", "dynamodb:DeleteTable", audit, False),
    ] + [(f"write Configuration: {w}", f"dynamodb:{w}", conf, False) for w in writes]
    return {"reader": (reader_grants, reader_calls),
            "backfill": (backfill_grants, backfill_calls)}


def statement_grants(statements, allowed_wildcard):
    """The (action, resource) pairs of an execution role's statements; fails on a
    wildcard (but the log group's ':*' for the two log-writing actions), a deny, a Not*
    or a Condition."""
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
    return grants


def policy_grants(doc):
    """The (action, resource) pairs a policy allows, and what it must not hold."""
    problems = []
    if doc.get("Version") != "2012-10-17":
        problems.append(f"Version {doc.get('Version')!r}")
    grants = set()
    for st in listify(doc.get("Statement")):
        for forbidden in ("NotAction", "NotResource", "Principal", "NotPrincipal", "Condition"):
            if forbidden in st:
                problems.append(f"statement {st.get('Sid')} uses {forbidden}")
        if st.get("Effect") != "Allow":
            problems.append(f"statement {st.get('Sid')} is not an Allow")
        actions, resources = listify(st.get("Action")), listify(st.get("Resource"))
        problems += [f"wildcard action {a!r}" for a in actions if "*" in a or "?" in a]
        problems += [f"wildcard resource {r!r}" for r in resources if "*" in r or "?" in r]
        if not actions or not resources:
            problems.append(f"statement {st.get('Sid')} names no action or no resource")
        grants |= {(a, r) for a in actions for r in resources}
    return grants, problems


def iam_glob(pattern, value, fold):
    """IAM's matching: '*' any run of characters, '?' one; actions ignore case."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.S | (re.I if fold else 0)) is not None


def iam_allows(statements, action, resource):
    """Whether identity-policy statements allow the action on the resource: an explicit
    Deny wins, then any Allow; otherwise the implicit deny."""
    allowed = False
    for st in statements:
        if "NotAction" in st or "NotResource" in st or "Condition" in st:
            raise TestFailure(f"statement {st.get('Sid')}: this evaluator reads no Not*/Condition")
        if (any(iam_glob(a, action, True) for a in listify(st.get("Action")))
                and any(iam_glob(r, resource, False) for r in listify(st.get("Resource")))):
            if st.get("Effect") == "Deny":
                return False
            allowed = allowed or st.get("Effect") == "Allow"
    return allowed


def delete_user(iam, user):
    """An IAM user the tests made, with its keys and policies."""
    for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
        iam.delete_user_policy(UserName=user, PolicyName=name)
    for policy in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=user, PolicyArn=policy["PolicyArn"])
    iam.delete_user(UserName=user)


def any_resource(doc):
    """The policy with every Resource made "*": what moto can enforce for DynamoDB."""
    return {"Version": doc["Version"],
            "Statement": [dict(st, Resource="*") for st in doc["Statement"]]}


def listify(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def resource_change(plan, rtype, name):
    """The planned change of one resource of the module (before, after, *_sensitive)."""
    found = [rc["change"] for rc in plan["resource_changes"]
             if rc["type"] == rtype and rc["name"] == name]
    check(len(found) == 1, f"{len(found)} changes of {rtype}.{name}")
    return found[0]


def planned_resource(plan, rtype, name):
    """The planned values of one resource of the module."""
    found = [r["values"] for r in walk_resources(plan["planned_values"]["root_module"])
             if r["type"] == rtype and r["name"] == name]
    check(len(found) == 1, f"{len(found)} planned {rtype}.{name}")
    return found[0]


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
