"""fork() (multiprocessing's default start method on Linux) and pickling: a child never reaches the
parent's ring through anything it inherited, and nothing that stands for ring memory is pickled."""

import os
import pickle
import re

import pytest

import shmq


def in_child(body):
    """Runs body() in a fork()ed child; returns what it returned (a short str) through a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            outcome = body()
        except BaseException as e:  # noqa: B902 (reported to the parent, whatever it is)
            outcome = f"raised {type(e).__name__}"
        os.write(write_end, outcome.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        outcome = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return outcome


def outcome_of(access):
    """'read <bytes>', or the name of the exception the access raised."""
    try:
        return f"read {bytes(access())!r}"
    except Exception as e:  # noqa: B902
        return type(e).__name__


def lap_the_ring(producer, consumer, capacity):
    """Sends and consumes a ring's worth of other bytes, so every byte of the ring is rewritten."""
    for _ in range(2 * capacity // 64):
        producer.send(b"#" * 48)
        message = consumer.receive(timeout=60)
        assert message is not None
        consumer.release()


def after_the_parent_moves_on(producer, consumer, child_reads, parents_references):
    """Forks; the child waits while the parent drops `parents_references` (so that it can release),
    releases the message and laps the ring, then returns child_reads() (a short str) through a pipe."""
    ready_read, ready_write = os.pipe()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.read(ready_read, 1)
        os.write(write_end, child_reads().encode())
        os._exit(0)
    os.close(write_end)
    parents_references.clear()
    consumer.release()
    lap_the_ring(producer, consumer, 4096)
    os.write(ready_write, b"x")
    with os.fdopen(read_end, "rb") as pipe:
        outcome = pipe.read().decode()
    os.waitpid(pid, 0)
    return outcome


def test_a_child_gets_an_error_from_an_inherited_message_and_its_view(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        producer.send(b"the parent's message")
        message = consumer.receive(timeout=60)
        held = [message.data]
        outcome = after_the_parent_moves_on(
            producer, consumer,
            lambda: ",".join(outcome_of(a) for a in (lambda: held[0], lambda: message.data, lambda: message)), held)
        assert outcome == "ValueError,ValueError,ValueError"


def test_a_buffer_taken_from_a_view_keeps_in_the_child_what_it_held_at_the_fork(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        producer.send(b"the parent's message")
        message = consumer.receive(timeout=60)
        held = [message.data[4:12]]  # a buffer of the view: it cannot be revoked
        outcome = after_the_parent_moves_on(producer, consumer, lambda: outcome_of(lambda: held[0]), held)
        assert outcome == "read " + repr(b"parent's")


def test_a_child_cannot_write_into_the_parents_reservation(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        reservation = producer.reserve(10, timeout=60)
        view = reservation.data

        def child():
            outcomes = []
            for write in (lambda: view.__setitem__(slice(0, 5), b"CHILD"),
                          lambda: reservation.data.__setitem__(slice(0, 5), b"CHILD"),
                          lambda: reservation.commit(5)):
                try:
                    write()
                    outcomes.append("wrote")
                except Exception as e:  # noqa: B902
                    outcomes.append(type(e).__name__)
            return ",".join(outcomes)

        assert in_child(child) == "ValueError,UsageError,UsageError"
        view[:10] = b"PARENT-MSG"
        reservation.commit(10)
        assert bytes(consumer.receive(timeout=60)) == b"PARENT-MSG"


def test_a_buffer_taken_from_a_reservation_writes_only_into_the_childs_copy(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        reservation = producer.reserve(10, timeout=60)
        part = reservation.data[0:5]

        def child():
            part[:] = b"CHILD"
            return "wrote"

        assert in_child(child) == "wrote"
        del part
        reservation.data[:10] = b"PARENT-MSG"
        reservation.commit(10)
        assert bytes(consumer.receive(timeout=60)) == b"PARENT-MSG"


def test_handles_refuse_in_a_child(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        producer.send(b"one")
        outcome = in_child(lambda: ",".join(outcome_of(a) for a in (
            lambda: b"%d" % producer.send(b"child"), lambda: consumer.try_receive())))
        assert outcome == "UsageError,UsageError"
        assert bytes(consumer.receive(timeout=60)) == b"one"
        assert consumer.try_receive() is None


def test_nothing_that_stands_for_ring_memory_or_a_role_is_pickled(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        producer.send(b"one")
        message = consumer.receive(timeout=60)
        reservation = producer.reserve(8, timeout=60)
        for thing, hint in ((message, "bytes(msg)"), (reservation, "commit it here"),
                            (producer, "open the queue again"), (consumer, "open the queue again")):
            for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
                with pytest.raises(TypeError, match=re.escape(hint)):
                    pickle.dumps(thing, protocol=protocol)
        reservation.abandon()
