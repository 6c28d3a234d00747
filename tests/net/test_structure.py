"""The code's shape, checked on the built objects (no namespaces needed)."""
import os
import subprocess
import sys

import lab

TOOL = os.path.join(lab.REPO, "tests", "tools", "link_cycles.py")


def test_no_link_cycles(binaries):
    """No object file calls into one that calls back into it (issue 10)."""
    r = subprocess.run([sys.executable, TOOL, lab.BUILD], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
