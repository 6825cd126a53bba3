// The hardware line printed next to every table: CPU model, kernel, online CPUs, time.
#pragma once

#include <string>

namespace bench {

std::string cpu_model();       // "model name" from /proc/cpuinfo
std::string kernel_release();  // uname -r
int online_cpus();
std::string local_time_text(const char* format);  // strftime of now

}  // namespace bench
