#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""CTest fixture: start or stop the private PostgreSQL cluster the integration tests share.

    pg_fixture.py start DIR    picks a free port on 127.0.0.1, starts the cluster
    pg_fixture.py stop DIR
Each test then creates a database of its own in it (sigiltest.Postgres)."""
import os
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "deploy", "dev", "postgres.sh")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    cmd, directory = sys.argv[1], sys.argv[2]
    if cmd == "start":
        subprocess.run([SCRIPT, "stop", directory], check=False)
        subprocess.run([SCRIPT, "start", directory, str(free_port())], check=True)
    else:
        subprocess.run([SCRIPT, "stop", directory], check=True)


if __name__ == "__main__":
    main()
