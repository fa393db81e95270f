"""`lossdoc watch` and `lossdoc run` end to end: a real writer process, a real child process.

No timed assertions: the writers are fast, lossdoc looks every 0.1 s, and the timeouts below only
keep a broken build from hanging the suite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

JOB = str(Path(__file__).with_name("job.py"))
GUARD = 120  # seconds: a failure guard, never a measurement


def lossdoc(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.Popen([sys.executable, "-m", "lossdoc", *args], cwd=cwd, text=True, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def writer(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, JOB, *args], cwd=cwd)


def finish(p: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=GUARD)
    return p.returncode, out, err


def wait_for_json(path: Path, pred, proc: subprocess.Popen[str]) -> dict:  # type: ignore[no-untyped-def]
    """Poll an output lossdoc rewrites until ``pred(doc)`` holds (it is replaced atomically, so
    every read parses)."""
    end = time.monotonic() + GUARD
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"lossdoc exited early: {proc.returncode} {proc.communicate()}")
        if path.exists():
            doc = json.loads(path.read_text())
            if pred(doc):
                return doc
        time.sleep(0.05)
    raise AssertionError(f"{path} never satisfied the condition")


def last_step(doc: dict) -> int | None:
    return doc["runs"][0]["summary"]["last_step"] if doc["runs"] else None


# ------------------------------------------------------------------------------------------ watch
def test_watch_nan_exits_1_at_once_and_notifies(tmp_path: Path) -> None:
    w = writer("nan", "--out", "train.log", "--steps", "400", "--sleep", "0.003", "--hang", cwd=tmp_path)
    try:
        p = lossdoc("watch", "train.log", "--interval", "0.1", "--exit-on", "error", "--json", "r.json",
                    "--no-html", "--notify", f"{sys.executable} -c \"import sys,json; d=json.load(sys.stdin); "
                    "open('alert.'+d['rule'], 'w').write(json.dumps(d))\"", cwd=tmp_path)
        code, out, err = finish(p)
    finally:
        w.kill()
        w.wait()
    assert code == 1, err
    nf = [line for line in out.splitlines() if "NF001 non-finite-loss" in line and line.startswith("[")]
    assert len(nf) == 1  # announced once, with its step
    assert "step 200" in nf[0]
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["verdict"] == "fail"
    alert = json.loads((tmp_path / "alert.NF001").read_text())
    assert alert["schema"] == "lossdoc/alert-1" and alert["severity"] == "error" and alert["start_step"] == 200


def test_watch_diverging_exits_1(tmp_path: Path) -> None:
    w = writer("diverge", "--out", "train.log", "--steps", "400", "--sleep", "0.002", "--hang", cwd=tmp_path)
    try:
        code, out, err = finish(lossdoc("watch", "train.log", "--interval", "0.1", "--exit-on", "error",
                                        "--no-html", cwd=tmp_path))
    finally:
        w.kill()
        w.wait()
    assert code == 1, err
    assert "DV001" in out


def test_watch_healthy_sigint_prints_summary_exits_0(tmp_path: Path) -> None:
    w = writer("healthy", "--out", "train.log", "--steps", "300", "--sleep", "0.002", cwd=tmp_path)
    p = lossdoc("watch", "train.log", "--interval", "0.1", "--exit-on", "error", "--json", "r.json",
                "--html", "r.html", cwd=tmp_path)
    try:
        w.wait(timeout=GUARD)
        wait_for_json(tmp_path / "r.json", lambda d: last_step(d) == 299, p)
        p.send_signal(signal.SIGINT)
        code, out, err = finish(p)
    finally:
        p.kill()
    assert code == 0, err
    assert "PASS" in out and "JSON report: r.json" in out
    assert (tmp_path / "r.html").read_text().lstrip().startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob(".r.*"))  # no temporary file left behind


def test_watch_sigint_exit_code_is_analyze_exit_code(tmp_path: Path) -> None:
    """Without --exit-on, a NaN run is reported on Ctrl-C with analyze's exit code (1)."""
    w = writer("nan", "--out", "train.log", "--steps", "200", "--sleep", "0.002", cwd=tmp_path)
    p = lossdoc("watch", "train.log", "--interval", "0.1", "--json", "r.json", "--no-html", cwd=tmp_path)
    try:
        w.wait(timeout=GUARD)
        wait_for_json(tmp_path / "r.json", lambda d: last_step(d) == 199, p)
        p.send_signal(signal.SIGINT)
        code, out, err = finish(p)
    finally:
        p.kill()
    assert code == 1, err
    assert "FAIL" in out and "NF001" in out
    analyze = subprocess.run([sys.executable, "-m", "lossdoc", "analyze", "train.log", "--no-html", "-q"],
                             cwd=tmp_path, check=False)
    assert analyze.returncode == code


@pytest.mark.parametrize("how", ["--rotate-at", "--truncate-at"])
def test_watch_survives_rotation_and_truncation(tmp_path: Path, how: str) -> None:
    """The log is rotated (or truncated) at step 150; the NaN from step 200 is still caught and the
    rows from before the rotation are kept."""
    p = lossdoc("watch", "train.log", "--interval", "0.1", "--exit-on", "error", "--json", "r.json",
                "--no-html", cwd=tmp_path)  # started before the log exists
    w = writer("nan", "--out", "train.log", "--steps", "400", "--sleep", "0.003", how, "150", "--hang",
               "--wait-for", "go", cwd=tmp_path)
    try:
        # The writer rotates only once lossdoc has read the lines before the rotation.
        wait_for_json(tmp_path / "r.json", lambda d: last_step(d) == 149, p)
        (tmp_path / "go").touch()
        code, out, err = finish(p)
    finally:
        w.kill()
        w.wait()
    assert code == 1, err
    assert ("rotated" if how == "--rotate-at" else "truncated") in err
    doc = json.loads((tmp_path / "r.json").read_text())
    loss = next(s for s in doc["runs"][0]["series"] if s["metric"] == "loss")
    assert loss["first_step"] == 0  # rows of the first file kept
    assert any(f["rule"] == "NF001" and f["start_step"] == 200 for f in doc["runs"][0]["findings"])


def test_watch_tensorboard_logdir_nan(tmp_path: Path) -> None:
    w = writer("nan", "--tb", "logs/run1", "--steps", "400", "--sleep", "0.003", "--hang", cwd=tmp_path)
    try:
        (tmp_path / "logs").mkdir(exist_ok=True)
        code, out, err = finish(lossdoc("watch", "logs", "--interval", "0.1", "--exit-on", "error",
                                        "--json", "r.json", "--no-html", cwd=tmp_path))
    finally:
        w.kill()
        w.wait()
    assert code == 1, err
    assert "(tensorboard;" in err
    nf = [line for line in out.splitlines() if "NF001 non-finite-loss" in line and line.startswith("[")]
    assert len(nf) == 1 and "step 200" in nf[0]


def test_watch_run_directory_nan(tmp_path: Path) -> None:
    """A Lightning run directory (metrics.csv growing beside hparams.yaml), re-read when it changes."""
    w = writer("nan", "--lightning", "lightning_logs/version_0", "--steps", "400", "--sleep", "0.003", "--hang",
               cwd=tmp_path)
    try:
        (tmp_path / "lightning_logs" / "version_0").mkdir(parents=True, exist_ok=True)
        code, out, err = finish(lossdoc("watch", "lightning_logs/version_0", "--interval", "0.1", "--exit-on",
                                        "error", "--json", "r.json", "--no-html", cwd=tmp_path))
    finally:
        w.kill()
        w.wait()
    assert code == 1, err
    assert "(lightning-csv;" in err
    nf = [line for line in out.splitlines() if " NF001 non-finite-loss: " in line and line.startswith("[")]
    assert len(nf) == 1 and "step 200" in nf[0]
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["runs"][0]["config"].get("learning_rate") == 0.001  # from hparams.yaml beside it


def test_watch_missing_output_dir_and_input_as_output(tmp_path: Path) -> None:
    (tmp_path / "train.log").write_text("iter 0: loss 2.0, time 1ms, mfu 1%\n")
    code, out, err = finish(lossdoc("watch", "train.log", "--json", "train.log", cwd=tmp_path))
    assert code == 2 and "overwrite" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------ run
def run_lossdoc(*args: str, cwd: Path) -> tuple[int, str, str]:
    return finish(lossdoc(*args, cwd=cwd))


def test_run_healthy_tees_and_exits_0(tmp_path: Path) -> None:
    code, out, err = run_lossdoc("run", "--log", "job.log", "--interval", "0.1", "--stop-on", "error",
                                 "--json", "r.json", "--no-html", "--", sys.executable, JOB, "healthy",
                                 "--steps", "200", cwd=tmp_path)
    assert code == 0, err
    assert "iter 199: loss" in out  # teed to the terminal
    log = (tmp_path / "job.log").read_text()
    assert "iter 199: loss" in log and "training done" in log
    assert last_step(json.loads((tmp_path / "r.json").read_text())) == 199


def test_run_passes_exit_code_through(tmp_path: Path) -> None:
    code, out, err = run_lossdoc("run", "--log", "job.log", "--interval", "0.1", "--no-html", "--",
                                 sys.executable, JOB, "healthy", "--steps", "50", "--exit", "3", cwd=tmp_path)
    assert code == 3, err


def test_run_child_killed_by_signal_exits_128_plus_n(tmp_path: Path) -> None:
    code, out, err = run_lossdoc("run", "--log", "job.log", "--interval", "0.1", "--no-html", "--",
                                 sys.executable, JOB, "healthy", "--steps", "100", "--kill-self-at", "60",
                                 cwd=tmp_path)
    assert code == 128 + signal.SIGKILL, err
    assert "iter 59:" in (tmp_path / "job.log").read_text()


@pytest.mark.parametrize("mode,rule", [("nan", "NF001"), ("diverge", "DV001")])
def test_run_stops_the_job_on_a_finding(tmp_path: Path, mode: str, rule: str) -> None:
    code, out, err = run_lossdoc("run", "--log", "job.log", "--interval", "0.1", "--stop-on", "error",
                                 "--grace", "30", "--json", "r.json", "--no-html", "--", sys.executable, JOB,
                                 mode, "--steps", "400", "--sleep", "0.003", "--hang", cwd=tmp_path)
    assert code == 1, err
    assert "stopping the job" in err and rule in err
    assert "SIGTERM" not in err  # the job stopped on SIGINT
    doc = json.loads((tmp_path / "r.json").read_text())
    assert any(f["rule"] == rule for f in doc["runs"][0]["findings"])


def test_run_escalates_when_the_job_ignores_sigint(tmp_path: Path) -> None:
    code, out, err = run_lossdoc("run", "--log", "job.log", "--interval", "0.1", "--stop-on", "error",
                                 "--grace", "0.5", "--no-html", "--", sys.executable, JOB, "nan", "--steps", "300",
                                 "--sleep", "0.002", "--hang", "--ignore-sigint", cwd=tmp_path)
    assert code == 1, err
    assert "after SIGINT; sending SIGTERM" in err


def test_run_escalates_to_sigkill(tmp_path: Path) -> None:
    code, out, err = run_lossdoc("run", "--log", "job.log", "--interval", "0.1", "--stop-on", "error",
                                 "--grace", "0.3", "--no-html", "--", sys.executable, JOB, "nan", "--steps", "300",
                                 "--sleep", "0.002", "--hang", "--ignore-sigint", "--ignore-sigterm", cwd=tmp_path)
    assert code == 1, err
    assert "sending SIGKILL" in err


def test_run_ctrl_c_reaches_the_job(tmp_path: Path) -> None:
    """SIGINT to lossdoc (no terminal here, so it is forwarded): the job gets KeyboardInterrupt and
    dies of SIGINT; lossdoc exits 130 after writing the report."""
    p = lossdoc("run", "--log", "job.log", "--interval", "0.1", "--json", "r.json", "--no-html", "--",
                sys.executable, JOB, "healthy", "--steps", "100", "--hang", cwd=tmp_path)
    try:
        wait_for_json(tmp_path / "r.json", lambda d: last_step(d) == 99, p)
        p.send_signal(signal.SIGINT)
        code, out, err = finish(p)
    finally:
        p.kill()
    assert code == 128 + signal.SIGINT, err
    assert "KeyboardInterrupt" in (tmp_path / "job.log").read_text()


def test_run_command_not_found(tmp_path: Path) -> None:
    code, out, err = run_lossdoc("run", "--log", "job.log", "--", "no-such-command-xyz", cwd=tmp_path)
    assert code == 2 and "cannot start" in err and "Traceback" not in err


def test_run_keeps_the_job_when_the_watch_fails(tmp_path: Path, monkeypatch, capfd) -> None:
    """A failure of the watch (here: made to fail) costs the job nothing: it runs to its end, teed."""
    from lossdoc import live

    def broken_step(self, final: bool = False):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(live.Watcher, "step", broken_step)
    monkeypatch.chdir(tmp_path)
    code, report = live.run_job([sys.executable, JOB, "healthy", "--steps", "100", "--sleep", "0.002"],
                                str(tmp_path / "job.log"), live.WatchOptions(interval=0.1))
    err = capfd.readouterr().err
    assert "simulated failure" in err and "the job keeps running" in err
    assert "training done" in (tmp_path / "job.log").read_text()  # the job ran to its end
    assert code == 2 and report is None


CTRL_C_JOB = """
import signal, sys, time
got = []
def on_int(signum, frame):
    got.append(signum)
    print(f"SIGINT number {len(got)}", flush=True)
signal.signal(signal.SIGINT, on_int)
for i in range(50):
    print(f"iter {i}: loss {3 - i / 100:.4f}, time 10.00ms, mfu 1.00%", flush=True)
print("ready", flush=True)
while not got:
    time.sleep(0.01)
time.sleep(1.0)  # long enough for a second, forwarded SIGINT to arrive if lossdoc sent one
sys.exit(7)
"""


def test_ctrl_c_in_a_terminal_reaches_the_job_once(tmp_path: Path) -> None:
    """In a terminal, Ctrl-C goes to the whole foreground process group (lossdoc and the job):
    lossdoc must not send the job a second SIGINT, and exits with the job's status."""
    import pty

    (tmp_path / "ctrlc.py").write_text(CTRL_C_JOB)
    pid, fd = pty.fork()
    if pid == 0:  # the child: lossdoc on the pty's slave side, in the foreground process group
        os.chdir(tmp_path)
        os.environ["NO_COLOR"] = "1"
        os.execv(sys.executable, [sys.executable, "-m", "lossdoc", "run", "--log", "job.log", "--interval", "0.1",
                                  "--no-html", "--", sys.executable, "ctrlc.py"])
    out = b""
    sent = False
    end = time.monotonic() + GUARD
    status = None
    while time.monotonic() < end:
        import select

        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            out += chunk
        if not sent and b"ready" in out:
            os.write(fd, b"\x03")  # Ctrl-C typed at the terminal
            sent = True
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    os.close(fd)
    assert status is not None, out.decode(errors="replace")
    log = (tmp_path / "job.log").read_text()
    assert "SIGINT number 1" in log and "SIGINT number 2" not in log, log
    assert os.waitstatus_to_exitcode(status) == 7


def test_watch_json_to_stdout_is_one_document_at_the_end(tmp_path: Path) -> None:
    w = writer("nan", "--out", "train.log", "--steps", "300", "--sleep", "0.002", "--hang", cwd=tmp_path)
    try:
        code, out, err = finish(lossdoc("watch", "train.log", "--interval", "0.1", "--exit-on", "error",
                                        "--json", "-", "--no-html", cwd=tmp_path))
    finally:
        w.kill()
        w.wait()
    assert code == 1, err
    doc = json.loads(out)  # stdout holds exactly one JSON document
    assert doc["verdict"] == "fail"
    assert "NF001" in err  # the finding as it came, on stderr


def test_watch_refuses_an_output_that_is_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "train.log").write_text("iter 0: loss 2.0, time 1ms, mfu 1%\n")
    (tmp_path / "elsewhere.html").write_text("precious")
    (tmp_path / "r.html").symlink_to(tmp_path / "elsewhere.html")
    code, out, err = finish(lossdoc("watch", "train.log", "--html", "r.html", cwd=tmp_path))
    assert code == 2 and "symbolic link" in err
    assert (tmp_path / "elsewhere.html").read_text() == "precious"
