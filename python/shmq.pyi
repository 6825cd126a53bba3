"""shmq: a crash-safe, lock-free single-producer/single-consumer message queue between two
processes, living in a file mapped MAP_SHARED. Interoperates with C++ programs on the same queue.

Flow control is never an exception: try_* return None when the ring is full (producer) or empty
(consumer); waiting calls return None when their timeout passes. A departed peer raises PeerGone
(and ends a `for msg in consumer:` loop). Everything else raises a subclass of Error.
"""

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Literal, Optional, Self, Union, final

from _typeshed import ReadableBuffer

_Path = Union[str, os.PathLike[str]]

class Error(Exception):
    """Base of shmq's exceptions; str(e) names the file and the cause."""

    code: str  # the C++ ErrorCode's name ("role_taken", ...), or "peer_gone"
    path: Optional[str]  # the queue file
    cause: str  # what went wrong, without the path
    errno: int  # 0 unless a system call failed

class InvalidArgument(Error, ValueError):
    """Bad options or arguments (a capacity not a power of two, a message larger than the ring, ...)."""

class IoError(Error, OSError):
    """A system call failed; .errno says which errno. Also the OSError subclass of its errno
    (FileNotFoundError, PermissionError, ...)."""

    errno: int  # 0 unless a system call failed

class AlreadyExists(Error):
    """create: something already exists at the path."""

class NotAQueue(Error):
    """The file is not a shmq queue, or not one this build can read."""

class Incompatible(Error):
    """A shmq queue of another format version or layout."""

class DamagedFile(Error):
    """A shmq queue whose header or positions are impossible."""

class ForeignOwner(Error):
    """The file belongs to another user (see allow_other_owner)."""

class RoleTaken(Error):
    """Another process is attached as the producer (or the consumer)."""

class PeerBrokeProtocol(Error):
    """A record or position written by the peer broke the protocol (sticky)."""

class UsageError(Error):
    """The API was used out of order: a closed handle, two reservations at once, a second thread, ..."""

class PeerGone(Error):
    """The peer left: the producer is gone and its messages are all received, or the consumer is
    gone while the ring is full."""

class Watermarks:
    """How far a queue's messages have got, as sequence numbers."""

    @property
    def published(self) -> int: ...
    @property
    def consumed(self) -> int: ...
    @property
    def durable(self) -> int: ...
    @property
    def durable_mode(self) -> bool: ...

class RecoveryReport:
    """What opening a queue found and did after the machine lost its page cache."""

    @property
    def ran(self) -> bool: ...
    @property
    def checkpoint(self) -> int: ...
    @property
    def durable_sequence(self) -> int: ...
    @property
    def recovered_messages(self) -> int: ...
    @property
    def discarded_bytes(self) -> int: ...
    @property
    def next_sequence(self) -> int: ...
    @property
    def read_sequence(self) -> int: ...
    @property
    def stopped_because(self) -> str: ...

class QueueInfo:
    """What a queue file is, learnt without attaching to it."""

    @property
    def capacity(self) -> int: ...
    @property
    def max_message_size(self) -> int: ...
    @property
    def checksums(self) -> bool: ...
    @property
    def durable(self) -> bool: ...

@final
class Message:
    """A received message: its sequence number and a view of its bytes in the ring (no copy).
    len(msg) is its size. Valid until the consumer releases it."""

    @property
    def data(self) -> memoryview:
        """Read-only view of the bytes in the ring; raises ValueError once released."""
    @property
    def sequence(self) -> int: ...
    @property
    def released(self) -> bool: ...
    def __len__(self) -> int: ...
    def __bytes__(self) -> bytes:
        """A copy of the bytes (ValueError once released, or in a fork()ed child)."""

class Reservation:
    """Room for one message in the ring: write into .data, then commit(). Abandoned unless committed."""

    @property
    def data(self) -> memoryview:
        """Writable view of the reserved bytes; raises ValueError after commit or abandon."""
    @property
    def sequence(self) -> int: ...
    @property
    def open(self) -> bool: ...
    def __len__(self) -> int: ...
    def commit(self, size: Optional[int] = None, *, publish: bool = True) -> int:
        """Commits the first `size` bytes (default: all) as one message; returns its sequence number."""
    def abandon(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, t: Optional[type[BaseException]], v: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None: ...

class Producer:
    """The producer end of a queue."""

    @staticmethod
    def create(
        path: _Path,
        *,
        capacity: int = 1048576,
        durable: bool = False,
        checksums: Optional[bool] = None,
        mode: int = 0o600,
        checkpoint_bytes: int = 0,
        checkpoint_interval: float = 0.01,
    ) -> Producer:
        """Creates a new queue file (never replacing anything) and attaches as its producer."""
    @staticmethod
    def open(path: _Path, *, allow_other_owner: bool = False) -> Producer:
        """Attaches to an existing queue as its producer (RoleTaken if another process is)."""
    def try_send(self, data: ReadableBuffer, *, publish: bool = True) -> Optional[int]:
        """The message's sequence number, or None when the ring is full now."""
    def send(self, data: ReadableBuffer, timeout: Optional[float] = None) -> Optional[int]:
        """Waits for room; the sequence number, or None when the timeout passes. PeerGone if the consumer left."""
    def send_batch(self, messages: Iterable[ReadableBuffer]) -> int:
        """Sends them all, published together; returns the first one's sequence number. Every message
        is checked first; an exception says in .published how many went out (none stays staged)."""
    def try_reserve(self, size: int) -> Optional[Reservation]: ...
    def reserve(self, size: int, timeout: Optional[float] = None) -> Optional[Reservation]:
        """Zero-copy: room for up to `size` bytes to write in place, or None when the timeout passes."""
    def publish(self) -> None: ...
    def sync(self) -> int:
        """Durable queues: returns S once messages 0..S-1 survive an OS crash."""
    def wait_durable(self, sequence: int) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, t: Optional[type[BaseException]], v: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> str: ...
    @property
    def next_sequence(self) -> int: ...
    @property
    def max_message_size(self) -> int: ...
    @property
    def capacity(self) -> int: ...
    @property
    def consumer_attached(self) -> bool: ...
    @property
    def watermarks(self) -> Watermarks: ...
    @property
    def recovery_report(self) -> RecoveryReport: ...

class Consumer:
    """The consumer end of a queue: receives messages in place, without copying."""

    @staticmethod
    def open(path: _Path, *, follow: bool = False, allow_other_owner: bool = False) -> Consumer:
        """Attaches to an existing queue as its consumer (RoleTaken if another process is)."""
    def try_receive(self) -> Optional[Message]:
        """The next message if one is available now, else None."""
    def receive(self, timeout: Optional[float] = None) -> Optional[Message]:
        """Waits for the next message; None when the timeout passes. PeerGone once the producer left
        and every message is received."""
    def release(self) -> None:
        """Hands every message received so far back (their views stop working)."""
    def poll(self, callback: Callable[[Message], object], max: Optional[int] = None) -> int:
        """Calls callback(msg) for each message available now (up to max), then releases them."""
    def __iter__(self) -> Iterator[Message]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, t: Optional[type[BaseException]], v: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> str: ...
    @property
    def next_sequence(self) -> int: ...
    @property
    def capacity(self) -> int: ...
    @property
    def producer_attached(self) -> bool: ...
    @property
    def watermarks(self) -> Watermarks: ...
    @property
    def recovery_report(self) -> RecoveryReport: ...

class SpoolWriter:
    """This process's queue in a crash-safe logging spool directory, shipped into a log file by
    shmq-logd. Once write() returns, the record survives kill -9 of this process. Thread-safe;
    write() and flush() release the GIL. A context manager (close() on exit)."""

    def __init__(
        self,
        spool: _Path,
        program: Optional[str] = None,
        capacity: int = 4194304,
        when_full: Literal["block", "drop"] = "block",
        block_bound: float = 0.01,
        durable: bool = False,
    ) -> None: ...
    def write(
        self,
        level: int,
        logger_name: str,
        text: str,
        time_unix_ns: Optional[int] = None,
        thread_id: Optional[int] = None,
    ) -> bool:
        """Writes one record (level: trace 0, debug 1, info 2, warn 3, error 4, critical 5).
        False when the queue was full and the record dropped (see when_full)."""
    def flush(self) -> None:
        """Durable spool: returns once every record written before is durable."""
    def close(self) -> None:
        """Publishes a close record (a clean end for shmq-logd) and detaches. Idempotent."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self, t: Optional[type[BaseException]], v: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None: ...
    @property
    def queue_path(self) -> str: ...
    @property
    def dropped(self) -> int: ...
    @property
    def closed(self) -> bool: ...

class SpoolHandler(logging.Handler):
    """A logging.Handler writing each formatted record through a SpoolWriter (the same options),
    with the level mapped to spdlog's, record.created, record.thread and the logger name."""

    def __init__(
        self,
        spool: _Path,
        program: Optional[str] = None,
        capacity: int = 4194304,
        when_full: Literal["block", "drop"] = "block",
        block_bound: float = 0.01,
        durable: bool = False,
        level: Union[int, str] = logging.NOTSET,
    ) -> None: ...
    @property
    def writer(self) -> SpoolWriter: ...
    @property
    def queue_path(self) -> str: ...
    @property
    def dropped(self) -> int: ...
    def emit(self, record: logging.LogRecord) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...

def create_queue(
    path: _Path, *, capacity: int = 1048576, durable: bool = False, checksums: Optional[bool] = None, mode: int = 0o600
) -> None:
    """Creates a queue file without attaching to it (AlreadyExists if anything is at `path`)."""

def inspect_queue(path: _Path, *, allow_other_owner: bool = False) -> QueueInfo:
    """Reads a queue file's parameters read-only, without attaching."""

def max_message_size(capacity: int) -> int: ...
def set_log_level(level: str) -> None:
    """'trace', 'debug', 'info' (default), 'warning', 'error', 'critical' or 'off': what the library logs to stderr."""
