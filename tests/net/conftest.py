"""
Shared fixtures for vipd's network tests (run as root, in network namespaces).

    /usr/bin/python3 -m pytest tests/net

`lab` gives a fresh Lab per test and always tears it down: daemons stopped
(a vipd that died by itself, exits non-zero on SIGTERM, or printed a
sanitizer report fails the test), namespaces deleted. A failing test gets
every host's logs and state appended to its report.
"""
import os
import shutil
import signal
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lab as labmod  # noqa: E402

IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="network tests need root (namespaces)")


def _sigterm(signum, frame):
    # Turn SIGTERM into KeyboardInterrupt so fixture teardown still runs.
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config):
    config.addinivalue_line("markers", "root: needs root (network namespaces)")
    config.addinivalue_line("markers", "slow: long-running (30 s) timing tests; run by default, "
                            "deselect with -m 'not slow'")
    signal.signal(signal.SIGTERM, _sigterm)


@pytest.fixture(scope="session", autouse=True)
def _sweep_stale_runs():
    """Remove namespaces, processes and files left by killed earlier runs."""
    if IS_ROOT:
        stale = labmod.sweep_stale()
        if stale:
            print("swept stale test namespaces of runs %s" % ", ".join(stale))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("root") and not IS_ROOT:
            item.add_marker(pytest.mark.skip(reason="needs root (network namespaces)"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    lab = getattr(item, "_vipd_lab", None)
    if lab is not None and rep.failed and rep.when in ("call", "setup"):
        # the lab is still alive here: live status and addresses included
        rep.sections.append(("vipd lab state and logs", lab.describe()))


@pytest.fixture(scope="session")
def binaries():
    for b in (labmod.VIPD, labmod.VIPCTL):
        if not os.access(b, os.X_OK):
            pytest.fail("%s not built (run make all; VIPD_BUILD=%s)" % (b, labmod.BUILD))
    return labmod.BUILD


@pytest.fixture
def lab(request, binaries):
    if not IS_ROOT:
        pytest.skip("network tests need root (network namespaces)")
    lb = labmod.Lab(request.node.name)
    request.node._vipd_lab = lb
    yield lb
    problems = lb.cleanup()
    rep = getattr(request.node, "rep_call", None)
    failed = rep is None or rep.failed or problems
    if not failed:
        lb.remove_files()
    if problems:
        pytest.fail("teardown: " + "\n".join(problems) + "\n\n" + lb.describe(), pytrace=False)


@pytest.fixture(scope="session")
def _sweep_stale_vardirs(_sweep_stale_runs):
    """Files (and stray postgres) of killed earlier runs under lab.VARROOT."""
    if IS_ROOT:
        labmod.sweep_stale_vardirs()


@pytest.fixture
def clab(request, binaries, _sweep_stale_vardirs):
    """Like `lab`, but a CheckLab: hosts can run HAProxy, PostgreSQL, helper servers."""
    if not IS_ROOT:
        pytest.skip("network tests need root (network namespaces)")
    lb = labmod.CheckLab(request.node.name)
    request.node._vipd_lab = lb
    yield lb
    problems = lb.cleanup()
    rep = getattr(request.node, "rep_call", None)
    failed = rep is None or rep.failed or problems
    if not failed:
        lb.remove_files()
    if problems:
        pytest.fail("teardown: " + "\n".join(problems) + "\n\n" + lb.describe(), pytrace=False)


@pytest.fixture
def hookdir():
    """A directory for hook and check scripts that vipd's script security
    accepts: root-owned, not writable by others, all the way up (under
    /var/lib, as /tmp is world-writable). Removed after the test."""
    d = tempfile.mkdtemp(prefix="vipd-hooks-", dir="/var/lib")
    os.chown(d, 0, 0)
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
