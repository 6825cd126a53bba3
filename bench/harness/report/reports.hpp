// The outputs of a run: a markdown table (also printed), a JSON file, and the data files that
// bench/plot.gnuplot turns into PNG plots.
#pragma once

#include <filesystem>
#include <string>

#include "../config.hpp"
#include "../results.hpp"

#include "shmq_sample/units.hpp"

namespace bench {

std::string markdown_report(const Config& config, const RunResults& results);
void write_json_report(const Config& config, const RunResults& results, const std::filesystem::path& file);
// throughput.dat and latency-SIZE.dat: one block per transport, separated by two blank lines, each
// block starting with the transport's name (gnuplot: index i, title columnheader(1)).
void write_plot_data(const RunResults& results, const std::filesystem::path& dir);

// "12.3 M", "456 k", "789": the project's one formatter of counts.
using shmq_sample::format_count;

}  // namespace bench
