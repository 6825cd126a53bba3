// The exit codes of every program of the project: shmq-producer, shmq-consumer and the `shmq` tool
// (listed in each one's --help and in docs/OPERATING.md).
#pragma once

namespace shmq_sample {

inline constexpr int kExitOk = 0;
// A check found a problem: the queue is damaged (shmq verify, stat, dump, watch); gaps, duplicates
// or corrupt payloads (shmq-consumer --verify); shmq remove refused a damaged or attached queue.
inline constexpr int kExitDamaged = 1;
inline constexpr int kExitFailed = 2;         // an error: not a queue file, unreadable, I/O, any other failure
inline constexpr int kExitPeerGone = 3;       // shmq-producer --exit-on-consumer-gone: the consumer left, queue full
inline constexpr int kExitUsage = 64;         // bad command line (EX_USAGE of sysexits.h)
inline constexpr int kExitInterrupted = 128;  // + the signal number (SIGINT: 130, SIGTERM: 143)

// The paragraph that ends every program's --help.
inline constexpr const char* kExitCodesHelp =
    "Exit status (the same for shmq, shmq-producer and shmq-consumer): 0 done; 1 a check found a\n"
    "problem (a damaged queue; gaps, duplicates or corrupt payloads; remove refused); 2 an error\n"
    "(not a queue file, unreadable, ...); 3 the consumer left while the queue was full\n"
    "(shmq-producer --exit-on-consumer-gone); 64 bad arguments; 128+N stopped by signal N (Ctrl-C: 130).";

}  // namespace shmq_sample
