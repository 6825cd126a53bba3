"""shmq.SpoolWriter and shmq.SpoolHandler: Python processes log into a spool, the real shipper
(shmq-logd) ships it, and every line arrives exactly once, in order, even after kill -9."""

import logging
import os
import pathlib
import signal
import struct
import subprocess
import sys
import threading

import pytest

import shmq
from conftest import BUILD_DIR, HANG_TIMEOUT

if not hasattr(shmq, "SpoolWriter"):
    pytest.skip("the module was built without the logging spool (SHMQ_BUILD_LOG)", allow_module_level=True)

MODULE_DIR = str(pathlib.Path(shmq.__file__).resolve().parent)


def child_env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [MODULE_DIR, os.environ.get("PYTHONPATH")])))


def shmq_logd():
    path = BUILD_DIR / "logd" / "shmq-logd"
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is not built (set SHMQ_BUILD_DIR)")
    return path


def ship(spool, output):
    """Runs shmq-logd until every queue in the spool is shipped and removed. Returns the shipped
    lines and shmq-logd's own notes in the output ("shmq-logd: <queue>: process N ended cleanly")."""
    run = subprocess.run([shmq_logd(), "--spool", str(spool), "--output", str(output), "--exit-when-drained"],
                         capture_output=True, text=True, timeout=HANG_TIMEOUT)
    assert run.returncode == 0, run.stderr
    assert not [p for p in spool.iterdir() if p.suffix == ".q"], "shmq-logd left queues behind"
    lines = output.read_text().splitlines()
    notes = [line for line in lines if line.startswith("shmq-logd: ")]
    return [line for line in lines if not line.startswith("shmq-logd: ")], notes


# Logs numbered lines through a SpoolHandler; prints each number once its logging call returned.
CHILD = r"""
import logging, sys
import shmq
shmq.set_log_level("warning")
spool, count = sys.argv[1], int(sys.argv[2])
handler = shmq.SpoolHandler(spool)
handler.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("child")
log.addHandler(handler)
log.setLevel(logging.INFO)
log.propagate = False
i = 0
while count < 0 or i < count:
    log.info("line %d", i)
    if count < 0:
        print(i, flush=True)
    i += 1
"""


def test_every_line_shipped_once_in_order(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    count = 2000
    subprocess.run([sys.executable, "-c", CHILD, str(spool), str(count)], env=child_env(), check=True,
                   timeout=HANG_TIMEOUT)
    lines, notes = ship(spool, tmp_path / "out.log")
    assert lines == [f"line {i}" for i in range(count)]
    assert len(notes) == 1 and notes[0].endswith("ended cleanly")  # logging.shutdown() closed the handler


def test_no_loss_on_kill_9(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(spool), "-1"], env=child_env(),
                             stdout=subprocess.PIPE, text=True)
    reported = []
    try:
        for number in child.stdout:  # ends only if the child dies early; the kill below ends it
            reported.append(int(number))
            if len(reported) >= 500:
                break
        child.kill()  # SIGKILL
        # Numbers already written to the pipe were logged before they were printed: keep them too.
        reported.extend(int(n) for n in child.stdout.read().split())
    finally:
        child.kill()
        child.wait(timeout=HANG_TIMEOUT)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert len(reported) >= 500
    lines, _ = ship(spool, tmp_path / "out.log")
    shipped = [int(line.removeprefix("line ")) for line in lines]
    assert shipped == list(range(len(shipped)))  # in order, once each, no holes
    assert len(shipped) >= reported[-1] + 1  # every reported number is there


def test_threads_share_one_writer(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    writer = shmq.SpoolWriter(spool)
    threads, count = 4, 500

    def log(t):
        for i in range(count):
            assert writer.write(2, f"thread{t}", f"{t} {i}")

    workers = [threading.Thread(target=log, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=HANG_TIMEOUT)
        assert not worker.is_alive()
    writer.close()
    lines, _ = ship(spool, tmp_path / "out.log")
    assert len(lines) == threads * count
    for t in range(threads):
        assert [line for line in lines if line.startswith(f"{t} ")] == [f"{t} {i}" for i in range(count)]


def test_drop_when_full(tmp_path):
    with shmq.SpoolWriter(tmp_path, capacity=4096, when_full="drop") as writer:
        published = 0
        while writer.write(2, "app", "x" * 100):  # no shipper: the ring fills up
            published += 1
            assert published < 4096, "a 4 KiB queue never filled up"
        assert writer.dropped == 1
        while writer.write(3, "app", "y"):  # a shorter line may still fit where the long one did not
            published += 1
            assert published < 4096, "a 4 KiB queue never filled up"
        assert writer.dropped == 2
        assert pathlib.Path(writer.queue_path).parent == tmp_path
    assert writer.closed
    assert writer.dropped == 2
    with pytest.raises(shmq.UsageError):
        writer.write(2, "app", "z")


def test_bad_options(tmp_path):
    with pytest.raises(ValueError):
        shmq.SpoolWriter(tmp_path, when_full="wait")
    with pytest.raises(shmq.InvalidArgument):
        shmq.SpoolWriter(tmp_path, capacity=1000)
    with pytest.raises(shmq.IoError):
        shmq.SpoolWriter(tmp_path / "missing")
    with shmq.SpoolWriter(tmp_path) as writer, pytest.raises(ValueError):
        writer.write(6, "app", "no such level")


HEADER = struct.Struct("<HBBBBHQQ")  # record.hpp: magic, version, kind, level, flags, name length, time, thread


def decode(data):
    magic, version, kind, level, flags, name_length, time_ns, thread = HEADER.unpack_from(data)
    assert (magic, version) == (0x6C72, 1)
    name = bytes(data[HEADER.size:HEADER.size + name_length]).decode()
    text = bytes(data[HEADER.size + name_length:]).decode()
    return kind, level, name, time_ns, thread, text


def test_levels_and_logger_name(tmp_path):
    # Two handlers on one logger: the records of one are read back with shmq.Consumer (the level
    # numbers are in the record, not the line), those of the other are shipped by shmq-logd.
    spool, direct = tmp_path / "spool", tmp_path / "direct"
    spool.mkdir()
    direct.mkdir()
    shipped = shmq.SpoolHandler(spool, program="levels")
    decoded = shmq.SpoolHandler(direct)
    for handler in (shipped, decoded):
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    log = logging.getLogger("app.orders")
    log.setLevel(1)
    log.propagate = False
    assert pathlib.Path(shipped.queue_path).name.startswith(f"levels.{os.getpid()}.")
    log.addHandler(shipped)
    log.addHandler(decoded)
    try:
        log.log(5, "five")
        log.debug("dbg")
        log.info("inf")
        log.warning("wrn")
        log.error("err")
        log.critical("crit")
        log.log(60, "beyond")
    finally:
        log.removeHandler(shipped)
        log.removeHandler(decoded)
        shipped.close()
    records = []
    with shmq.Consumer.open(decoded.queue_path) as consumer:
        while (msg := consumer.try_receive()) is not None:
            records.append(decode(msg.data))
        consumer.release()
    decoded.close()
    assert [(r[1], r[2], r[5]) for r in records] == [
        (0, "app.orders", "Level 5 app.orders five"), (1, "app.orders", "DEBUG app.orders dbg"),
        (2, "app.orders", "INFO app.orders inf"), (3, "app.orders", "WARNING app.orders wrn"),
        (4, "app.orders", "ERROR app.orders err"), (5, "app.orders", "CRITICAL app.orders crit"),
        (5, "app.orders", "Level 60 app.orders beyond")]
    assert all(r[0] == 1 for r in records)  # line records
    assert all(r[4] == threading.get_ident() for r in records)  # record.thread
    assert all(abs(r[3] - records[0][3]) < 60 * 10**9 for r in records)
    lines, notes = ship(spool, tmp_path / "out.log")
    assert lines == [r[5] for r in records]
    assert len(notes) == 1 and notes[0].endswith("ended cleanly")


def test_emit_errors_go_to_handle_error(tmp_path):
    handler = shmq.SpoolHandler(tmp_path)
    failures = []
    handler.handleError = failures.append
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "%d", ("not a number",), None)
    handler.emit(record)
    assert failures == [record]
    handler.close()
    handler.close()  # logging.shutdown() may close it again
    handler.flush()
