"""The use-after-release guard: no view of ring memory reads bytes the producer may have reused."""

import pytest

import shmq


@pytest.fixture
def pair(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        yield producer, consumer


def test_data_and_its_view_raise_after_release(pair):
    producer, consumer = pair
    producer.send(b"payload")
    message = consumer.receive(timeout=10)
    view = message.data
    assert message.data is view  # one view per message
    consumer.release()
    assert message.released
    with pytest.raises(ValueError, match="released"):
        view[0]
    with pytest.raises(ValueError, match="released"):
        bytes(view)
    with pytest.raises(ValueError, match="was released"):
        message.data
    with pytest.raises(ValueError):
        memoryview(view.obj)  # the object behind the view refuses new exports


def test_released_bytes_are_reused_while_the_old_view_raises(pair):
    # The ring is 4 KiB: after a lap the old message's bytes hold a newer message.
    producer, consumer = pair
    producer.send(b"A" * 1000)
    old = consumer.receive(timeout=10)
    view = old.data
    consumer.release()
    for _ in range(8):
        producer.send(b"B" * 1000)
        consumer.receive(timeout=10)
        consumer.release()
    with pytest.raises(ValueError):
        bytes(view)


def test_a_slice_alive_blocks_release_until_dropped(pair):
    producer, consumer = pair
    producer.send(b"0123456789")
    message = consumer.receive(timeout=10)
    piece = message.data[2:5]
    with pytest.raises(BufferError, match="message 0"):
        consumer.release()
    assert consumer.watermarks.consumed == 0  # nothing released
    assert bytes(piece) == b"234"  # still the message's bytes
    del piece
    consumer.release()
    assert consumer.watermarks.consumed == 1


def test_a_buffer_exported_from_the_view_blocks_release(pair):
    producer, consumer = pair
    producer.send(b"abc")
    message = consumer.receive(timeout=10)
    derived = memoryview(message.data)  # a second view over the same buffer
    with pytest.raises(BufferError):
        consumer.release()
    derived.release()
    consumer.release()


def test_iteration_releases_the_previous_message(pair):
    producer, consumer = pair
    for i in range(3):
        producer.send(b"%d" % i)
    producer.close()
    kept = []
    for message in consumer:
        kept.append((message, message.data))
    assert all(m.released for m, _ in kept)
    for _, view in kept:
        with pytest.raises(ValueError):
            view[0]


def test_iteration_refuses_to_go_on_while_a_slice_is_alive(pair):
    producer, consumer = pair
    producer.send(b"first")
    producer.send(b"second")
    iterator = iter(consumer)
    piece = next(iterator).data[:2]
    with pytest.raises(BufferError):
        next(iterator)
    del piece
    assert bytes(next(iterator).data) == b"second"


def test_close_with_a_slice_alive_keeps_the_memory_and_the_role_until_it_is_dropped(queue_path):
    producer = shmq.Producer.create(queue_path, capacity=4096)
    consumer = shmq.Consumer.open(queue_path)
    producer.send(b"kept alive")
    piece = consumer.receive(timeout=10).data[:4]
    consumer.close()
    assert bytes(piece) == b"kept"  # still mapped: no crash, the bytes were not reused
    assert producer.consumer_attached
    del piece
    assert not producer.consumer_attached
    producer.close()


def test_a_message_kept_past_close_raises(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer:
        producer.send(b"x")
        with shmq.Consumer.open(queue_path) as consumer:
            message = consumer.receive(timeout=10)
            view = message.data
        with pytest.raises(ValueError):
            message.data
        with pytest.raises(ValueError):
            view[0]


def test_reservation_view_raises_after_commit_and_a_slice_blocks_commit(pair):
    producer, consumer = pair
    reservation = producer.reserve(8)
    view = reservation.data
    piece = view[0:4]
    piece[:] = b"abcd"
    with pytest.raises(BufferError):
        reservation.commit(4)
    assert reservation.open
    del piece
    assert reservation.commit(4) == 0
    with pytest.raises(ValueError):
        view[0] = 1
    assert bytes(consumer.receive(timeout=10).data) == b"abcd"


def test_producer_close_abandons_an_open_reservation(queue_path):
    producer = shmq.Producer.create(queue_path, capacity=4096)
    reservation = producer.reserve(8)
    view = reservation.data
    producer.close()
    assert not reservation.open
    with pytest.raises(ValueError):
        view[0]
    with shmq.Consumer.open(queue_path) as consumer:
        assert consumer.try_receive() is None


def test_message_views_are_read_only(pair):
    producer, consumer = pair
    producer.send(b"abc")
    view = consumer.receive(timeout=10).data
    with pytest.raises(TypeError):
        view[0] = 0
