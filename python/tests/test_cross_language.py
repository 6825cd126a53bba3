"""Python and the C++ sample programs on one queue, both ways, a million messages each, every
payload checked (the format of samples_common/include/shmq_sample/payload.hpp)."""

import json
import os
import random
import subprocess

import shmq
import sample_payload
from conftest import HANG_TIMEOUT, program

COUNT = int(os.environ.get("SHMQ_PYTEST_CROSS_COUNT", 1_000_000))


def test_python_consumer_verifies_shmq_producer_payloads(queue_path):
    shmq.create_queue(queue_path, capacity=1 << 20)
    producer = subprocess.Popen(
        [program("shmq-producer"), "--queue", str(queue_path), "--count", str(COUNT), "--size", "64"],
        stderr=subprocess.PIPE, text=True)
    try:
        expected = 0
        problems = []
        with shmq.Consumer.open(queue_path) as consumer:
            for message in consumer:  # ends when the producer has exited and everything is read
                if message.sequence != expected and len(problems) < 10:
                    problems.append(f"sequence {message.sequence} where {expected} was expected")
                verdict = sample_payload.check(bytes(message.data), message.sequence)
                if verdict != "ok" and len(problems) < 10:
                    problems.append(f"message {message.sequence}: {verdict}")
                expected = message.sequence + 1
        assert producer.wait(timeout=HANG_TIMEOUT) == 0, producer.stderr.read()
        assert problems == []
        assert expected == COUNT
    finally:
        producer.kill()
        producer.wait()


def test_shmq_consumer_verifies_python_producer_payloads(queue_path):
    seed = int(os.environ.get("SHMQ_PYTEST_SEED", random.randrange(1 << 32)))
    print(f"seed {seed} (SHMQ_PYTEST_SEED={seed} repeats this run)")
    sizes = random.Random(seed)
    shmq.create_queue(queue_path, capacity=1 << 20)
    consumer = subprocess.Popen([program("shmq-consumer"), "--queue", str(queue_path), "--verify", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with shmq.Producer.open(queue_path) as producer:
            for sequence in range(COUNT):
                payload = sample_payload.make(sequence, sizes.randint(sample_payload.MIN_SIZE, 300))
                if sequence % 2:  # half of them written in place
                    reservation = producer.reserve(len(payload))
                    reservation.data[:] = payload
                    assert reservation.commit() == sequence
                else:
                    assert producer.send(payload) == sequence
        out, err = consumer.communicate(timeout=HANG_TIMEOUT)
        assert consumer.returncode == 0, err
        summary = json.loads(out)
        assert (summary["messages"], summary["gaps"], summary["duplicates"], summary["corrupt"]) == (COUNT, 0, 0, 0)
        assert (summary["verified"], summary["first_sequence"], summary["last_sequence"]) == (True, 0, COUNT - 1)
    finally:
        consumer.kill()
        consumer.wait()


def test_a_payload_changed_in_one_byte_fails_the_check():
    payload = bytearray(sample_payload.make(7, 80))
    assert sample_payload.check(bytes(payload), 7) == "ok"
    assert sample_payload.check(bytes(payload), 8) == "wrong_sequence"
    payload[50] ^= 1
    assert sample_payload.check(bytes(payload), 7) == "bad_checksum"
