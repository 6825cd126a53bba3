// The shipper's state file: a round trip, and every malformed or incomplete file refused with an
// error naming the file and the line (never taken for an empty state).
#include <gtest/gtest.h>

#include "files.hpp"
#include "state_file.hpp"

namespace shmq::logd {
namespace {

TEST(StateFile, RoundTripsEveryField) {
  ShipperState state;
  state.output_length = 123456;
  state.output_started_unix_s = 1764000000;
  state.next_rotation = 7;
  state.sources["app.1.2.q"] = {.next_sequence = 1500, .drops_reported = 12, .leaving = Leaving::no};
  state.sources["app.3.4.q"] = {.next_sequence = 9, .drops_reported = 0, .leaving = Leaving::set_aside};
  const ShipperState back = parse_state(format_state(state), "state");
  EXPECT_EQ(back.output_length, 123456u);
  EXPECT_EQ(back.output_started_unix_s, 1764000000u);
  EXPECT_EQ(back.next_rotation, 7u);
  ASSERT_EQ(back.sources.size(), 2u);
  EXPECT_EQ(back.sources.at("app.1.2.q").next_sequence, 1500u);
  EXPECT_EQ(back.sources.at("app.1.2.q").drops_reported, 12u);
  EXPECT_EQ(back.sources.at("app.3.4.q").leaving, Leaving::set_aside);
}

void expect_refused(const std::string& text, const std::string& expected_in_message) {
  try {
    (void)parse_state(text, "/var/log/.app.log.shmq-logd-state");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const FileError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("/var/log/.app.log.shmq-logd-state"), std::string::npos) << message;
    EXPECT_NE(message.find(expected_in_message), std::string::npos) << message;
  }
}

TEST(StateFile, RefusesWhatItDidNotWriteWhole) {
  expect_refused("", "not a shmq-logd state file");
  expect_refused("shmq-logd-state 2\nend\n", "not a shmq-logd state file");
  expect_refused("shmq-logd-state 1\noutput_length 12\n", "incomplete");
  expect_refused("shmq-logd-state 1\noutput_length twelve\nend\n", "line 2");
  expect_refused("shmq-logd-state 1\nnext_rotation 0\nend\n", "line 2");
  expect_refused("shmq-logd-state 1\nsource a.q 1 2 3\nend\n", "line 2");
  expect_refused("shmq-logd-state 1\nsource a.q 1\nend\n", "line 2");
  expect_refused("shmq-logd-state 1\nsurprise 1\nend\n", "line 2");
}

}  // namespace
}  // namespace shmq::logd
