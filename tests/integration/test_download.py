#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""The download API against a real server, on both storage backends: 302 to the stored object
(and the bytes behind it), HEAD 200, misses counted, ignore rules, try storage, code-id lookup,
percent-encoding, CORS, Debug-Time, the in-process existence cache, malformed paths, the indexes
behind the code-id lookup, and a download finishing across SIGTERM."""
import gzip
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

import sigiltest
from sigiltest import Sigil, fetch_url, write_sym


def sym_text(name, debug_id, code_id=None, code_file=None, funcs=20):
    lines = ["MODULE windows x86_64 %s %s" % (debug_id, name)]
    if code_id:
        lines.append("INFO CODE_ID %s%s" % (code_id, " " + code_file if code_file else ""))
    lines.append("INFO GENERATOR sigil-tests 1.0")
    lines.append("FILE 0 c:/src/%s.cpp" % name)
    for i in range(funcs):
        lines.append("FUNC %x 10 0 function_%d(int)" % (0x1000 + i * 0x10, i))
        lines.append("%x 10 %d 0" % (0x1000 + i * 0x10, 10 + i))
    return "\n".join(lines) + "\n"


class DownloadTests:
    """Mixed into one TestCase per backend."""
    backend = "file"

    @classmethod
    def setUpClass(cls):
        cls.tag = uuid.uuid4().hex[:8].upper()
        cls.s = Sigil(backend=cls.backend,
                      env={"SIGIL_EXISTS_CACHE_NEGATIVE_TTL_S": "1",
                           "SIGIL_CODEID_CACHE_TTL_S": "600"}).start()
        cls.store = tempfile.mkdtemp(prefix="sigil-store-")
        # A Windows module stored under its debug path, with a code id.
        cls.pdb = "app%s.pdb" % cls.tag.lower()
        cls.dll = "app%s.dll" % cls.tag.lower()
        cls.debug_id = ("D57F52D4A2FD56244C4C44205044422E" + "1")
        cls.code_id = "6A4B9A36" + cls.tag[:5]
        cls.sym_name = cls.pdb[:-4] + ".sym"
        cls.text = sym_text(cls.pdb, cls.debug_id, cls.code_id, cls.dll)
        write_sym(cls.store, cls.pdb, cls.debug_id, cls.sym_name, cls.text)
        # Names that need percent-encoding in URLs.
        cls.plus = "c++filt%s" % cls.tag.lower()
        cls.plus_id = "B2E65520F14FB5332E38A5A5189839AD0"
        write_sym(cls.store, cls.plus, cls.plus_id, cls.plus + ".sym",
                  sym_text(cls.plus, cls.plus_id))
        # A non-.sym downloadable file, stored as is.
        cls.blob = os.urandom(3000)
        write_sym(cls.store, cls.dll, cls.code_id, cls.dll[:-4] + ".dl_", cls.blob)
        # A large object for the shutdown test.
        cls.big_name = "big%s.so" % cls.tag.lower()
        cls.big_id = "0123456789ABCDEF0123456789ABCDEF0"
        cls.big = os.urandom(24 << 20)
        write_sym(cls.store, cls.big_name, cls.big_id, cls.big_name + ".dbg.gz", cls.big)
        cls.s.run("import", cls.store)
        # A module only in try storage.
        cls.try_store = tempfile.mkdtemp(prefix="sigil-try-")
        cls.try_name = "try%s.so" % cls.tag.lower()
        cls.try_id = "AAAABBBBCCCCDDDDEEEEFFFF000011112"
        write_sym(cls.try_store, cls.try_name, cls.try_id, cls.try_name + ".sym",
                  sym_text(cls.try_name, cls.try_id))
        cls.s.run("import", "--try", cls.try_store)

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        shutil.rmtree(cls.store, ignore_errors=True)
        shutil.rmtree(cls.try_store, ignore_errors=True)

    def path(self):
        return "/%s/%s/%s" % (self.pdb, self.debug_id, self.sym_name)

    def follow(self, r):
        loc = r.header("location")
        self.assertIsNotNone(loc)
        if loc.startswith("/"):
            return self.s.get(loc, headers={"Accept-Encoding": "gzip"})
        return fetch_url(loc, headers={"Accept-Encoding": "gzip"})

    def test_get_redirects_to_the_original_bytes(self):
        r = self.s.get(self.path())
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.body, b"")
        obj = self.follow(r)
        self.assertEqual(obj.status, 200)
        self.assertEqual(obj.header("content-encoding"), "gzip")
        self.assertEqual(obj.header("content-type"), "text/plain")
        self.assertEqual(gzip.decompress(obj.body).decode(), self.text)

    def test_head_is_200_with_location(self):
        r = self.s.request("HEAD", self.path())
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("location"))

    def test_lowercase_id(self):
        r = self.s.get("/%s/%s/%s" % (self.pdb, self.debug_id.lower(), self.sym_name))
        self.assertEqual(r.status, 302)

    def test_cors(self):
        r = self.s.get(self.path())
        self.assertEqual(r.header("access-control-allow-origin"), "*")
        self.assertEqual(r.header("access-control-allow-methods"), "GET")

    def test_other_extensions_stored_as_is(self):
        r = self.s.get("/%s/%s/%s" % (self.dll, self.code_id, self.dll[:-4] + ".dl_"))
        self.assertEqual(r.status, 302)
        obj = self.follow(r)
        self.assertEqual(obj.status, 200)
        self.assertIsNone(obj.header("content-encoding"))
        self.assertEqual(obj.body, self.blob)

    def test_percent_encoded_names(self):
        r = self.s.get("/%s/%s/%s" % (urllib.parse.quote(self.plus), self.plus_id,
                                      urllib.parse.quote(self.plus + ".sym")))
        self.assertEqual(r.status, 302)
        self.assertIn("c%2B%2Bfilt", r.header("location"))
        self.assertEqual(self.follow(r).status, 200)

    def test_miss_is_404_and_counted(self):
        name = "missing%s.pdb" % self.tag.lower()
        path = "/%s/%s/%s?code_file=x.dll&code_id=ABC" % (name, "11" * 16 + "1",
                                                          name[:-4] + ".sym")
        for _ in range(3):
            r = self.s.get(path)
            self.assertEqual(r.status, 404)
            self.assertEqual(r.body, b"Symbol Not Found")
        deadline = time.time() + 10
        count = ""
        while time.time() < deadline:
            count = self.s.db.psql("SELECT count FROM missing_symbols WHERE debug_filename = '%s' "
                                   "AND code_file = 'x.dll' AND code_id = 'ABC'" % name)
            if count == "3":
                break
            time.sleep(0.1)
        self.assertEqual(count, "3")

    def test_ignored_requests_touch_nothing(self):
        before = self.s.metric("sigil_storage_calls_total")
        for p in ["/%s/%s/file.ptr" % (self.pdb, self.debug_id),
                  "/%s/000000000000000000000000000000000/%s" % (self.pdb, self.sym_name),
                  "/%s/%s/%s" % (self.pdb, self.debug_id, self.pdb),
                  "/%s/%s/a.dbg" % (self.pdb, self.debug_id)]:
            r = self.s.get(p, headers={"Debug": "true"})
            self.assertEqual(r.status, 404, p)
            self.assertEqual(r.body, b"Symbol Not Found (and ignored)")
            self.assertEqual(r.header("debug-time"), "0")
        self.assertEqual(self.s.metric("sigil_storage_calls_total"), before)

    def test_try_storage(self):
        path = "/%s/%s/%s" % (self.try_name, self.try_id, self.try_name + ".sym")
        self.assertEqual(self.s.get(path).status, 404)
        self.assertEqual(self.s.get(path + "?try").status, 302)
        self.assertEqual(self.s.get(path + "?try=0").status, 302)
        r = self.s.get("/try" + path)
        self.assertEqual(r.status, 302)
        self.assertEqual(self.follow(r).status, 200)
        # Regular wins over try.
        r = self.s.get("/try" + self.path())
        self.assertNotIn("/try/", r.header("location"))

    def test_code_id_redirect(self):
        path = "/%s/%s/%s" % (self.dll, self.code_id, self.sym_name)
        r = self.s.get(path + "?code_file=%s&code_id=%s" % (self.dll, self.code_id))
        self.assertEqual(r.status, 302)
        loc = r.header("location")
        self.assertEqual(urllib.parse.unquote(loc.split("?")[0]).lstrip("/"),
                         "%s/%s/%s" % (self.pdb, self.debug_id, self.sym_name))
        self.assertTrue(loc.endswith("?code_file=%s&code_id=%s" % (self.dll, self.code_id)))
        self.assertEqual(self.s.get(loc).status, 302)
        r = self.s.request("HEAD", path)
        self.assertEqual(r.status, 302)
        r = self.s.get("/try" + path)
        self.assertTrue(r.header("location").startswith("/try/"))
        # 33-character ids never go to the code-id lookup.
        r = self.s.get("/%s/%s/%s" % (self.dll, "F" * 33, self.sym_name))
        self.assertEqual(r.status, 404)

    def test_existence_cache(self):
        self.s.get(self.path())
        before = self.s.metric("sigil_storage_calls_total")
        hits = self.s.metric("sigil_cache_requests_total", 'cache="exists",result="hit"')
        for _ in range(5):
            self.assertEqual(self.s.get(self.path()).status, 302)
        self.assertEqual(self.s.metric("sigil_storage_calls_total"), before)
        self.assertEqual(self.s.metric("sigil_cache_requests_total",
                                       'cache="exists",result="hit"'), hits + 5)
        self.assertEqual(self.s.get(self.path() + "?_refresh").status, 302)
        self.assertGreater(self.s.metric("sigil_storage_calls_total"), before)

    def test_debug_time(self):
        r = self.s.get(self.path() + "?_refresh", headers={"Debug": "1"})
        self.assertRegex(r.header("debug-time") or "", r"^[0-9.]+$")
        self.assertIsNone(self.s.get(self.path()).header("debug-time"))

    def test_malformed_paths(self):
        for p in ["/x%C3%BCl.pdb/ABC/xul.sym", "/x%25l.pdb/ABC/xul.sym", "/xul.pdb/ABC/xul%23.ex_",
                  "/xul.pdb/AB%01C/xul.sym", "/xul%01.pdb/ABC/xul.sym", "/xul.pdb/XYZ/xul.sym",
                  "/%s/ABC/x.sym" % ("a" * 300), "/a/b", "/a/b/c/d/e", "//ABC/.sym",
                  "/xul.pdb/ABC/xul.sym%2F..", "/xul.pdb/ABC/%ZZ"]:
            r = self.s.get(p)
            self.assertEqual(r.status, 404, p)
            self.assertEqual(r.json()["error"], "Not Found", p)
        self.assertEqual(self.s.get("/__lbheartbeat__").status, 200)

    def test_sigterm_lets_a_download_finish(self):
        if self.backend != "file":
            self.skipTest("the large object is served by this server only with local storage")
        s = Sigil(backend="file", db=self.s.db, storage_dir=self.s.storage_dir).start(migrate=False)
        try:
            r = s.get("/%s/%s/%s" % (self.big_name, self.big_id, self.big_name + ".dbg.gz"))
            self.assertEqual(r.status, 302)
            conn = socket.create_connection(("127.0.0.1", s.port))
            conn.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % r.header("location")).encode())
            first = conn.recv(4096)  # the response has started
            self.assertIn(b"200", first.split(b"\r\n")[0])
            killer = threading.Thread(target=s.stop)
            killer.start()
            data = bytearray(first)
            conn.settimeout(30)
            while True:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
                if len(data) >= len(self.big) and data.find(b"\r\n\r\n") >= 0:
                    if len(data) - data.find(b"\r\n\r\n") - 4 >= len(self.big):
                        break
            killer.join()
            head, _, body = bytes(data).partition(b"\r\n\r\n")
            self.assertEqual(len(body), len(self.big))
            self.assertEqual(body, self.big)
        finally:
            s.proc = None
            shutil.rmtree(s.tmp, ignore_errors=True)


class FileBackendTest(DownloadTests, unittest.TestCase):
    backend = "file"


class S3BackendTest(DownloadTests, unittest.TestCase):
    backend = "s3"

    @classmethod
    def setUpClass(cls):
        if sigiltest.s3_settings() is None:
            raise unittest.SkipTest("no s3rver fixture")
        super().setUpClass()


class CodeIdIndexTest(unittest.TestCase):
    def test_lookup_uses_the_partial_indexes(self):
        db = sigiltest.Postgres()
        try:
            s = Sigil(db=db)
            s.run("migrate")
            db.psql("INSERT INTO users (email) VALUES ('x@example.com')")
            db.psql("INSERT INTO file_uploads (bucket_name, key, size, debug_filename, debug_id, "
                    "code_file, code_id) SELECT 'b', 'k' || g, 1, 'mod' || g || '.pdb', "
                    "upper(md5(g::text)) || '1', 'mod' || g || '.dll', upper(substr(md5(g::text), "
                    "1, 13)) FROM generate_series(1, 20000) g")
            db.psql("ANALYZE file_uploads")
            src = open(os.path.join(sigiltest.ROOT, "server", "db", "queries.c")).read()
            m = re.search(r'SQL_SYMINFO\[\] =\s*((?:"[^"]*"\s*)+);', src)
            sql = "".join(re.findall(r'"([^"]*)"', m.group(1)))
            sql = sql.replace("$1", "'mod77.dll'").replace("$2", "'ABC'")
            plan = db.psql("EXPLAIN " + sql)
            self.assertIn("file_uploads_debuginfo", plan)
            self.assertIn("file_uploads_codeinfo", plan)
            self.assertNotIn("Seq Scan", plan)
            s.close()
        finally:
            db.drop()


if __name__ == "__main__":
    sigiltest.main()
