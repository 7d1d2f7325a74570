"""The servers the tests start (the app, nginx, chromedriver with its Chromium), each in a process
group of its own: stopping one stops everything it started (nginx workers, Chromium's helpers),
and an interrupted run (Ctrl-C, SIGTERM) leaves nothing behind."""
import atexit
import os
import shutil
import signal
import subprocess


# nginx's path: on PATH, or in the sbin folders that Debian's login PATH leaves out for users
# other than root (the tests run as a user with sudo too). A missing nginx fails where it starts.
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/local/sbin:/usr/sbin:/sbin") or "nginx"

_groups = set()  # process group ids of servers still running
_signals = []  # the signals that interrupted this run


def spawn(args, **kwargs):
    """subprocess.Popen in a new session, so its process group is its own; killed at exit at
    the latest."""
    proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    _groups.add(proc.pid)
    return proc


def adopt(pgid):
    """Remembers a group started elsewhere (selenium's chromedriver) for `kill_all`."""
    _groups.add(pgid)


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _groups.discard(pgid)


def stop(proc, sig=signal.SIGTERM, timeout=10):
    """Sends `sig` to a spawned process, waits up to `timeout` s for it, then kills whatever is
    left of its group (the process itself if it did not stop, children it left). Returns its
    exit status."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    kill_group(proc.pid)
    return proc.wait()


def kill_all():
    for pgid in list(_groups):
        kill_group(pgid)


def interrupt_on_signals():
    """SIGTERM and SIGINT raise KeyboardInterrupt, so pytest stops and runs every fixture's
    finalizer (which stops its servers). SIGINT is set too because a shell starts background
    jobs with it ignored. A second signal kills every server at once."""
    def interrupt(signum, frame):
        _signals.append(signum)
        if len(_signals) > 1:
            kill_all()
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


atexit.register(kill_all)
