#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""POST /upload/ against a real server, PostgreSQL and both storage backends: the fixture zips of
the public corpus with their expected outcomes, generated zips (try and regular storage, retries,
code-id lookup and downloads right after an upload, concurrent overlapping uploads), every
400/403/405/413 answer with its exact body, limits and unsafe members, strict mode, a client
that goes away mid-body, and upload by download from a local HTTP server."""
import http.server
import json
import os
import socket
import threading
import time
import unittest
import zipfile

import sigiltest
from sigiltest import Sigil, corpus_path, md5
from uploadtest import (follow, make_zip, multipart, named_zip, new_id, post_form, rows,
                        spool_files, sym_text, symlink_zip, token, unique_env, upload)

PATTERN_ERROR = ("Unrecognized file pattern. Should only be <module>/<hex>/<file> or "
                 "<name>-symbols.txt and nothing else. (First unrecognized pattern was %s)")


def upper_id(key):
    """The stored key of a member name: its debug id upper-cased (Sigil fixes Tecken's
    unreachable lower-case keys)."""
    parts = key.split("/")
    if len(parts) == 3:
        parts[1] = parts[1].upper()
    return "/".join(parts)


def win_module(code_id=True):
    debug_file, debug_id = "app%s.pdb" % new_id(6).lower(), new_id()
    code_file, cid = debug_file.replace(".pdb", ".dll"), new_id(13)
    text = sym_text(debug_file, debug_id, code_id=cid if code_id else None, code_file=code_file)
    key = "%s/%s/%s" % (debug_file, debug_id, debug_file.replace(".pdb", ".sym"))
    return {"debug_file": debug_file, "debug_id": debug_id, "code_file": code_file,
            "code_id": cid, "text": text, "key": key,
            "sym": debug_file.replace(".pdb", ".sym")}


# ---------------------------------------------------------------------------------------------
# The corpus fixtures, with the outcomes of expected/upload-outcomes.json
# ---------------------------------------------------------------------------------------------

class CorpusFixtureTest(unittest.TestCase):
    """Each case on a fresh server (the expectations assume empty storage and tables)."""

    @classmethod
    def setUpClass(cls):
        path = corpus_path("tecken", "expected", "upload-outcomes.json")
        if path is None:
            raise unittest.SkipTest("corpus absent")
        with open(path) as f:
            cls.cases = {c["name"]: c for c in json.load(f)["cases"]}

    def server(self, env=None):
        s = Sigil(env=env)
        self.addCleanup(s.close)
        s.start()
        return s, token(s, "uploader@example.com", "upload_symbols")

    def zip_bytes(self, case):
        with open(corpus_path("tecken", case["zip"]), "rb") as f:
            return f.read()

    def check_status(self, r, case):
        self.assertEqual(r.status, case["expected_status"], r)
        if "expected_json" in case:
            self.assertEqual(r.json(), case["expected_json"])
        self.assertEqual(r.header("content-type"), "application/json")

    def test_refused_zips(self):
        for name in ["member-at-zip-root", "not-a-zip", "invalid-characters",
                     "duplicate-member-different-size", "wrong-archive-extension"]:
            case = self.cases[name]
            with self.subTest(case=name):
                s, key = getattr(self, "_srv", None) or self.server()
                self._srv = (s, key)
                r = upload(s, key, self.zip_bytes(case), field=case["field_name"])
                self.check_status(r, case)
                self.assertEqual(r.header("vary"), "Auth-Token")
        self.assertEqual(rows(s, "SELECT count(*) FROM file_uploads"), [["0"]])

    def test_request_errors(self):
        s, key = self.server()
        case = self.cases["empty-file-part"]
        r = upload(s, key, b"", field=case["field_name"])
        self.check_status(r, case)
        case = self.cases["no-file-part"]
        body, h = multipart([], {"try": "1"})
        h["Auth-Token"] = key
        self.check_status(s.request("POST", "/upload/", headers=h, body=body), case)
        case = self.cases["wrong-method"]
        r = s.get("/upload/")
        self.check_status(r, case)
        self.assertEqual(r.header("allow"), "POST")
        case = self.cases["no-token"]
        self.check_status(upload(s, None, make_zip({"a/1/a.sym": "x"})), case)
        case = self.cases["token-without-permission"]
        other = token(s, "auditor@example.com", "view_all_uploads")
        self.check_status(upload(s, other, make_zip({"a/1/a.sym": "x"})), case)

    def test_disallowed_snippet(self):
        case = self.cases["disallowed-snippet"]
        snippets = ",".join(case["config"]["DISALLOWED_SYMBOLS_SNIPPETS"])
        s, key = self.server({"SIGIL_UPLOAD_DISALLOWED_SNIPPETS": snippets})
        self.check_status(upload(s, key, self.zip_bytes(case), field=case["field_name"]), case)

    def seed(self, s, key, member, data):
        """Puts `data` at the member's key as an earlier upload would, then forgets the rows."""
        r = upload(s, key, make_zip({member: data}))
        self.assertEqual(r.status, 201, r)
        s.db.psql("DELETE FROM file_uploads; DELETE FROM uploads")

    def check_upload(self, s, r, case):
        exp = case["expected_upload"]
        up = r.json()["upload"]
        self.assertEqual(sorted(up), sorted(["id", "size", "filename", "bucket", "download_url",
                                             "try_symbols", "redirect_urls", "completed_at",
                                             "created_at", "user", "skipped_keys"]))
        for k in ("filename", "size", "download_url", "try_symbols", "redirect_urls"):
            if k in exp:
                self.assertEqual(up[k], exp[k], k)
        if "skipped_keys_in_response" in exp:
            self.assertEqual(sorted(up["skipped_keys"]),
                             sorted(upper_id(k) for k in exp["skipped_keys_in_response"]))
        self.assertEqual(up["user"], "uploader@example.com")
        row = rows(s, "SELECT content_hash, size, coalesce(array_to_json(skipped_keys), 'null'), "
                      "coalesce(array_to_json(ignored_keys), 'null'), completed_at IS NOT NULL "
                      "FROM uploads WHERE id = %d" % up["id"])[0]
        if "content_hash" in exp:
            self.assertEqual(row[0], exp["content_hash"])
        self.assertEqual(int(row[1]), exp.get("size", up["size"]))
        if "skipped_keys" in exp:
            self.assertEqual(sorted(json.loads(row[2])),
                             sorted(upper_id(k) for k in exp["skipped_keys"]))
        if "ignored_keys" in exp:
            self.assertEqual(json.loads(row[3]), exp["ignored_keys"])
        if "ignored_keys_sorted" in exp:
            self.assertEqual(sorted(json.loads(row[3])), exp["ignored_keys_sorted"])
        self.assertEqual(row[4], "t")
        return up

    def check_files(self, s, case):
        want = case.get("expected_files", [])
        got = {r[0]: r for r in rows(s, "SELECT key, compressed, update, size, "
                                        "coalesce(debug_filename, '<null>'), "
                                        "coalesce(debug_id, '<null>') FROM file_uploads")}
        self.assertEqual(sorted(got), sorted(upper_id(f["key"]) for f in want))
        for f in want:
            r = got[upper_id(f["key"])]
            self.assertEqual(r[1] == "t", f["compressed"], f)
            if "update" in f:
                self.assertEqual(r[2] == "t", f["update"], f)
            if "size" in f:
                self.assertEqual(int(r[3]), f["size"], f)
            if "size_less_than" in f:
                self.assertLess(int(r[3]), f["size_less_than"], f)
            if "debug_filename" in f:
                self.assertEqual(r[4], f["debug_filename"])
                self.assertEqual(r[5], f["debug_id"])

    def test_sample_happy_path(self):
        case = self.cases["sample-happy-path"]
        s, key = self.server()
        self.seed(s, key, "flag/deadbeef/flag.jpeg", b"abc123")
        r = upload(s, key, self.zip_bytes(case), field=case["field_name"])
        self.assertEqual(r.status, 201, r)
        self.check_upload(s, r, case)
        self.check_files(s, case)

    def test_sample_one_file_already_stored(self):
        case = self.cases["sample-one-file-already-stored"]
        data = self.zip_bytes(case)
        with zipfile.ZipFile(corpus_path("tecken", case["zip"])) as z:
            jpeg = z.read("flag/deadbeef/flag.jpeg")
        s, key = self.server()
        self.seed(s, key, "flag/deadbeef/flag.jpeg", jpeg)
        r = upload(s, key, data, field=case["field_name"])
        self.assertEqual(r.status, 201, r)
        self.check_upload(s, r, case)
        self.check_files(s, case)

    def test_sample_uploaded_three_times(self):
        case = self.cases["sample-uploaded-three-times"]
        s, key = self.server()
        for i, want in enumerate(case["expected_after_each"]):
            r = upload(s, key, self.zip_bytes(case), field=case["field_name"])
            self.assertEqual(r.status, case["expected_status"], r)
            if i > 0:
                self.assertEqual(len(r.json()["upload"]["skipped_keys"]), 2)
            self.assertEqual(rows(s, "SELECT (SELECT count(*) FROM uploads), "
                                     "(SELECT count(*) FROM file_uploads)"),
                             [[str(want["upload_rows"]), str(want["file_rows"])]])

    def test_ignorable_files_and_duplicates(self):
        s, key = self.server()
        case = self.cases["ignorable-files"]
        r = upload(s, key, self.zip_bytes(case), field=case["field_name"])
        self.assertEqual(r.status, case["expected_status"], r)
        self.check_upload(s, r, case)
        self.assertEqual(rows(s, "SELECT count(*) FROM file_uploads WHERE upload_id = %d" %
                              r.json()["upload"]["id"]), [[str(case["expected_file_rows"])]])
        case = self.cases["duplicate-member-same-size"]
        r = upload(s, key, self.zip_bytes(case))
        self.assertEqual(r.status, 201, r)
        keys = rows(s, "SELECT key FROM file_uploads WHERE upload_id = %d" %
                    r.json()["upload"]["id"])
        self.assertEqual([k[0] for k in keys],
                         [upper_id(k) for k in case["expected_extracted_members"]])


# ---------------------------------------------------------------------------------------------
# Generated zips, on both storage backends
# ---------------------------------------------------------------------------------------------

class StorageTests:
    backend = "file"

    @classmethod
    def setUpClass(cls):
        cls.s = Sigil(backend=cls.backend, env=unique_env(cls.backend))
        cls.s.start()
        cls.key = token(cls.s, "ci@example.com", "upload_symbols")
        cls.try_key = token(cls.s, "try@example.com", "upload_try_symbols")

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def test_upload_then_download_and_code_id_lookup(self):
        s = self.s
        m = win_module()
        path = "/%s/%s/%s" % (m["debug_file"], m["debug_id"], m["sym"])
        code_path = "/%s/%s/%s" % (m["code_file"], m["code_id"], m["sym"])
        # misses cached before the upload must not hide it afterwards
        self.assertEqual(s.get(path).status, 404)
        self.assertEqual(s.get(code_path).status, 404)
        dl = bytes(range(256)) * 40
        dl_key = "%s/%s/%s" % (m["code_file"], m["code_id"], m["code_file"][:-1] + "_")
        r = upload(s, self.key, make_zip({m["key"]: m["text"], dl_key: dl}))
        self.assertEqual(r.status, 201, r)
        up = r.json()["upload"]
        self.assertEqual(up["skipped_keys"], [])
        self.assertFalse(up["try_symbols"])
        self.assertRegex(up["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
        r = s.get(code_path)
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.header("location"), path)
        r, body = follow(s, path)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(body.decode(), m["text"])
        r, body = follow(s, "/" + dl_key)
        self.assertEqual(body, dl)
        row = rows(s, "SELECT debug_filename, debug_id, code_file, code_id, generator, compressed,"
                      " try_symbols FROM file_uploads WHERE key = '%s'" % m["key"])
        self.assertEqual(row, [[m["debug_file"], m["debug_id"], m["code_file"], m["code_id"],
                                "mozilla/dump_syms 2.3.7", "t", "f"]])

    def test_stored_attributes(self):
        m = win_module()
        self.assertEqual(upload(self.s, self.key, make_zip({m["key"]: m["text"]})).status, 201)
        r = self.s.get("/%s/%s/%s" % (m["debug_file"], m["debug_id"], m["sym"]))
        loc = r.header("location")
        r = self.s.get(loc[loc.index("/objects/"):]) if "/objects/" in loc else \
            sigiltest.fetch_url(loc)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-encoding"), "gzip")
        self.assertTrue(r.header("content-type").startswith("text/plain"))
        self.assertEqual(r.header("cache-control"), "no-transform")
        if self.backend == "s3":
            self.assertEqual(r.header("x-amz-meta-original_size"), str(len(m["text"])))
            self.assertEqual(r.header("x-amz-meta-original_md5_hash"), md5(m["text"].encode()))

    def test_retry_skips_stored_files(self):
        mods = [win_module() for _ in range(3)]
        members = {m["key"]: m["text"] for m in mods}
        members["other/ABCD/other.dl_"] = os.urandom(5000)
        data = make_zip(members)
        r1 = upload(self.s, self.key, data)
        self.assertEqual(r1.status, 201, r1)
        r2 = upload(self.s, self.key, data)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(sorted(r2.json()["upload"]["skipped_keys"]), sorted(members))
        n = rows(self.s, "SELECT count(*) FROM file_uploads WHERE upload_id IN (%d, %d)" %
                 (r1.json()["upload"]["id"], r2.json()["upload"]["id"]))
        self.assertEqual(n, [["4"]])
        # a changed file is stored again, as an update; the others are skipped
        changed = dict(members)
        changed[mods[0]["key"]] = mods[0]["text"] + "PUBLIC ffff 0 added\n"
        r3 = upload(self.s, self.key, make_zip(changed))
        self.assertEqual(len(r3.json()["upload"]["skipped_keys"]), 3)
        self.assertEqual(rows(self.s, "SELECT key, update FROM file_uploads WHERE upload_id = %d"
                              % r3.json()["upload"]["id"]), [[mods[0]["key"], "t"]])

    def test_try_and_regular_storage(self):
        s = self.s
        cases = [(self.try_key, None, True), (self.try_key, "", True), (self.try_key, "0", True),
                 (self.key, None, False), (self.key, "1", True), (self.key, "0", False),
                 (self.key, "false", False), (self.key, "", False)]
        for key, try_value, want_try in cases:
            with self.subTest(try_only=key == self.try_key, try_value=try_value):
                m = win_module()
                fields = {"try": try_value} if try_value is not None else None
                r = upload(s, key, make_zip({m["key"]: m["text"]}), fields=fields)
                self.assertEqual(r.status, 201, r)
                self.assertEqual(r.json()["upload"]["try_symbols"], want_try)
                path = "/%s/%s/%s" % (m["debug_file"], m["debug_id"], m["sym"])
                self.assertEqual(s.get(path).status, 404 if want_try else 302)
                self.assertEqual(s.get(path + "?try").status, 302)
                self.assertEqual(s.get("/try" + path).status, 302)
                if want_try:
                    r, body = follow(s, "/try" + path)
                    self.assertEqual(body.decode(), m["text"])
                    code = s.get("/try/%s/%s/%s" % (m["code_file"], m["code_id"], m["sym"]))
                    self.assertEqual(code.status, 302)
                    self.assertEqual(code.header("location"), "/try" + path)

    def test_concurrent_overlapping_uploads(self):
        shared = [win_module() for _ in range(6)]
        zips = []
        for i in range(4):
            own = win_module()
            members = {m["key"]: m["text"] for m in shared}
            members[own["key"]] = own["text"]
            zips.append(make_zip(members))
        results = [None] * len(zips)

        def go(i):
            results[i] = upload(self.s, self.key, zips[i])

        threads = [threading.Thread(target=go, args=(i,)) for i in range(len(zips))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            self.assertEqual(r.status, 201, r)
        keys = ",".join("'%s'" % m["key"] for m in shared)
        counts = rows(self.s, "SELECT key, count(*) FROM file_uploads WHERE key IN (%s) "
                              "GROUP BY key" % keys)
        self.assertEqual(sorted(c[0] for c in counts), sorted(m["key"] for m in shared))
        self.assertTrue(all(c[1] == "1" for c in counts), counts)
        skipped = sum(len(r.json()["upload"]["skipped_keys"]) for r in results)
        self.assertEqual(skipped, len(shared) * (len(zips) - 1))
        for m in shared:
            r, body = follow(self.s, "/%s/%s/%s" % (m["debug_file"], m["debug_id"], m["sym"]))
            self.assertEqual(body.decode(), m["text"])

    def test_many_files(self):
        mods = [win_module() for _ in range(60)]
        r = upload(self.s, self.key, make_zip({m["key"]: m["text"] for m in mods}))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(rows(self.s, "SELECT count(*) FROM file_uploads WHERE upload_id = %d" %
                              r.json()["upload"]["id"]), [["60"]])
        self.assertEqual(spool_files(self.s), [])


class FileStorageTest(StorageTests, unittest.TestCase):
    backend = "file"


class S3StorageTest(StorageTests, unittest.TestCase):
    backend = "s3"


# ---------------------------------------------------------------------------------------------
# Refusals: authentication, archives, limits
# ---------------------------------------------------------------------------------------------

class RefusalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Sigil(env={"SIGIL_UPLOAD_MAX_MEMBERS": "20", "SIGIL_UPLOAD_MAX_FILE_BYTES":
                           str(8 << 20), "SIGIL_UPLOAD_MAX_NAME_BYTES": "120",
                           "SIGIL_MAX_BODY_BYTES": str(2 << 20)})
        cls.s.start()
        cls.key = token(cls.s, "ci@example.com", "upload_symbols")

    @classmethod
    def tearDownClass(cls):
        cls.s.close()

    def expect(self, r, status, error):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json(), {"error": error})

    def test_authentication_failures(self):
        s = self.s
        data = make_zip({"a/1/a.sym": "MODULE"})
        self.expect(upload(s, None, data), 403,
                    "This requires an Auth-Token to authenticate the request")
        r = upload(s, "0" * 32, data)
        self.expect(r, 403, "API Token not matched")
        self.assertEqual(r.header("vary"), "Auth-Token")
        self.expect(upload(s, "not-a-key", data), 403, "API Token not matched")
        # the label after the first '-' is ignored; the key itself is case-sensitive
        self.assertEqual(upload(s, self.key + "-ci-label", make_zip(
            {win_module()["key"]: "MODULE"})).status, 201)
        self.expect(upload(s, self.key.upper(), data), 403, "API Token not matched")
        expired = token(s, "old@example.com", "upload_symbols")
        s.db.psql("UPDATE tokens SET expires_at = now() - interval '1 day' "
                  "WHERE user_id = (SELECT id FROM users WHERE email = 'old@example.com')")
        self.expect(upload(s, expired, data), 403, "API Token found but expired")
        inactive = token(s, "gone@example.com", "upload_symbols")
        s.db.psql("UPDATE users SET is_active = false WHERE email = 'gone@example.com'")
        self.expect(upload(s, inactive, data), 403, "API Token matched but user not active")
        revoked = token(s, "rev@example.com", "upload_symbols")
        tid = s.db.psql("SELECT t.id FROM tokens t JOIN users u ON u.id = t.user_id "
                        "WHERE u.email = 'rev@example.com'")
        s.run("token", "revoke", tid)
        self.expect(upload(s, revoked, data), 403, "API Token not matched")
        # a user who lost the permission: the token no longer grants it
        lost = token(s, "lost@example.com", "upload_symbols")
        s.db.psql("DELETE FROM user_permissions WHERE user_id = "
                  "(SELECT id FROM users WHERE email = 'lost@example.com')")
        self.expect(upload(s, lost, data), 403, "Forbidden")

    def test_403_before_reading_a_large_body(self):
        # the client sees the 403 although it sends a body over the size limit
        body = b"x" * (3 << 20)
        r = self.s.request("POST", "/upload/", headers={
            "Auth-Token": "f" * 32, "Content-Type": "multipart/form-data; boundary=b"},
            body=body)
        self.expect(r, 403, "API Token not matched")

    def test_413(self):
        body, h = multipart([("big.zip", "big.zip", os.urandom(3 << 20))])
        h["Auth-Token"] = self.key
        r = self.s.request("POST", "/upload/", headers=h, body=body)
        self.assertEqual(r.status, 413, r)
        self.assertIn("larger than", r.json()["error"])

    def test_405(self):
        r = self.s.request("PUT", "/upload/", body=b"x")
        self.expect(r, 405, "Method Not Allowed (PUT): /upload/")
        self.assertEqual(r.header("allow"), "POST")

    def test_unsafe_members(self):
        s = self.s
        cases = [
            (symlink_zip("a/1/link.sym", "/etc/passwd"), "unsafe"),
            (named_zip("/abs/1/x.sym"), "absolute"),
            (named_zip("a/../1/x.sym"), ".."),
            (make_zip({"a/1/%s.sym" % ("n" * 150): "x"}), "long"),
            (make_zip({"a/%d/a.sym" % i: "x" for i in range(25)}), "members"),
            (make_zip({"big/1/big.sym": b"\0" * (9 << 20)}), "size"),
            (make_zip({"bomb/1/bomb.sym": b"\0" * (4 << 20)}), "ratio"),
            (make_zip({}), "empty"),
            (make_zip({"dir/": ""}), "directories only"),
        ]
        for data, what in cases:
            with self.subTest(what=what):
                r = upload(s, self.key, data)
                self.assertEqual(r.status, 400, r)
                self.assertIn("error", r.json())
        self.assertEqual(rows(s, "SELECT count(*) FROM file_uploads WHERE key LIKE '%.sym' "
                                 "AND key NOT LIKE 'app%'"), [["0"]])
        self.assertFalse(os.path.exists("/etc/passwd.sym"))

    def test_pattern_errors(self):
        r = upload(self.s, self.key, make_zip({"xpcshell.sym": "x"}))
        self.expect(r, 400, PATTERN_ERROR % "'xpcshell.sym'")
        r = upload(self.s, self.key, make_zip({"a/XYZ/a.sym": "x"}))
        self.expect(r, 400, PATTERN_ERROR % "'a/XYZ/a.sym'")
        r = upload(self.s, self.key, make_zip({"qcom/proprietary/1/x.sym": "x"}))
        self.expect(r, 400, "Content of archive file contains the snippet 'qcom/proprietary' "
                            "which is not allowed")
        r = upload(self.s, self.key, make_zip([("a/1/a.sym", "x" * 39), ("a/1/a.sym", "y" * 24)]))
        self.expect(r, 400, "The zipfile buffer contains two files both called a/1/a.sym and "
                            "they have difference sizes (24 != 39)")
        r = upload(self.s, self.key, make_zip({"a/1/a.sym": "x"}), field="symbols.rar")
        self.expect(r, 400, 'Unrecognized archive file extension ".rar"')
        r = upload(self.s, self.key, make_zip({"a/1/a.sym": "x"}), field="symbols")
        self.expect(r, 400, 'Unrecognized archive file extension ""')
        self.assertEqual(upload(self.s, self.key, make_zip({win_module()["key"]: "x"}),
                                field="SYMBOLS.ZIP").status, 201)

    def test_malformed_header_does_not_fail_the_upload(self):
        m = win_module()
        r = upload(self.s, self.key, make_zip({m["key"]: "MODULE Linux x86_64 ONLYTHREE\n"}))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(rows(self.s, "SELECT debug_filename IS NULL, code_id IS NULL FROM "
                                      "file_uploads WHERE key = '%s'" % m["key"]), [["t", "t"]])
        m = win_module(code_id=False)
        r = upload(self.s, self.key, make_zip({m["key"]: m["text"]}))
        self.assertEqual(rows(self.s, "SELECT code_file, code_id FROM file_uploads "
                                      "WHERE key = '%s'" % m["key"]), [["", ""]])

    def test_client_disconnect_mid_body(self):
        s = self.s
        before = s.metric("sigil_uploads_total", 'result="refused"')
        sock = socket.create_connection(("127.0.0.1", s.port))
        body_len = 1 << 20
        sock.sendall(("POST /upload/ HTTP/1.1\r\nHost: x\r\nAuth-Token: %s\r\n"
                      "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n"
                      "--b\r\nContent-Disposition: form-data; name=\"a.zip\"; filename=\"a.zip\""
                      "\r\n\r\n" % (self.key, body_len)).encode())
        sock.sendall(b"PK" + b"\0" * 100000)
        sock.close()
        s.wait_metric("sigil_uploads_total", 'result="refused"', before + 1)
        deadline = time.time() + 10
        while spool_files(s) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(spool_files(s), [])
        self.assertEqual(s.get("/__lbheartbeat__").status, 200)
        m = win_module()
        self.assertEqual(upload(s, self.key, make_zip({m["key"]: m["text"]})).status, 201)


class StrictModeTest(unittest.TestCase):
    def test_mismatched_module_line_is_refused_and_nothing_stored(self):
        s = Sigil(env={"SIGIL_UPLOAD_STRICT_HEADERS": "true"})
        self.addCleanup(s.close)
        s.start()
        key = token(s, "ci@example.com", "upload_symbols")
        good, bad = win_module(), win_module()
        members = {good["key"]: good["text"],
                   bad["key"]: bad["text"].replace(bad["debug_id"], new_id())}
        r = upload(s, key, make_zip(members))
        self.assertEqual(r.status, 400, r)
        self.assertIn("'%s'" % bad["key"], r.json()["error"])
        self.assertIn("does not match its path", r.json()["error"])
        self.assertEqual(rows(s, "SELECT count(*) FROM file_uploads"), [["0"]])
        path = "/%s/%s/%s" % (good["debug_file"], good["debug_id"], good["sym"])
        self.assertEqual(s.get(path).status, 404)
        # the code-id layout is accepted too
        alt = win_module()
        code_key = "%s/%s/%s" % (alt["code_file"], alt["code_id"], alt["sym"])
        r = upload(s, key, make_zip({good["key"]: good["text"], code_key: alt["text"]}))
        self.assertEqual(r.status, 201, r)


# ---------------------------------------------------------------------------------------------
# Upload by download
# ---------------------------------------------------------------------------------------------

class ZipServer:
    """A local HTTP server: /ok.zip, redirects, errors, a file without Content-Length."""

    def __init__(self, zips):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, head):
                p = self.path
                owner.hits.append((self.command, p))
                if p.startswith("/redirect/"):
                    n = int(p.split("/")[2])
                    target = "/ok.zip" if n == 0 else "/redirect/%d/x.zip" % (n - 1)
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif p.startswith("/elsewhere"):
                    self.send_response(302)
                    self.send_header("Location", "http://localhost:%d/ok.zip" % owner.port)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif p.startswith("/nolength.zip"):
                    self.send_response(200)
                    self.end_headers()
                    if not head:
                        self.wfile.write(owner.zips["ok.zip"])
                    self.close_connection = True
                elif p.startswith("/notimpl.zip"):
                    self.send_response(501)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif p.lstrip("/") in owner.zips:
                    data = owner.zips[p.lstrip("/")]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if not head:
                        self.wfile.write(data)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def do_HEAD(self):
                self.answer(True)

            def do_GET(self):
                self.answer(False)

        self.zips = zips
        self.hits = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class UploadByDownloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = win_module()
        cls.zip = make_zip({cls.m["key"]: cls.m["text"]})
        cls.web = ZipServer({"ok.zip": cls.zip, "symbols.tar": cls.zip})
        cls.s = Sigil(env={"SIGIL_UPLOAD_BY_DOWNLOAD_DOMAINS": "127.0.0.1",
                           "SIGIL_UPLOAD_BY_DOWNLOAD_ALLOW_LOCAL": "true"})
        cls.s.start()
        cls.key = token(cls.s, "ci@example.com", "upload_symbols")

    @classmethod
    def tearDownClass(cls):
        cls.s.close()
        cls.web.close()

    def expect(self, r, status, error):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json(), {"error": error})

    def test_download_through_redirects(self):
        url = self.web.url("/redirect/2/symbols.zip")
        r = post_form(self.s, self.key, {"url": url})
        self.assertEqual(r.status, 201, r)
        up = r.json()["upload"]
        self.assertEqual(up["download_url"], url)
        self.assertEqual(up["redirect_urls"], ["/redirect/1/x.zip", "/redirect/0/x.zip",
                                               "/ok.zip"])
        self.assertEqual(up["filename"], "symbols.zip")
        self.assertEqual(up["size"], len(self.zip))
        r, body = follow(self.s, "/%s/%s/%s" % (self.m["debug_file"], self.m["debug_id"],
                                                self.m["sym"]))
        self.assertEqual(body.decode(), self.m["text"])
        self.assertEqual(spool_files(self.s), [])
        # multipart with a url field works too, with try
        body, h = multipart([], {"url": self.web.url("/ok.zip"), "try": "1"})
        h["Auth-Token"] = self.key
        r = self.s.request("POST", "/upload/", headers=h, body=body)
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.json()["upload"]["try_symbols"])
        self.assertEqual(r.json()["upload"]["redirect_urls"], [])

    def test_refusals(self):
        s, key, web = self.s, self.key, self.web
        self.expect(post_form(s, key, {"url": web.url("/redirect/6/x.zip")}), 400,
                    "Too many redirects trying to open %s" % web.url("/redirect/6/x.zip"))
        self.expect(post_form(s, key, {"url": web.url("/elsewhere.zip")}), 400,
                    "Not an allowed domain ('localhost') to download from.")
        self.expect(post_form(s, key, {"url": web.url("/missing.zip")}), 400,
                    "%s can't be found (404)" % web.url("/missing.zip"))
        self.expect(post_form(s, key, {"url": web.url("/notimpl.zip")}), 500,
                    "%s errored (501)" % web.url("/notimpl.zip"))
        self.expect(post_form(s, key, {"url": web.url("/nolength.zip")}), 400,
                    "%s did not give a Content-Length" % web.url("/nolength.zip"))
        self.expect(post_form(s, key, {"url": web.url("/symbols.tar")}), 400,
                    'Unrecognized archive file extension ".tar"')
        self.expect(post_form(s, key, {"url": "https://evil.example.com/x.zip"}), 400,
                    "Not an allowed domain ('evil.example.com') to download from.")
        self.expect(post_form(s, key, {"url": "ftp://127.0.0.1/x.zip"}), 400, "Insecure URL")
        self.expect(post_form(s, key, {"url": "http://"}), 400, "Enter a valid URL.")
        self.expect(post_form(s, key, {"url": ""}), 400,
                    "Must be multipart form data with at least one file")
        port = sigiltest.free_port()
        self.expect(post_form(s, key, {"url": "http://127.0.0.1:%d/x.zip" % port}), 500,
                    "ConnectionError trying to open http://127.0.0.1:%d/x.zip" % port)
        self.expect(post_form(s, None, {"url": web.url("/ok.zip")}), 403,
                    "This requires an Auth-Token to authenticate the request")

    def test_defaults_refuse_http_and_local_addresses(self):
        s = Sigil(env={"SIGIL_UPLOAD_BY_DOWNLOAD_ANY_DOMAIN": "true"})
        self.addCleanup(s.close)
        s.start()
        key = token(s, "ci@example.com", "upload_symbols")
        self.expect(post_form(s, key, {"url": self.web.url("/ok.zip")}), 400, "Insecure URL")
        self.expect(post_form(s, key, {"url": "https://127.0.0.1:%d/ok.zip" % self.web.port}),
                    400, "Not an allowed address for '127.0.0.1' to download from.")
        self.expect(post_form(s, key, {"url": "https://[::1]/ok.zip"}), 400,
                    "Not an allowed address for '::1' to download from.")
        self.assertEqual(self.web.hits, [])


if __name__ == "__main__":
    sigiltest.main()
