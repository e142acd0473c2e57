# SPDX-License-Identifier: MPL-2.0
"""Helpers for Sigil's integration tests: real PostgreSQL databases, real storage (a local
folder or a real s3rver), and a real `sigil serve` process spoken to over HTTP. Standard library
only, because CI installs nothing but Debian and npm packages."""
import gzip
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

ROOT = os.environ.get("SIGIL_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIGIL = os.environ.get("SIGIL_BIN", os.path.join(ROOT, "build", "server", "sigil"))
PG_DIR = os.environ.get("SIGIL_TEST_PG_DIR", "")
PG_SCRIPT = os.path.join(ROOT, "deploy", "dev", "postgres.sh")
CORPUS = os.environ.get("SIGIL_CORPUS_DIR", os.path.join(ROOT, "..", "shared", "corpus"))
SKIP = 77


def corpus_path(*parts):
    """Path into the public corpus, or None when it is absent."""
    p = os.path.join(CORPUS, *parts)
    return p if os.path.exists(p) else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A fresh database in the shared test cluster; dropped by drop()."""

    def __init__(self):
        if not PG_DIR:
            raise unittest.SkipTest("SIGIL_TEST_PG_DIR is not set (run through ctest)")
        self.name = "t_" + uuid.uuid4().hex[:16]
        subprocess.run([PG_SCRIPT, "createdb", PG_DIR, self.name], check=True,
                       stdout=subprocess.DEVNULL)
        self.url = subprocess.run([PG_SCRIPT, "url", PG_DIR, self.name], check=True,
                                  capture_output=True, text=True).stdout.strip()

    def psql(self, sql):
        out = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", self.url, "-c",
                              sql], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def drop(self):
        subprocess.run([PG_SCRIPT, "dropdb", PG_DIR, self.name], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def s3_settings():
    """Environment for an S3 store on the fixture's s3rver, or None when there is none."""
    endpoint = os.environ.get("SIGIL_TEST_S3_ENDPOINT")
    bucket = os.environ.get("SIGIL_TEST_S3_BUCKET")
    if not endpoint or not bucket:
        return None
    return {
        "SIGIL_STORAGE_URL": "s3://%s?endpoint=%s&region=us-east-1" % (bucket, endpoint),
        "SIGIL_S3_ACCESS_KEY": os.environ.get("SIGIL_TEST_S3_ACCESS_KEY", "S3RVER"),
        "SIGIL_S3_SECRET_KEY": os.environ.get("SIGIL_TEST_S3_SECRET_KEY", "S3RVER"),
    }


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %d %r %r>" % (self.status, self.headers, self.body[:200])


class Sigil:
    """A running `sigil serve` with its own database and storage."""

    def __init__(self, backend="file", env=None, db=None, storage_dir=None):
        self.tmp = tempfile.mkdtemp(prefix="sigil-it-")
        self.own_db = db is None
        self.db = db or Postgres()
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "SIGIL_LISTEN": "127.0.0.1:%d" % self.port,
            "SIGIL_DATABASE_URL": self.db.url,
            "SIGIL_CACHE_DIR": os.path.join(self.tmp, "cache"),
            "SIGIL_WORKERS": "2",
            "SIGIL_MISSING_FLUSH_INTERVAL_MS": "200",
        })
        if backend == "s3":
            s3 = s3_settings()
            if s3 is None:
                raise unittest.SkipTest("no s3rver fixture (SIGIL_TEST_S3_ENDPOINT)")
            self.env.update(s3)
        else:
            self.storage_dir = storage_dir or os.path.join(self.tmp, "storage")
            self.env["SIGIL_STORAGE_URL"] = "file://" + self.storage_dir
        self.env.update(env or {})
        self.backend = backend
        self.proc = None
        self.log_path = os.path.join(self.tmp, "sigil.log")

    def run(self, *args, input=None, check=True):
        """Runs a sigil subcommand with this server's settings."""
        out = subprocess.run([SIGIL] + list(args), env=self.env, input=input,
                             capture_output=True, text=True)
        if check and out.returncode != 0:
            raise AssertionError("sigil %s failed (%d): %s%s" % (" ".join(args), out.returncode,
                                                                 out.stdout, out.stderr))
        return out

    def start(self, migrate=True):
        if migrate:
            self.run("migrate")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([SIGIL, "serve"], env=self.env, stdout=self.log,
                                     stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("sigil serve exited with %d:\n%s" %
                                     (self.proc.returncode, self.read_log()))
            try:
                if self.request("GET", "/__lbheartbeat__").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError("sigil serve did not answer:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_events(self, event=None):
        out = []
        for line in self.read_log().splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if event is None or obj.get("event") == event:
                out.append(obj)
        return out

    def stop(self, expect_code=0):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        self.log.close()
        if expect_code is not None and code != expect_code:
            raise AssertionError("sigil serve exited with %d:\n%s" % (code, self.read_log()))

    def close(self):
        try:
            self.stop()
        finally:
            if self.own_db:
                self.db.drop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def request(self, method, path, headers=None, body=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def metric(self, name, labels=""):
        """Value of one Prometheus series from /metrics (0 when absent)."""
        text = self.get("/metrics").body.decode()
        want = name + ("{%s}" % labels if labels else "")
        for line in text.splitlines():
            if line.startswith(want + " "):
                return float(line.split()[-1])
        return 0.0

    def wait_metric(self, name, labels, at_least, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.metric(name, labels) >= at_least:
                return
            time.sleep(0.05)
        raise AssertionError("%s{%s} never reached %s" % (name, labels, at_least))


def fetch_url(url, headers=None, timeout=30):
    """GET an absolute URL (no redirects followed)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def write_sym(store_dir, debug_file, debug_id, sym_name, text):
    """Writes a Breakpad-layout file for `sigil import`."""
    d = os.path.join(store_dir, debug_file, debug_id)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, sym_name), "w" if isinstance(text, str) else "wb") as f:
        f.write(text)
    return os.path.join(d, sym_name)


def gunzip_if(data, headers):
    if headers.get("content-encoding") == "gzip":
        return gzip.decompress(data)
    return data


def md5(data):
    return hashlib.md5(data).hexdigest()


def main():
    """Runs the tests of the calling module; exits 77 when every test was skipped."""
    import __main__
    names = sys.argv[1:]  # optional Class or Class.test_name filters
    if names:
        suite = unittest.defaultTestLoader.loadTestsFromNames(names, __main__)
    else:
        suite = unittest.defaultTestLoader.loadTestsFromModule(__main__)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    ran = result.testsRun
    skipped = len(result.skipped)
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed, %d skipped" % (ran - skipped - failed, failed, skipped))
    if failed:
        raise SystemExit(1)
    if ran > 0 and skipped == ran:
        raise SystemExit(SKIP)
    raise SystemExit(0)
