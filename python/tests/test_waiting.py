"""Blocking calls: Ctrl-C interrupts them, a killed peer ends them, and other threads keep running."""

import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import pytest

import shmq
from conftest import HANG_TIMEOUT, program

MODULE_DIR = str(pathlib.Path(shmq.__file__).resolve().parent)
FUTEX_SYSCALL = "202"  # x86-64


def child_env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [MODULE_DIR, os.environ.get("PYTHONPATH")])))


def parked_on_queue(task: str, queue: pathlib.Path) -> bool:
    """Whether the thread /proc/<task> sleeps in futex(2) on a word of the queue's mapping: a
    waiting call has parked (a thread waiting for the GIL sleeps on a futex elsewhere)."""
    with open(f"/proc/{task}/syscall") as f:
        fields = f.read().split()
    if fields[0] != FUTEX_SYSCALL:
        return False
    address = int(fields[1], 16)
    pid = task.split("/")[0]
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and parts[5].strip() == str(queue):
                start, end = (int(x, 16) for x in parts[0].split("-"))
                if start <= address < end:
                    return True
    return False


def wait_until_parked(task: str, queue: pathlib.Path):
    deadline = time.monotonic() + HANG_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if parked_on_queue(task, queue):
                return
        except PermissionError:
            pytest.skip("/proc/<pid>/syscall is not readable here")
        time.sleep(0.001)  # polling the condition above, not waiting for it to happen
    raise AssertionError(f"hang: thread {task} never parked on {queue}")


def main_thread_task() -> str:
    return f"{os.getpid()}/task/{threading.main_thread().native_id}"


# The child installs Python's SIGINT handler itself: started from a shell job that ignores SIGINT
# (a background `cmd &` without job control), it would inherit SIG_IGN and never see Ctrl-C.
CHILD_RECEIVE = """
import signal, sys, shmq
signal.signal(signal.SIGINT, signal.default_int_handler)
consumer = shmq.Consumer.open(sys.argv[1])
print("waiting", flush=True)
try:
    consumer.receive()
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(0)
print("receive returned", flush=True)
sys.exit(1)
"""


def test_ctrl_c_interrupts_a_blocked_receive(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096):  # attached and silent: the child waits
        child = subprocess.Popen([sys.executable, "-c", CHILD_RECEIVE, str(queue_path)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=child_env())
        try:
            assert child.stdout.readline() == "waiting\n"
            wait_until_parked(str(child.pid), queue_path)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=HANG_TIMEOUT)
        finally:
            child.kill()
        assert (child.returncode, out) == (0, "interrupted\n"), err


def test_a_producer_killed_while_python_waits_gives_peer_gone(queue_path):
    shmq.create_queue(queue_path, capacity=4096)
    producer = subprocess.Popen([program("shmq-producer"), "--queue", str(queue_path), "--stdin"],
                                stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        with shmq.Consumer.open(queue_path) as consumer:
            producer.stdin.write(b"hello\n")
            producer.stdin.flush()  # the producer now waits for more input, attached
            message = consumer.receive(timeout=HANG_TIMEOUT)
            assert message is not None and bytes(message.data) == b"hello"
            consumer.release()
            killed_at = []

            def kill_when_parked():
                wait_until_parked(main_thread_task(), queue_path)
                killed_at.append(time.monotonic())
                producer.kill()

            killer = threading.Thread(target=kill_when_parked)
            killer.start()
            with pytest.raises(shmq.PeerGone):
                consumer.receive(timeout=HANG_TIMEOUT)
            noticed = time.monotonic() - killed_at[0]
            killer.join()
            print(f"peer_gone {noticed * 1000:.0f} ms after SIGKILL (liveness interval 100 ms)")
    finally:
        producer.kill()
        producer.wait()


CHILD_CONSUMER = """
import sys, shmq
consumer = shmq.Consumer.open(sys.argv[1])
print("attached", flush=True)
sys.stdin.read()  # stays attached, receiving nothing, until killed
"""


def test_a_consumer_killed_while_python_waits_for_room_gives_peer_gone(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer:
        child = subprocess.Popen([sys.executable, "-c", CHILD_CONSUMER, str(queue_path)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=child_env())
        try:
            assert child.stdout.readline() == "attached\n"
            while producer.try_send(b"x" * 500) is not None:
                pass

            def kill_when_parked():
                wait_until_parked(main_thread_task(), queue_path)
                child.kill()

            killer = threading.Thread(target=kill_when_parked)
            killer.start()
            with pytest.raises(shmq.PeerGone, match="consumer is gone"):
                producer.send(b"x" * 500, timeout=HANG_TIMEOUT)
            killer.join()
        finally:
            child.kill()
            child.wait()


def test_other_threads_run_while_one_waits_and_cannot_use_the_same_handle(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        result = []
        waiter = threading.Thread(target=lambda: result.append(consumer.receive(timeout=HANG_TIMEOUT)))
        waiter.start()
        wait_until_parked(f"{os.getpid()}/task/{waiter.native_id}", queue_path)  # and this thread runs meanwhile
        with pytest.raises(shmq.UsageError, match="another thread"):
            consumer.try_receive()
        with pytest.raises(shmq.UsageError):
            consumer.close()
        producer.send(b"wake up")
        waiter.join(HANG_TIMEOUT)
        assert bytes(result[0].data) == b"wake up"


def test_an_abandoned_executor_receive_does_not_wedge_the_consumer(queue_path):
    """asyncio.wait_for gives up on run_in_executor(consumer.receive), whose thread goes on waiting:
    the next waiting call takes the handle over, the abandoned one raises UsageError in its thread."""
    import asyncio
    import concurrent.futures

    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)

        abandoned = executor.submit(consumer.receive)  # what loop.run_in_executor(executor, ...) does

        async def give_up():
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.wrap_future(abandoned), 0.05)

        asyncio.run(give_up())
        assert consumer.receive(timeout=0.2) is None  # takes over; before, UsageError until a message came
        assert isinstance(abandoned.exception(timeout=HANG_TIMEOUT), shmq.UsageError)
        assert consumer.try_receive() is None  # no other thread holds the handle any more
        producer.send(b"after")
        message = consumer.receive(timeout=HANG_TIMEOUT)
        assert (message.sequence, bytes(message)) == (0, b"after")
        executor.shutdown()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a file system (loop device) and freezes it")
def test_sync_runs_signal_handlers_while_it_waits(tmp_path):
    """sync() of a durable queue on a frozen file system blocks in the kernel until it is thawed; a
    signal handler runs meanwhile (here it thaws the file system) and its exception is raised once
    the sync is done."""
    image, mount = tmp_path / "fs.img", tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(["truncate", "-s", "32M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mount)], check=True)

    class Interrupted(Exception):
        pass

    handled = []
    thawed_by_watchdog = []

    def thaw():
        subprocess.run(["fsfreeze", "-u", str(mount)], capture_output=True)

    def on_alarm(signum, frame):
        handled.append(signum)
        thaw()
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, on_alarm)
    watchdog = threading.Timer(HANG_TIMEOUT, lambda: (thawed_by_watchdog.append(True), thaw()))
    try:
        with shmq.Producer.create(mount / "q", capacity=1 << 16, durable=True, checkpoint_interval=0) as producer:
            producer.send(b"x" * 100)
            subprocess.run(["fsfreeze", "-f", str(mount)], check=True)
            watchdog.start()
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            with pytest.raises(Interrupted):
                producer.sync()
            assert handled == [signal.SIGALRM] and not thawed_by_watchdog
            assert producer.sync() == 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        watchdog.cancel()
        thaw()
        subprocess.run(["umount", str(mount)], check=True)
