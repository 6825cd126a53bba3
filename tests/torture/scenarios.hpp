// The scenario families. Each drives one Run for its number of steps and throws Violation when an
// invariant breaks.
#pragma once

#include <string>
#include <vector>

#include "run.hpp"

namespace shmq::torture {

// mixed: random operations of both sides on a random queue, with kills, failpoints, stops,
//   forks, tools, repairs and (durable queues) EIO and power loss.
// kill_loop: a producer in a tight send loop killed with kill -9 hundreds of times while a
//   consumer follows; stops of the producer while the tools inspect the queue.
// staged_power_loss: a producer dies with a batch staged; its successor sends messages of the
//   same sizes; the power fails; recovery must deliver only what was published.
// restart: a producer killed between the two stores of a publication is restarted and stays
//   idle while the consumer reads on, restarts, and the tools look.
// samples: the real shmq-producer and shmq-consumer, the producer killed and restarted.
const std::vector<std::string>& scenario_names();
void run_scenario(const std::string& name, Run& run);

}  // namespace shmq::torture
