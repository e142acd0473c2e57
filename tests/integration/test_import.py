#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""`sigil import DIR`: a Breakpad store into storage and PostgreSQL, on the local-folder backend
and on S3 (s3rver): stored attributes, rows with the .sym header fields, skipping on re-import,
the code-id lookup of imported files, downloads through the 302, try storage, failures, and a
re-import completing the rows of objects stored by a run that died."""
import gzip
import os
import shutil
import tempfile
import time
import unittest
import urllib.parse
import uuid

import sigiltest
from sigiltest import Sigil, corpus_path, md5, write_sym

WIN_SYM = (
    "MODULE windows x86_64 0123456789ABCDEF0123456789ABCDEF1 winapp.pdb\n"
    "INFO CODE_ID 5F3A1B2C9000 winapp.exe\n"
    "INFO GENERATOR mozilla/dump_syms 2.3.7\n"
    "FILE 0 c:\\src\\main.cpp\n"
    "FUNC 1000 20 0 main\n"
    "1000 20 10 0\n"
    "PUBLIC 2000 0 helper\n")
LINUX_SYM = (
    "MODULE Linux x86_64 ABCDEF0123456789ABCDEF01234567890 liblinux.so\n"
    "INFO CODE_ID 0123456789ABCDEF0123456789ABCDEF01234567\n"
    "FILE 0 /src/lib.c\n"
    "FUNC 400 10 0 lib_function\n") + "".join(
        "PUBLIC %x 0 filler_%d\n" % (0x1000 + i * 16, i) for i in range(500))
BAD_HEADER_SYM = "MODULE Linux x86_64 ONLYTHREE\nFUNC 0 1 0 f\n"
DLL_BYTES = b"MSCF\0\0\0\0" + bytes(range(256)) * 8


def make_store(root):
    write_sym(root, "winapp.pdb", "0123456789ABCDEF0123456789ABCDEF1", "winapp.sym", WIN_SYM)
    # a lower-case debug id in the folder name: stored upper-cased, so downloads reach it
    write_sym(root, "liblinux.so", "abcdef0123456789abcdef01234567890", "liblinux.so.sym",
              LINUX_SYM)
    write_sym(root, "winapp.dll", "5F3A1B2C9000", "winapp.dl_", DLL_BYTES)
    write_sym(root, "broken.so", "1111111111111111111111111111111111", "broken.so.sym",
              BAD_HEADER_SYM)
    write_sym(root, "winapp.pdb", "0123456789ABCDEF0123456789ABCDEF1", "notes.txt", "not a symbol")
    with open(os.path.join(root, "README"), "w") as f:
        f.write("top-level files are not part of the store\n")


def unique_prefix(backend):
    """S3 tests share one bucket: give each server a key prefix of its own."""
    s3 = sigiltest.s3_settings() if backend == "s3" else None
    if s3 is None:
        return {}
    url = s3["SIGIL_STORAGE_URL"]
    bucket, _, query = url[len("s3://"):].partition("?")
    return {"SIGIL_STORAGE_URL": "s3://%s/t%s?%s" % (bucket, uuid.uuid4().hex[:12], query)}


def follow(s, path):
    """GET path on the server, follow redirects (relative ones on the server, absolute ones to
    storage), return (final response, decoded body)."""
    r = s.get(path)
    for _ in range(5):
        if r.status not in (301, 302):
            break
        loc = r.header("location")
        if loc.startswith("/"):
            r = s.get(loc)
        else:
            r = sigiltest.fetch_url(loc, headers={"Accept-Encoding": "gzip"})
    return r, sigiltest.gunzip_if(r.body, r.headers)


class ImportTests:
    backend = "file"

    def setUp(self):
        self.s = Sigil(backend=self.backend, env=unique_prefix(self.backend))
        self.s.start()
        self.store = tempfile.mkdtemp(prefix="sigil-import-src-")
        make_store(self.store)

    def tearDown(self):
        shutil.rmtree(self.store, ignore_errors=True)
        self.s.close()

    def sql(self, q):
        return self.s.db.psql(q)

    def test_import_then_reimport_skips_everything(self):
        out = self.s.run("import", self.store)
        self.assertIn("imported 4, skipped 0, failed 0", out.stdout)
        self.assertIn("ignored): 1", out.stdout)
        rows = self.sql("SELECT key, compressed, update, coalesce(debug_filename, '<null>'), "
                        "coalesce(debug_id, '<null>'), coalesce(code_file, '<null>'), "
                        "coalesce(code_id, '<null>'), coalesce(generator, '<null>') "
                        "FROM file_uploads ORDER BY key").splitlines()
        self.assertEqual(rows, [
            "broken.so/1111111111111111111111111111111111/broken.so.sym|t|f|<null>|<null>|<null>|"
            "<null>|<null>",
            "liblinux.so/ABCDEF0123456789ABCDEF01234567890/liblinux.so.sym|t|f|liblinux.so|"
            "ABCDEF0123456789ABCDEF01234567890||0123456789ABCDEF0123456789ABCDEF01234567|",
            "winapp.dll/5F3A1B2C9000/winapp.dl_|f|f|<null>|<null>|<null>|<null>|<null>",
            "winapp.pdb/0123456789ABCDEF0123456789ABCDEF1/winapp.sym|t|f|winapp.pdb|"
            "0123456789ABCDEF0123456789ABCDEF1|winapp.exe|5F3A1B2C9000|mozilla/dump_syms 2.3.7",
        ])
        up = self.sql("SELECT u.filename, us.email, u.try_symbols, u.completed_at IS NOT NULL, "
                      "u.skipped_keys IS NULL FROM uploads u JOIN users us ON us.id = u.user_id")
        self.assertEqual(up, "%s|import@localhost|f|t|t" % os.path.basename(self.store))

        again = self.s.run("import", self.store)
        self.assertIn("imported 0, skipped 4, failed 0", again.stdout)
        self.assertEqual(self.sql("SELECT count(*) FROM file_uploads"), "4")
        skipped = self.sql("SELECT array_length(skipped_keys, 1) FROM uploads ORDER BY id DESC "
                           "LIMIT 1")
        self.assertEqual(skipped, "4")

    def test_downloads_and_code_id_lookup_of_imported_files(self):
        self.s.run("import", self.store)
        # the debug path, through the 302, gives the original bytes (curl -L --compressed)
        r, body = follow(self.s, "/winapp.pdb/0123456789ABCDEF0123456789ABCDEF1/winapp.sym")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-encoding"), "gzip")
        self.assertEqual(body.decode(), WIN_SYM)
        # lower-case id in the request, upper-cased by the route
        r, body = follow(self.s, "/liblinux.so/abcdef0123456789abcdef01234567890/liblinux.so.sym")
        self.assertEqual(body.decode(), LINUX_SYM)
        r, body = follow(self.s, "/winapp.dll/5F3A1B2C9000/winapp.dl_")
        self.assertEqual(body, DLL_BYTES)
        self.assertNotEqual(r.header("content-encoding"), "gzip")
        # code-id lookup: a relative 302 to the debug file's path
        r = self.s.get("/winapp.exe/5F3A1B2C9000/winapp.sym")
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.header("location"),
                         "/winapp.pdb/0123456789ABCDEF0123456789ABCDEF1/winapp.sym")
        r, body = follow(self.s, "/winapp.exe/5F3A1B2C9000/winapp.sym")
        self.assertEqual(body.decode(), WIN_SYM)

    def test_stored_attributes(self):
        self.s.run("import", self.store)
        loc = self.s.get("/winapp.pdb/0123456789ABCDEF0123456789ABCDEF1/winapp.sym")
        self.assertEqual(loc.status, 302)
        target = loc.header("location")
        if target.startswith("/") or target.startswith("http://127.0.0.1:%d/" % self.s.port):
            r = self.s.get(urllib.parse.urlsplit(target).path)
        else:
            r = sigiltest.fetch_url(target)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-encoding"), "gzip")
        self.assertTrue(r.header("content-type").startswith("text/plain"), r.headers)
        self.assertEqual(r.header("cache-control"), "no-transform")
        self.assertEqual(gzip.decompress(r.body).decode(), WIN_SYM)
        if self.backend == "s3":
            self.assertEqual(r.header("x-amz-meta-original_size"), str(len(WIN_SYM)))
            self.assertEqual(r.header("x-amz-meta-original_md5_hash"), md5(WIN_SYM.encode()))

    def test_try_import_and_user(self):
        out = self.s.run("import", "--try", "--user", "ci@example.com", self.store)
        self.assertIn("imported 4", out.stdout)
        path = "/winapp.pdb/0123456789ABCDEF0123456789ABCDEF1/winapp.sym"
        self.assertEqual(self.s.get(path).status, 404)
        self.assertEqual(self.s.get(path + "?try").status, 302)
        self.assertEqual(self.s.get("/try" + path).status, 302)
        self.assertEqual(self.sql("SELECT DISTINCT try_symbols FROM file_uploads"), "t")
        self.assertEqual(self.sql("SELECT us.email, u.try_symbols FROM uploads u "
                                  "JOIN users us ON us.id = u.user_id"), "ci@example.com|t")
        # regular storage is separate: the same files import again, into v1/
        out = self.s.run("import", self.store)
        self.assertIn("imported 4, skipped 0", out.stdout)
        self.assertEqual(self.s.get(path + "?_refresh").status, 302)

    def test_failures_are_counted_and_leave_the_upload_incomplete(self):
        write_sym(self.store, "bad%name.pdb", "0123456789ABCDEF0123456789ABCDEF1", "bad.sym",
                  WIN_SYM)
        out = self.s.run("import", self.store, check=False)
        self.assertEqual(out.returncode, 1, out)
        self.assertIn("imported 4, skipped 0, failed 1", out.stdout)
        self.assertIn("bad%name.pdb", out.stderr)
        self.assertIn("Unrecognized file pattern", out.stderr)
        self.assertEqual(self.sql("SELECT completed_at IS NULL FROM uploads"), "t")

    def test_reimport_completes_rows_of_objects_stored_without_them(self):
        if self.backend != "file":
            self.skipTest("needs objects older than a minute (mtime set on the local folder)")
        self.s.run("import", self.store)
        # a run that died after storing the objects and before recording them, a while ago
        self.sql("DELETE FROM file_uploads")
        old = time.time() - 3600
        for dirpath, _, files in os.walk(self.s.storage_dir):
            for f in files:
                os.utime(os.path.join(dirpath, f), (old, old))
        out = self.s.run("import", self.store)
        self.assertIn("imported 0, skipped 4, failed 0", out.stdout)
        # .sym files with header fields get their rows back; other files need none
        keys = self.sql("SELECT key FROM file_uploads ORDER BY key").splitlines()
        self.assertEqual(keys, [
            "liblinux.so/ABCDEF0123456789ABCDEF01234567890/liblinux.so.sym",
            "winapp.pdb/0123456789ABCDEF0123456789ABCDEF1/winapp.sym"])
        r = self.s.get("/winapp.exe/5F3A1B2C9000/winapp.sym?_refresh")
        self.assertEqual(r.status, 302, r)
        # and no second copy on the next run
        self.s.run("import", self.store)
        self.assertEqual(self.sql("SELECT count(*) FROM file_uploads"), "2")

    def test_changed_file_is_stored_again(self):
        self.s.run("import", self.store)
        write_sym(self.store, "winapp.pdb", "0123456789ABCDEF0123456789ABCDEF1", "winapp.sym",
                  WIN_SYM + "PUBLIC 3000 0 added\n")
        out = self.s.run("import", self.store)
        self.assertIn("imported 1, skipped 3", out.stdout)
        self.assertEqual(self.sql("SELECT count(*), bool_or(update) FROM file_uploads "
                                  "WHERE key LIKE 'winapp.pdb/%'"), "2|t")
        r, body = follow(self.s, "/winapp.pdb/0123456789ABCDEF0123456789ABCDEF1/winapp.sym"
                                 "?_refresh")
        self.assertTrue(body.decode().endswith("PUBLIC 3000 0 added\n"))

    def test_usage_errors(self):
        out = self.s.run("import", check=False)
        self.assertEqual(out.returncode, 2)
        out = self.s.run("import", os.path.join(self.store, "missing"), check=False)
        self.assertEqual(out.returncode, 2)
        out = self.s.run("import", "--bogus", self.store, check=False)
        self.assertEqual(out.returncode, 2)

    def test_tecken_corpus_store(self):
        root = corpus_path("tecken", "tests", "data", "symbols")
        if root is None:
            self.skipTest("corpus absent")
        out = self.s.run("import", root)
        self.assertIn("imported 10, skipped 0, failed 0", out.stdout)
        r = self.s.get("/ShowSSEConfig.exe/6A4B9A365000/ShowSSEConfig.sym")
        # stored under its code path: found directly
        self.assertEqual(r.status, 302)
        r = self.s.get("/qipcap64.dll/6A4806059000/qipcap64.sym")
        self.assertEqual(r.status, 302)
        self.assertEqual(r.header("location"),
                         "/qipcap64.pdb/293A285ED25871934C4C44205044422E1/qipcap64.sym")
        with open(os.path.join(root, "c++filt", "B2E65520F14FB5332E38A5A5189839AD0",
                               "c++filt.sym"), "rb") as f:
            want = f.read()
        r, body = follow(self.s, "/c%2B%2Bfilt/B2E65520F14FB5332E38A5A5189839AD0/c%2B%2Bfilt.sym")
        self.assertEqual(body, want)


class FileImportTest(ImportTests, unittest.TestCase):
    backend = "file"


class S3ImportTest(ImportTests, unittest.TestCase):
    backend = "s3"


if __name__ == "__main__":
    sigiltest.main()
