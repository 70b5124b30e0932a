"""Run a command with a wall-clock deadline that holds even when it prints nothing.

bin/test's Odoo run once hung silently after its last test: its output was
read line by line until the pipe closed, and the timeout was only checked when
a line came. Here the waiting side watches the process itself, and the
deadline is kept whatever the pipe does. When it passes,
``on_timeout()`` reports what it can (bin/test: the database's sessions and
locks), the process prints every thread's stack (Python's faulthandler on
SIGABRT, which works even when the main thread is blocked inside C, where a
Python signal handler would never run), then its whole process group (Chrome,
wkhtmltopdf, ...) is killed.
"""

import os
import signal
import subprocess
import threading
import time

# time the process gets to print its stacks after SIGABRT
DUMP_GRACE = 5


def run(
    cmd,
    deadline,
    on_line,
    *,
    stdin_text=None,
    cwd=None,
    on_timeout=None,
    finished=None,
    exit_grace=60,
):
    """Run ``cmd``, calling ``on_line(line)`` for each line it prints (stdout and
    stderr together). Return (exit code, timed out) after at most about
    ``deadline`` seconds, or ``exit_grace`` seconds after ``finished()`` first
    returns True (the process said its last word and should be exiting)."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def read():
        for line in proc.stdout:
            on_line(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if stdin_text is not None:
        try:
            proc.stdin.write(stdin_text)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # it ended before reading: its exit code and output tell why
    timed_out = False
    end = time.monotonic() + deadline
    while proc.poll() is None:
        time.sleep(0.2)
        if finished and finished():
            end = min(end, time.monotonic() + exit_grace)
            finished = None
        if time.monotonic() > end:
            timed_out = True
            break
    if timed_out:
        if on_timeout:
            on_timeout()
        try:
            os.kill(proc.pid, signal.SIGABRT)
        except ProcessLookupError:
            pass
        time.sleep(DUMP_GRACE)
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
    # whatever it left running goes with it: Odoo starts Chrome with its own
    # stdout, so a browser process outliving Odoo holds the pipe open (the
    # old reading loop then waited for its end forever)
    left = _group_members(proc)
    if left:
        print(f"stopped {len(left)} process(es) left running: {', '.join(left)}")
    _signal_group(proc, signal.SIGKILL)
    # a grandchild may keep the pipe open: read what is there, not forever
    reader.join(timeout=DUMP_GRACE)
    return proc.returncode, timed_out


def _group_members(proc):
    out = subprocess.run(
        ["pgrep", "-l", "-g", str(proc.pid)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [" ".join(line.split()[::-1]) for line in out.stdout.splitlines()]


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
