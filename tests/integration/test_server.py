#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""The server foundation: configuration errors, health endpoints, version, metrics, routing and
error bodies, access log, graceful shutdown."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import unittest

import sigiltest
from sigiltest import SIGIL, Sigil


class ConfigTest(unittest.TestCase):
    def run_sigil(self, args, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([SIGIL] + args, env=e, capture_output=True, text=True)

    def test_bad_settings_exit_2_with_one_line_naming_the_setting(self):
        cases = [
            (["serve", "--listen", "nowhere"], {}, "listen"),
            (["serve"], {"SIGIL_WORKERS": "many"}, "workers"),
            (["serve"], {"SIGIL_STORAGE_URL": "ftp://x"}, "storage-url"),
            (["serve"], {"SIGIL_STORAGE_URL": "file://relative/dir"}, "storage-url"),
            (["serve", "--db-pool-size=0"], {}, "db-pool-size"),
            (["serve", "--access-log=maybe"], {}, "access-log"),
            (["migrate", "--db-connect-timeout-s", "x"], {}, "db-connect-timeout-s"),
            (["serve", "--symbol-urls", "ftp://up"], {}, "symbol-urls"),
        ]
        for args, env, name in cases:
            out = self.run_sigil(args + ["--check-config"] if args[0] == "serve" else args, env)
            self.assertEqual(out.returncode, 2, (args, env, out.stderr))
            lines = out.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, out.stderr)
            self.assertIn(name, lines[0])

    def test_help_lists_every_setting_with_env_and_default(self):
        out = self.run_sigil(["serve", "--help"])
        self.assertEqual(out.returncode, 0)
        for env in ["SIGIL_LISTEN", "SIGIL_DATABASE_URL", "SIGIL_STORAGE_URL",
                    "SIGIL_S3_ACCESS_KEY", "SIGIL_S3_SECRET_KEY", "SIGIL_CACHE_DIR",
                    "SIGIL_WORKERS", "SIGIL_SYMBOL_URLS"]:
            self.assertIn(env, out.stdout)
        self.assertIn("default: 127.0.0.1:8000", out.stdout)
        top = self.run_sigil(["--help"])
        for cmd in ["serve", "migrate", "import"]:
            self.assertIn(cmd, top.stdout)

    def test_flags_override_environment_and_secrets_are_redacted(self):
        out = self.run_sigil(["serve", "--print-config", "--listen", "127.0.0.1:9"],
                             {"SIGIL_LISTEN": "127.0.0.1:8", "SIGIL_S3_SECRET_KEY": "hunter2"})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("SIGIL_LISTEN=127.0.0.1:9", out.stdout)
        self.assertNotIn("hunter2", out.stdout)

    def test_unreachable_database_fails_start(self):
        out = self.run_sigil(["serve"], {"SIGIL_DATABASE_URL": "host=127.0.0.1 port=1 dbname=x",
                                         "SIGIL_STORAGE_URL": "file:///tmp/sigil-unused"})
        self.assertEqual(out.returncode, 1)
        self.assertIn("database", out.stderr)

    def test_schema_behind_refuses_to_serve(self):
        db = sigiltest.Postgres()
        try:
            s = Sigil(db=db)
            out = s.run("serve", check=False)
            self.assertEqual(out.returncode, 1)
            self.assertIn("sigil migrate", out.stderr)
            s.env["SIGIL_MIGRATE_ON_START"] = "true"
            s.start(migrate=False)
            self.assertEqual(s.get("/__heartbeat__").status, 200)
            s.close()
        finally:
            db.drop()


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Sigil().start()

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_lbheartbeat(self):
        r = self.s.get("/__lbheartbeat__")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")

    def test_heartbeat_ok(self):
        r = self.s.get("/__heartbeat__")
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertEqual(body["status"], "ok")
        self.assertEqual(body["checks"], {"database": "ok", "storage": "ok"})

    def test_version(self):
        r = self.s.get("/__version__")
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertIn("version", body)
        self.assertRegex(body["commit"], r"^([0-9a-f]{40}|unknown)$")

    def test_metrics(self):
        self.s.get("/__lbheartbeat__")
        r = self.s.get("/metrics")
        self.assertEqual(r.status, 200)
        text = r.body.decode()
        self.assertIn('sigil_http_requests_total{route="lbheartbeat",status="200"}', text)
        self.assertIn("sigil_http_request_duration_seconds_bucket", text)
        self.assertIn("sigil_storage_calls_total", text)
        self.assertIn("sigil_db_calls_total", text)
        self.assertIn('sigil_cache_requests_total{cache="exists",result="hit"}', text)

    def test_unknown_path_is_json_404(self):
        r = self.s.get("/no/such")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json(), {"error": "Not Found", "path": "/no/such"})

    def test_method_not_allowed(self):
        r = self.s.request("PUT", "/xul.pdb/ABCDEF/xul.sym")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "GET, HEAD")
        self.assertEqual(r.json(), {"error": "Method Not Allowed (PUT): /xul.pdb/ABCDEF/xul.sym"})
        r = self.s.request("OPTIONS", "/xul.pdb/ABCDEF/xul.sym")
        self.assertEqual(r.status, 405)
        r = self.s.request("BREW", "/__lbheartbeat__")
        self.assertEqual(r.status, 405)

    def test_overlong_uri(self):
        r = self.s.get("/" + "a" * 5000 + "/ABC/a.sym")
        self.assertEqual(r.status, 414)

    def test_garbage_request_line_does_not_kill_the_server(self):
        for payload in [b"\x00\x01\x02\r\n\r\n", b"GET /\x01 HTTP/1.1\r\n\r\n",
                        b"GET " + b"/a" * 40000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                        b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"]:
            with socket.create_connection(("127.0.0.1", self.s.port), timeout=5) as c:
                c.sendall(payload)
                try:
                    c.recv(4096)
                except OSError:
                    pass
        self.assertEqual(self.s.get("/__lbheartbeat__").status, 200)

    def test_request_id_and_access_log(self):
        r = self.s.get("/__version__", headers={"X-Request-Id": "abc-123"})
        self.assertEqual(r.header("x-request-id"), "abc-123")
        deadline = time.time() + 5
        while time.time() < deadline:
            lines = [e for e in self.s.log_events("access") if e.get("request_id") == "abc-123"]
            if lines:
                break
            time.sleep(0.05)
        self.assertEqual(len(lines), 1)
        e = lines[0]
        self.assertEqual(e["method"], "GET")
        self.assertEqual(e["path"], "/__version__")
        self.assertEqual(e["status"], 200)
        self.assertIn("duration_ms", e)
        self.assertGreater(e["bytes"], 0)


class HeartbeatFailureTest(unittest.TestCase):
    def test_storage_failure_is_named(self):
        s = Sigil().start()
        try:
            shutil.rmtree(s.storage_dir)
            r = s.get("/__heartbeat__")
            self.assertEqual(r.status, 500)
            body = r.json()
            self.assertEqual(body["status"], "error")
            self.assertEqual(body["checks"]["storage"], "error")
            self.assertEqual(body["checks"]["database"], "ok")
            self.assertIn("storage", body["details"])
        finally:
            s.close()

    def test_database_failure_is_named(self):
        s = Sigil(env={"SIGIL_DB_POOL_SIZE": "1"}).start()
        try:
            admin = sigiltest.Postgres.__new__(sigiltest.Postgres)
            admin.url = s.db.url.replace("dbname=" + s.db.name, "dbname=postgres")
            admin.psql("ALTER DATABASE %s WITH ALLOW_CONNECTIONS false" % s.db.name)
            admin.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = '%s'" % s.db.name)
            r = s.get("/__heartbeat__")
            self.assertEqual(r.status, 500)
            body = r.json()
            self.assertEqual(body["checks"]["database"], "error")
            self.assertEqual(body["checks"]["storage"], "ok")
            admin.psql("ALTER DATABASE %s WITH ALLOW_CONNECTIONS true" % s.db.name)
            r = s.get("/__heartbeat__")
            self.assertEqual(r.status, 200, r.body)
        finally:
            s.close()


class ShutdownTest(unittest.TestCase):
    def test_sigterm_exits_zero_and_stops_accepting(self):
        s = Sigil().start()
        try:
            s.stop(expect_code=0)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
            events = [e["event"] for e in s.log_events()]
            self.assertIn("shutdown", events)
            self.assertIn("stopped", events)
        finally:
            s.close()

    def test_many_workers_serve_and_stop_cleanly(self):
        """Eight event loops answering at once (symbolication on the loop, heartbeats through
        the job threads' completion queues), then stopped together: each loop's sockets must be
        its own (under ThreadSanitizer a shared allocator shows as a race, and without it as
        an occasional abort at shutdown)."""
        empty = b'{"memoryMap": [], "stacks": [[]]}'
        for _ in range(3):
            s = Sigil(env={"SIGIL_WORKERS": "8"}).start()
            try:
                statuses = []

                def load():
                    for i in range(12):
                        if i % 3 == 0:
                            r = s.get("/__heartbeat__")
                        else:
                            r = s.request("POST", "/symbolicate/v5", body=empty)
                        statuses.append(r.status)
                threads = [threading.Thread(target=load) for _ in range(8)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertEqual(statuses, [200] * 96)
                s.stop(expect_code=0)
            finally:
                s.close()


class ApiSpecTest(unittest.TestCase):
    def spec_routes(self):
        path = os.path.join(sigiltest.ROOT, "api-spec", "openapi.yaml")
        routes = set()
        in_paths = False
        current = None
        with open(path) as f:
            for line in f:
                if line.rstrip() == "paths:":
                    in_paths = True
                    continue
                if in_paths and line and not line.startswith(" ") and line.strip():
                    in_paths = False
                if not in_paths:
                    continue
                if line.startswith("  /") and line.rstrip().endswith(":"):
                    current = line.strip()[:-1].strip("'\"")
                elif current and line.startswith("    ") and not line.startswith("     "):
                    word = line.strip().rstrip(":")
                    if word in ("get", "head", "post", "put", "delete", "options", "patch"):
                        routes.add("%s %s" % (word.upper(), current))
        return routes

    def test_every_route_is_in_the_spec_and_back(self):
        out = subprocess.run([SIGIL, "serve", "--list-routes"], capture_output=True, text=True,
                             check=True)
        served = set(l.strip() for l in out.stdout.splitlines() if l.strip())
        spec = self.spec_routes()
        self.assertEqual(sorted(served - spec), [], "routes missing from api-spec/openapi.yaml")
        self.assertEqual(sorted(spec - served), [], "spec paths the server does not serve")


if __name__ == "__main__":
    sigiltest.main()
