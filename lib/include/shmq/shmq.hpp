// shmq: a crash-safe, lock-free single-producer/single-consumer message queue between two
// processes, living in a file mapped MAP_SHARED. Include this header for the whole API.
#pragma once

#include "shmq/consumer.hpp"
#include "shmq/error.hpp"
#include "shmq/log.hpp"
#include "shmq/message.hpp"
#include "shmq/options.hpp"
#include "shmq/producer.hpp"
#include "shmq/queue.hpp"
#include "shmq/recovery.hpp"
#include "shmq/result.hpp"
#include "shmq/watermarks.hpp"
