#!/usr/bin/env python3
"""Messages per second between two processes from Python: shmq against multiprocessing.Queue and
multiprocessing.Pipe (send_bytes/recv_bytes), Python to Python, and the C++ shmq-producer to a
Python consumer reading in place.

    PYTHONPATH=build/release/python python3 bench/python/throughput.py [--rounds 3] [--build build/release]

The producer and the consumer are pinned to CPUs 0 and 1. Every transport moves the same count of
messages of one size; the consumer touches each message's first byte; the rate is counted from the
consumer's first message to its last. The rounds alternate the transports, and the table gives each
one's median and its ratio to multiprocessing.Queue measured in the same run.
"""

import argparse
import multiprocessing
import os
import pathlib
import statistics
import subprocess
import sys
import time

import shmq

REPO = pathlib.Path(__file__).resolve().parents[2]
QUEUE = "/dev/shm/shmq-bench-python"


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and cpu < os.cpu_count():
        os.sched_setaffinity(0, {cpu})


def remove_queue() -> None:
    pathlib.Path(QUEUE).unlink(missing_ok=True)


# Each consumer returns (messages, seconds from the first message to the last).


def shmq_producer(count: int, size: int, ready) -> None:
    pin(0)
    payload = b"x" * size
    with shmq.Producer.open(QUEUE) as producer:
        ready.wait()
        send = producer.send
        for _ in range(count):
            send(payload)


def shmq_iterate(consumer) -> tuple[int, float]:
    count, first = 0, None
    for message in consumer:
        if first is None:
            first = time.perf_counter()
        message.data[0]
        count += 1
    return count, time.perf_counter() - first


def shmq_poll(consumer) -> tuple[int, float]:
    count, first = 0, None

    def touch(message):
        message.data[0]

    while True:
        n = consumer.poll(touch, 4096)
        if n == 0:
            try:
                message = consumer.receive()
            except shmq.PeerGone:
                break
            if first is None:
                first = time.perf_counter()
            message.data[0]
            n = 1
        count += n
    return count, time.perf_counter() - first


def run_shmq(count: int, size: int, read, cpp: bool, build: pathlib.Path) -> float:
    remove_queue()
    shmq.create_queue(QUEUE, capacity=4 << 20)
    try:
        pin(1)
        with shmq.Consumer.open(QUEUE) as consumer:
            if cpp:
                producer = subprocess.Popen(
                    ["taskset", "-c", "0", build / "producer" / "shmq-producer", "--queue", QUEUE, "--count", str(count),
                     "--size", str(size), "--quiet"], stderr=subprocess.DEVNULL)
            else:
                ready = multiprocessing.Event()
                producer = multiprocessing.Process(target=shmq_producer, args=(count, size, ready))
                producer.start()
                ready.set()
            received, seconds = read(consumer)
            producer.wait() if cpp else producer.join()
        assert received == count, f"received {received} of {count}"
        return count / seconds
    finally:
        remove_queue()


def queue_producer(q, count: int, size: int) -> None:
    pin(0)
    payload = b"x" * size
    for _ in range(count):
        q.put(payload)
    q.put(None)


def run_queue(count: int, size: int) -> float:
    pin(1)
    q = multiprocessing.Queue()
    producer = multiprocessing.Process(target=queue_producer, args=(q, count, size))
    producer.start()
    first = None
    received = 0
    while (item := q.get()) is not None:
        if first is None:
            first = time.perf_counter()
        item[0]
        received += 1
    seconds = time.perf_counter() - first
    producer.join()
    assert received == count
    return count / seconds


def pipe_producer(end, count: int, size: int) -> None:
    pin(0)
    payload = b"x" * size
    for _ in range(count):
        end.send_bytes(payload)
    end.send_bytes(b"")


def run_pipe(count: int, size: int) -> float:
    pin(1)
    receiving, sending = multiprocessing.Pipe(duplex=False)
    producer = multiprocessing.Process(target=pipe_producer, args=(sending, count, size))
    producer.start()
    sending.close()
    first = None
    received = 0
    while item := receiving.recv_bytes():
        if first is None:
            first = time.perf_counter()
        item[0]
        received += 1
    seconds = time.perf_counter() - first
    producer.join()
    assert received == count
    return count / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=1_000_000, help="messages per shmq run")
    parser.add_argument("--baseline-count", type=int, default=200_000,
                        help="messages per multiprocessing.Queue / Pipe run (they are slower)")
    parser.add_argument("--build", type=pathlib.Path, default=REPO / "build" / "release")
    args = parser.parse_args()
    multiprocessing.set_start_method("fork")

    transports = {
        "multiprocessing.Queue": lambda size: run_queue(args.baseline_count, size),
        "multiprocessing.Pipe (send_bytes)": lambda size: run_pipe(args.baseline_count, size),
        "shmq Python -> Python (send / for msg in consumer)": lambda size: run_shmq(args.count, size, shmq_iterate,
                                                                                     False, args.build),
        "shmq Python -> Python (send / poll)": lambda size: run_shmq(args.count, size, shmq_poll, False, args.build),
        "shmq C++ shmq-producer -> Python (for msg in consumer)": lambda size: run_shmq(args.count, size,
                                                                                         shmq_iterate, True,
                                                                                         args.build),
        "shmq C++ shmq-producer -> Python (poll)": lambda size: run_shmq(args.count, size, shmq_poll, True,
                                                                          args.build),
    }
    sizes = [64, 4096]
    rates = {(name, size): [] for name in transports for size in sizes}
    for round_ in range(args.rounds):
        for size in sizes:
            for name, run in transports.items():
                rates[(name, size)].append(run(size))
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, median of {args.rounds} alternated rounds; "
          f"shmq runs move {args.count} messages, the baselines {args.baseline_count}.")
    print()
    print("| messages/s | " + " | ".join(f"{s} B" for s in sizes) + " | " +
          " | ".join(f"{s} B vs Queue" for s in sizes) + " |")
    print("|---|" + "---:|" * (2 * len(sizes)))
    for name in transports:
        medians = [statistics.median(rates[(name, s)]) for s in sizes]
        ratios = [m / statistics.median(rates[("multiprocessing.Queue", s)]) for m, s in zip(medians, sizes)]
        print(f"| {name} | " + " | ".join(f"{m / 1e3:,.0f} k" for m in medians) + " | " +
              " | ".join(f"{r:.1f}x" for r in ratios) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
