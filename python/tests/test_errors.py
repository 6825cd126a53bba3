"""Errors: one exception class per C++ ErrorCode, carrying the C++ message and its parts."""

import errno
import mmap
import os
import struct
import subprocess

import pytest

import shmq
from conftest import program

RING_OFFSET = 16384  # docs/FORMAT.md: the data ring follows a 16 KiB header


def test_every_error_class_derives_from_error():
    names = ["InvalidArgument", "IoError", "AlreadyExists", "NotAQueue", "Incompatible", "DamagedFile",
             "ForeignOwner", "RoleTaken", "PeerBrokeProtocol", "UsageError", "PeerGone"]
    for name in names:
        assert issubclass(getattr(shmq, name), shmq.Error), name
    assert issubclass(shmq.Error, Exception)
    assert issubclass(shmq.InvalidArgument, ValueError)


def test_error_carries_code_path_cause_and_the_cpp_message(queue_path):
    with pytest.raises(shmq.IoError) as raised:
        shmq.Consumer.open(queue_path)
    error = raised.value
    assert error.code == "io" and error.path == str(queue_path) and error.errno == errno.ENOENT
    assert str(error) == f"{queue_path}: {error.cause}: {os.strerror(errno.ENOENT)} [io]"


def test_the_message_is_the_one_the_cpp_programs_print(queue_path):
    queue_path.write_bytes(b"not a queue" * 3000)
    with pytest.raises(shmq.NotAQueue) as raised:
        shmq.Consumer.open(queue_path)
    assert raised.value.code == "not_a_queue"
    assert queue_path.read_bytes() == b"not a queue" * 3000  # left untouched
    run = subprocess.run([program("shmq-consumer"), "--queue", str(queue_path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0
    assert str(raised.value) in run.stderr


def test_second_producer_or_consumer_is_refused_naming_the_holder(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096), shmq.Consumer.open(queue_path):
        with pytest.raises(shmq.RoleTaken, match=f"pid {os.getpid()}"):
            shmq.Producer.open(queue_path)
        with pytest.raises(shmq.RoleTaken) as raised:
            shmq.Consumer.open(queue_path)
        assert raised.value.code == "role_taken"


def test_create_never_replaces_a_file(queue_path):
    queue_path.write_bytes(b"precious")
    with pytest.raises(shmq.AlreadyExists):
        shmq.Producer.create(queue_path)
    with pytest.raises(shmq.AlreadyExists):
        shmq.create_queue(queue_path)
    assert queue_path.read_bytes() == b"precious"


def test_invalid_options_are_invalid_arguments(queue_path):
    with pytest.raises(shmq.InvalidArgument, match="power of two"):
        shmq.Producer.create(queue_path, capacity=5000)
    with pytest.raises(ValueError):
        shmq.Producer.create(queue_path, capacity=4096, checkpoint_interval=-1)
    assert not queue_path.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the file to another user")
def test_a_file_of_another_user_is_refused_unless_allowed(queue_path):
    shmq.create_queue(queue_path, capacity=4096)
    os.chown(queue_path, 65534, 65534)
    with pytest.raises(shmq.ForeignOwner):
        shmq.Consumer.open(queue_path)
    with shmq.Consumer.open(queue_path, allow_other_owner=True) as consumer:
        assert consumer.capacity == 4096


def test_a_hostile_record_length_is_corrupt_and_sticky(queue_path):
    with shmq.Producer.create(queue_path, capacity=4096) as producer, shmq.Consumer.open(queue_path) as consumer:
        producer.send(b"12345678")
        with open(queue_path, "r+b") as file, mmap.mmap(file.fileno(), 0) as mapping:
            mapping[RING_OFFSET : RING_OFFSET + 4] = struct.pack("<I", 0x7FFFFF00)  # longer than the ring
        with pytest.raises(shmq.PeerBrokeProtocol) as raised:
            consumer.receive(timeout=10)
        assert raised.value.code == "peer_broke_protocol" and str(queue_path) in str(raised.value)
        with pytest.raises(shmq.PeerBrokeProtocol):
            consumer.try_receive()


def test_an_io_error_is_the_oserror_of_its_errno(queue_path):
    with pytest.raises(FileNotFoundError) as raised:
        shmq.Consumer.open(queue_path)
    error = raised.value
    assert isinstance(error, shmq.IoError) and isinstance(error, OSError)
    assert error.errno == errno.ENOENT and error.path == str(queue_path)
    assert str(error) == f"{queue_path}: {error.cause}: {os.strerror(errno.ENOENT)} [io]"
    with pytest.raises(shmq.IoError):  # the same class each time
        shmq.Producer.open(queue_path)
    assert type(error) is type(raised.value)
