"""Every call of Producer and Consumer, in one process."""

import array
import os

import pytest

import shmq

SMALL = 4096  # the smallest ring: 4080-byte messages at most


def test_send_and_receive_in_order_with_sequence_numbers(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        assert [producer.send(b"first"), producer.send(b"second")] == [0, 1]
        first = consumer.receive(timeout=10)
        second = consumer.receive(timeout=10)
        assert (first.sequence, bytes(first.data), len(first)) == (0, b"first", 5)
        assert (second.sequence, bytes(second.data)) == (1, b"second")
        assert first.data.readonly
        consumer.release()
        assert consumer.next_sequence == 2 and producer.next_sequence == 2


def test_send_accepts_any_bytes_like_object_and_refuses_text(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        producer.send(bytearray(b"ba"))
        producer.send(memoryview(b"xmvx")[1:3])
        producer.send(array.array("B", [1, 2, 3]))
        producer.send(b"")
        with pytest.raises(TypeError):
            producer.send("text")  # type: ignore[arg-type]
        received = [bytes(consumer.receive(timeout=10).data) for _ in range(4)]
        assert received == [b"ba", b"mv", b"\x01\x02\x03", b""]


def test_try_send_returns_none_when_full_and_try_receive_none_when_empty(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        assert consumer.try_receive() is None
        message = b"x" * 1000
        sent = 0
        while producer.try_send(message) is not None:
            sent += 1
        assert 0 < sent < SMALL // 1000 + 1
        assert producer.send(message, timeout=0.01) is None  # full: the timeout passes
        received = 0
        while consumer.try_receive() is not None:
            received += 1
        assert received == sent
        assert consumer.receive(timeout=0.01) is None  # empty, producer attached: the timeout passes
        consumer.release()
        assert producer.try_send(message) == sent  # room again


def test_message_larger_than_the_ring_is_an_invalid_argument(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer:
        assert producer.max_message_size == shmq.max_message_size(SMALL) == SMALL - 40
        with pytest.raises(shmq.InvalidArgument) as error:
            producer.send(b"x" * (SMALL - 15))
        assert isinstance(error.value, ValueError)
        assert producer.send(b"x" * (SMALL - 40)) == 0


def test_send_batch_publishes_every_message_and_returns_the_first_sequence(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        producer.send(b"before")
        assert producer.send_batch(b"%d" % i for i in range(5)) == 1
        assert producer.send_batch([]) == 6
        received = []
        while (message := consumer.try_receive()) is not None:
            received.append(bytes(message.data))
        assert received == [b"before", b"0", b"1", b"2", b"3", b"4"]


def test_send_batch_larger_than_the_ring_waits_for_room(queue_path):
    # The consumer runs from poll() inside the generator, as the batch waits when the ring is full:
    # instead, send from a thread and consume here.
    import threading

    count = 200
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        sender = threading.Thread(target=lambda: producer.send_batch(b"m%03d" % i + b"." * 100 for i in range(count)))
        sender.start()
        received = []
        while len(received) < count:
            message = consumer.receive(timeout=120)
            assert message is not None, "hang: the batch did not arrive"
            received.append(bytes(message.data[:4]))
            consumer.release()
        sender.join()
        assert received == [b"m%03d" % i for i in range(count)]


def test_staged_messages_become_visible_at_publish(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        assert producer.try_send(b"staged", publish=False) == 0
        assert consumer.try_receive() is None
        producer.publish()
        assert bytes(consumer.try_receive().data) == b"staged"


def test_reserve_writes_in_place_and_commits_what_is_used(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        reservation = producer.reserve(64)
        assert reservation.open and len(reservation) == 64 and reservation.sequence == 0
        view = reservation.data
        assert not view.readonly and len(view) == 64
        view[:5] = b"hello"
        assert reservation.commit(5) == 0
        assert not reservation.open
        with pytest.raises(ValueError):
            view[0]  # the view was released at commit
        with pytest.raises(ValueError):
            reservation.data
        with pytest.raises(shmq.UsageError):
            reservation.commit()
        assert bytes(consumer.receive(timeout=10).data) == b"hello"


def test_reserve_commit_whole_and_try_reserve(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        r = producer.try_reserve(3)
        r.data[:] = b"abc"
        r.commit()
        with pytest.raises(shmq.InvalidArgument):
            producer.reserve(4).commit(5)
        assert bytes(consumer.receive(timeout=10).data) == b"abc"


def test_abandoned_reservation_publishes_nothing_and_blocks_sends_while_open(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        reservation = producer.reserve(16)
        with pytest.raises(shmq.UsageError):
            producer.send(b"meanwhile")
        reservation.abandon()
        with producer.reserve(16) as in_block:
            in_block.data[:4] = b"lost"
        assert not in_block.open  # the with block abandoned it
        producer.reserve(16)  # dropped at once: abandoned when collected
        assert producer.send(b"kept") == 0
        message = consumer.receive(timeout=10)
        assert (message.sequence, bytes(message.data)) == (0, b"kept")
        assert consumer.try_receive() is None


def test_reserve_with_timeout_returns_none_when_full(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer:
        while producer.try_send(b"x" * 500) is not None:
            pass
        assert producer.try_reserve(500) is None
        assert producer.reserve(500, timeout=0.01) is None


def test_poll_delivers_what_is_available_then_releases(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        for i in range(5):
            producer.send(b"%d" % i)
        seen = []
        assert consumer.poll(lambda m: seen.append((m.sequence, bytes(m.data))), max=3) == 3
        assert consumer.poll(lambda m: seen.append((m.sequence, bytes(m.data)))) == 2
        assert consumer.poll(seen.append) == 0
        assert seen == [(i, b"%d" % i) for i in range(5)]
        assert consumer.watermarks.consumed == 5


def test_poll_callback_exception_propagates_and_leaves_messages_unreleased(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        producer.send(b"a")
        producer.send(b"b")

        def fail(message):
            raise RuntimeError(f"cannot handle {message.sequence}")

        with pytest.raises(RuntimeError, match="cannot handle 0"):
            consumer.poll(fail)
        assert consumer.watermarks.consumed == 0
        assert bytes(consumer.receive(timeout=10).data) == b"b"
        consumer.release()
        assert consumer.watermarks.consumed == 2


def test_iteration_ends_when_the_producer_is_gone_and_releases_as_it_goes(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer:
        consumer = shmq.Consumer.open(queue_path)
        for i in range(100):
            producer.send(b"%d" % i)
    seen = []
    with consumer:
        for message in consumer:
            seen.append((message.sequence, bytes(message.data)))
        assert seen == [(i, b"%d" % i) for i in range(100)]
        assert consumer.watermarks.consumed == 100
        with pytest.raises(shmq.PeerGone) as gone:
            consumer.receive()
        assert gone.value.code == "peer_gone" and str(queue_path) in str(gone.value)


def test_unreleased_messages_are_delivered_again_to_the_next_consumer(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer:
        for i in range(3):
            producer.send(b"%d" % i)
        with shmq.Consumer.open(queue_path) as consumer:
            consumer.receive(timeout=10)
            consumer.release()
            consumer.receive(timeout=10)  # not released
        with shmq.Consumer.open(queue_path) as consumer:
            assert [consumer.try_receive().sequence for _ in range(2)] == [1, 2]


def test_producer_reopened_continues_the_sequence(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer:
        producer.send(b"a")
    with shmq.Producer.open(queue_path) as producer:
        assert producer.next_sequence == 1
        assert producer.send(b"b") == 1


def test_properties_and_records(queue_path):
    shmq.create_queue(queue_path, capacity=8192, checksums=True)
    info = shmq.inspect_queue(queue_path)
    assert (info.capacity, info.max_message_size, info.checksums, info.durable) == (8192, 8152, True, False)
    with shmq.Producer.open(queue_path) as producer, shmq.Consumer.open(queue_path) as consumer:
        assert producer.path == consumer.path == str(queue_path)
        assert producer.capacity == consumer.capacity == 8192
        assert producer.consumer_attached and consumer.producer_attached
        producer.send(b"x")
        w = consumer.watermarks
        assert (w.published, w.consumed, w.durable, w.durable_mode) == (1, 0, 0, False)
        assert "published=1" in repr(w)
        assert not producer.recovery_report.ran and not consumer.recovery_report.ran
        message = consumer.receive(timeout=10)
        assert repr(message) == "<shmq.Message sequence=0 size=1>"
    assert producer.closed and consumer.closed


def test_closed_handles_refuse_every_call(queue_path):
    producer = shmq.Producer.create(queue_path, capacity=SMALL)
    consumer = shmq.Consumer.open(queue_path)
    producer.close()
    producer.close()  # twice: nothing
    consumer.close()
    with pytest.raises(shmq.UsageError, match="closed"):
        producer.send(b"x")
    with pytest.raises(shmq.UsageError, match="closed"):
        consumer.receive()
    with pytest.raises(shmq.UsageError):
        consumer.next_sequence


def test_durable_queue_sync_and_wait_durable(tmp_path):
    path = tmp_path / "durable.q"
    with shmq.Producer.create(path, capacity=SMALL, durable=True, checkpoint_interval=0) as producer:
        assert shmq.inspect_queue(path).durable and shmq.inspect_queue(path).checksums
        producer.send(b"a")
        producer.send(b"b")
        assert producer.sync() == 2
        assert producer.watermarks.durable == 2
        last = producer.send(b"c")
        producer.wait_durable(last)
        assert producer.watermarks.durable == 3 and producer.watermarks.durable_mode


def test_sync_on_a_queue_without_durability_is_a_usage_error(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer:
        with pytest.raises(shmq.UsageError, match="durability"):
            producer.sync()


def test_messages_cannot_be_made_from_python():
    with pytest.raises(TypeError):
        shmq.Message()


def test_set_log_level_controls_what_the_library_writes_to_stderr(queue_path, capfd):
    try:
        shmq.set_log_level("info")
        shmq.create_queue(queue_path, capacity=SMALL)
        assert f"created queue {queue_path}" in capfd.readouterr().err
        queue_path.unlink()
        shmq.set_log_level("warning")
        shmq.create_queue(queue_path, capacity=SMALL)
        assert capfd.readouterr().err == ""
        with pytest.raises(ValueError, match="unknown log level"):
            shmq.set_log_level("loud")
    finally:
        shmq.set_log_level("warning")


def test_a_forked_child_cannot_use_the_parents_handles(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer, shmq.Consumer.open(queue_path) as consumer:
        producer.send(b"for the parent")
        reservation = producer.reserve(8)
        pid = os.fork()
        if pid == 0:  # the child: every call refuses; exit status 0 only if all did
            refused = 0
            for call in (consumer.try_receive, lambda: producer.try_send(b"x"), reservation.commit):
                try:
                    call()
                except shmq.UsageError as error:
                    refused += "fork()ed process" in str(error)
                except BaseException:
                    pass
            os._exit(0 if refused == 3 else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        reservation.abandon()
        assert bytes(consumer.receive(timeout=10).data) == b"for the parent"
        assert producer.consumer_attached and consumer.producer_attached


def test_a_following_consumer_waits_for_the_next_producer(queue_path):
    with shmq.Producer.create(queue_path, capacity=SMALL) as producer:
        producer.send(b"first")
    with shmq.Consumer.open(queue_path, follow=True) as consumer:
        assert bytes(consumer.receive(timeout=10).data) == b"first"
        assert consumer.receive(timeout=0.05) is None  # no PeerGone: it waits for another producer
        with shmq.Producer.open(queue_path) as producer:
            producer.send(b"second")
        assert bytes(consumer.receive(timeout=10).data) == b"second"
