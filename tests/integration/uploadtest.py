# SPDX-License-Identifier: MPL-2.0
"""Helpers for the upload, token and listing tests: tokens made with `sigil token`, multipart
bodies, generated zips and .sym texts, S3 key prefixes, and following download redirects.
Standard library only."""
import http.client
import io
import json
import os
import stat
import uuid
import zipfile

import sigiltest


def unique_env(backend, extra=None):
    """Settings for a server of its own: a key prefix in the shared s3rver bucket."""
    env = dict(extra or {})
    s3 = sigiltest.s3_settings() if backend == "s3" else None
    if s3 is not None:
        bucket, _, query = s3["SIGIL_STORAGE_URL"][len("s3://"):].partition("?")
        env["SIGIL_STORAGE_URL"] = "s3://%s/t%s?%s" % (bucket, uuid.uuid4().hex[:12], query)
    return env


def token(s, email, *perms, days=None):
    args = ["token", "create", "--user", email]
    for p in perms:
        args += ["--permission", p]
    if days is not None:
        args += ["--expires-days", str(days)]
    key = s.run(*args).stdout.strip()
    assert len(key) == 32, key
    return key


def multipart(files=(), fields=None, boundary=None):
    """files: (field name, filename, bytes); fields: {name: value}. Returns (body, headers)."""
    boundary = boundary or "sigil" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in (fields or {}).items():
        out.write(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" %
                  (boundary.encode(), name.encode(), value.encode()))
    for name, filename, data in files:
        out.write(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                  b"Content-Type: application/zip\r\n\r\n" %
                  (boundary.encode(), name.encode(), filename.encode()))
        out.write(data)
        out.write(b"\r\n")
    out.write(b"--%s--\r\n" % boundary.encode())
    return out.getvalue(), {"Content-Type": "multipart/form-data; boundary=" + boundary}


def upload(s, key, data, field="symbols.zip", fields=None, headers=None, timeout=120):
    body, h = multipart([(field, "upload.zip", data)] if data is not None else [], fields)
    if key is not None:
        h["Auth-Token"] = key
    h.update(headers or {})
    return s.request("POST", "/upload/", headers=h, body=body, timeout=timeout)


def post_form(s, key, fields, timeout=120):
    body = "&".join("%s=%s" % (k, urlquote(v)) for k, v in fields.items()).encode()
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if key is not None:
        h["Auth-Token"] = key
    return s.request("POST", "/upload/", headers=h, body=body, timeout=timeout)


def urlquote(v):
    import urllib.parse
    return urllib.parse.quote(v, safe="")


def sym_text(debug_file, debug_id, name=None, code_id=None, code_file=None, funcs=20,
             generator="mozilla/dump_syms 2.3.7", os_name="windows"):
    lines = ["MODULE %s x86_64 %s %s" % (os_name, debug_id, debug_file)]
    if code_id:
        lines.append("INFO CODE_ID %s%s" % (code_id, " " + code_file if code_file else ""))
    if generator:
        lines.append("INFO GENERATOR %s" % generator)
    lines.append("FILE 0 src/%s.c" % (name or debug_file))
    for i in range(funcs):
        lines.append("FUNC %x 10 0 function_%d_%s" % (0x1000 + i * 16, i, debug_id[:8]))
        lines.append("%x 10 %d 0" % (0x1000 + i * 16, i + 1))
    return "\n".join(lines) + "\n"


def new_id(n=33):
    return uuid.uuid4().hex.upper()[:32] + "0" * (n - 32) if n >= 32 else \
        uuid.uuid4().hex.upper()[:n]


def make_zip(members, compression=zipfile.ZIP_DEFLATED):
    """members: {name: bytes|str} or a list of (name, data) pairs (duplicates allowed)."""
    buf = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in items:
            if isinstance(data, str):
                data = data.encode()
            z.writestr(name, data)
    return buf.getvalue()


def symlink_zip(name, target):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, target)
    return buf.getvalue()


def named_zip(name, data=b"x"):
    """A zip with one member named exactly `name` (absolute, "..": ZipInfo keeps them)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


def follow(s, path, headers=None):
    """GET on the server and follow redirects, to the server itself or to storage; returns
    (final response, body decoded from Content-Encoding gzip as `curl --compressed` would)."""
    r = s.get(path, headers=headers)
    for _ in range(5):
        if r.status not in (301, 302):
            break
        loc = r.header("location")
        if loc.startswith("/"):
            r = s.get(loc)
        else:
            r = sigiltest.fetch_url(loc, headers={"Accept-Encoding": "gzip"})
    return r, sigiltest.gunzip_if(r.body, r.headers)


def rows(s, sql):
    out = s.db.psql(sql)
    return [line.split("|") for line in out.splitlines()] if out else []


def api(s, key, method, path, body=None, form=None):
    headers = {}
    if key is not None:
        headers["Auth-Token"] = key
    if form is not None:
        body = "&".join("%s=%s" % (k, urlquote(str(v))) for k, v in form.items()).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    r = s.request(method, path, headers=headers, body=body)
    try:
        data = json.loads(r.body) if r.body else None
    except ValueError:
        data = None
    return r, data


def spool_files(s):
    d = os.path.join(s.tmp, "cache", "spool")
    try:
        return sorted(os.listdir(d))
    except OSError:
        return []


def http_conn(s, timeout=30):
    return http.client.HTTPConnection("127.0.0.1", s.port, timeout=timeout)
