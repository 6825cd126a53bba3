# Draws the PNG plots of one shmq-bench run from its .dat files:
#   gnuplot -e "dir='RESULTS/run-...'" bench/plot.gnuplot
# throughput.png: median messages/s by message size (log-log), one line per transport.
# latency-SIZE.png: round-trip percentile curves (HdrHistogram style), one per transport.
if (!exists("dir")) dir = "."
set terminal pngcairo size 1400,850 noenhanced font ",10"
set grid
set key outside right top
set logscale xy

set output dir."/throughput.png"
set title "Throughput between two processes (median of the repetitions)"
set xlabel "message size (bytes)"
set ylabel "messages per second"
set xtics ("8" 8, "64" 64, "1 Ki" 1024, "64 Ki" 65536)
plot for [i=0:*] dir."/throughput.dat" index i using 1:2 with linespoints title columnheader(1)

set xlabel "percentile"
set ylabel "round trip (ns)"
set xtics ("0" 1, "50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
files = system("ls ".dir."/latency-*.dat 2>/dev/null")
do for [file in files] {
  size = system("basename ".file." .dat | sed 's/latency-//'")
  set output dir."/latency-".size.".png"
  set title "Round trip, ".size."-byte messages, by percentile"
  plot for [i=0:*] file index i using 2:3 with linespoints title columnheader(1)
}
