"""send_batch(): every message is checked before one is staged; a batch that fits is published all or
nothing; one that waits for room and fails says how many went out, and leaves nothing staged, so a
retry of the rest sends each message once."""

import threading

import pytest

import shmq
from conftest import HANG_TIMEOUT


def drain(consumer):
    out = []
    while (message := consumer.try_receive()) is not None:
        out.append((message.sequence, bytes(message)))
    consumer.release()
    return out


def test_a_batch_with_an_item_that_is_not_bytes_sends_nothing(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        with pytest.raises(TypeError):
            producer.send_batch([b"a", b"b", 3, b"d"])
        assert producer.next_sequence == 0
        producer.send(b"after")
        assert drain(consumer) == [(0, b"after")]


def test_a_batch_with_a_message_too_large_sends_nothing(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        with pytest.raises(shmq.InvalidArgument, match="message 1 of the batch"):
            producer.send_batch([b"a", b"x" * 5000, b"c"])
        producer.send(b"after")
        assert drain(consumer) == [(0, b"after")]


def test_a_batch_that_fits_is_published_with_one_store(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        assert producer.send_batch(b"m%d" % i for i in range(5)) == 0
        assert drain(consumer) == [(i, b"m%d" % i) for i in range(5)]


def test_a_batch_that_fails_while_waiting_says_how_many_went_out_and_a_retry_sends_the_rest(queue_path):
    batch = [b"%04d" % i + b"." * 200 for i in range(100)]  # about 5 rings of 4 KiB
    with shmq.Producer.create(queue_path, capacity=4096) as producer:
        shmq.Consumer.open(queue_path).close()  # a consumer came and went: the ring fills, then PeerGone
        with pytest.raises(shmq.PeerGone) as raised:
            producer.send_batch(batch)
        published = raised.value.published
        assert raised.value.first_sequence == 0
        assert 0 < published < len(batch)
        assert producer.next_sequence == published, "nothing of the batch is left staged"
        with shmq.Consumer.open(queue_path) as consumer:
            assert drain(consumer) == list(enumerate(batch[:published]))
            received = []
            done = threading.Event()

            def receive_the_rest():
                while len(received) < len(batch) - published:
                    message = consumer.receive(timeout=HANG_TIMEOUT)
                    received.append((message.sequence, bytes(message)))
                    consumer.release()
                done.set()

            reader = threading.Thread(target=receive_the_rest)
            reader.start()
            assert producer.send_batch(batch[published:]) == published
            reader.join(HANG_TIMEOUT)
            assert done.is_set()
            assert received == [(i, batch[i]) for i in range(published, len(batch))]
