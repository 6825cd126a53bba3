// The Python module `shmq`: the bindings' entry point.
#include <pybind11/pybind11.h>

#include "consumer.hpp"
#include "consumer_iterator.hpp"
#include "errors.hpp"
#include "fork_generation.hpp"
#include "guarded_buffer.hpp"
#include "log_level.hpp"
#include "message.hpp"
#include "producer.hpp"
#include "queue_files.hpp"
#include "reservation.hpp"
#ifdef SHMQ_PYTHON_WITH_LOG
#include "spool_writer.hpp"
#endif

PYBIND11_MODULE(shmq, module) {
  module.doc() =
      "shmq: a crash-safe, lock-free single-producer/single-consumer message queue between two processes,\n"
      "living in a file mapped MAP_SHARED. Interoperates with C++ programs using the same queue file.\n\n"
      "    with shmq.Producer.create('/dev/shm/orders', capacity=1 << 20) as producer:\n"
      "        producer.send(b'buy 100 XYZ')\n\n"
      "    with shmq.Consumer.open('/dev/shm/orders') as consumer:\n"
      "        for msg in consumer:              # ends when the producer is gone and the queue is drained\n"
      "            handle(msg.sequence, bytes(msg.data))\n";
  shmq_python::count_forks();
  shmq_python::register_errors(module);
  shmq_python::register_guarded_buffer(module);
  shmq_python::register_message(module);
  shmq_python::register_queue_files(module);
  shmq_python::register_log_level(module);
  shmq_python::register_reservation(module);
  shmq_python::register_producer(module);
  shmq_python::register_consumer(module);
  shmq_python::register_consumer_iterator(module);
#ifdef SHMQ_PYTHON_WITH_LOG
  shmq_python::register_spool_writer(module);
#endif
}
