// trace::Source and trace::Reader: one reader for files, standard input, pipes and text.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "infermem/error.h"
#include "infermem/trace.h"

using namespace infermem;
using trace::Source;

namespace {

std::vector<std::string> all_lines(Source& s) {
  std::vector<std::string> out;
  while (auto line = s.next_line()) out.emplace_back(line->too_long ? "<too long>" : line->text);
  return out;
}

}  // namespace

TEST(Source, YieldsEveryLineWithoutItsLineEnd) {
  Source s = Source::from_text("a\r\nb\n\nlast", "t");
  EXPECT_EQ(all_lines(s), (std::vector<std::string>{"a", "b", "", "last"}));
  EXPECT_EQ(s.lines(), 4u);
  EXPECT_EQ(s.bytes(), 10u);
}

TEST(Source, ALineLongerThanTheLimitIsReportedNotKept) {
  // Memory stays bounded on input without newlines (a binary file, /dev/zero through stdin).
  std::string text = "first\n" + std::string(Source::kMaxLineBytes + 10, 'x') + "\nthird\n";
  Source s = Source::from_text(text);
  EXPECT_EQ(all_lines(s), (std::vector<std::string>{"first", "<too long>", "third"}));

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  // Written from a thread: a pipe holds less than the line.
  std::string big = std::string(3 * Source::kMaxLineBytes, 'y') + "\nafter\n";
  std::thread writer([&] {
    std::size_t done = 0;
    while (done < big.size()) {
      ssize_t n = ::write(fds[1], big.data() + done, big.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
  });
  Source p = Source::from_fd(fds[0], "pipe");
  EXPECT_EQ(all_lines(p), (std::vector<std::string>{"<too long>", "after"}));
  writer.join();
  ::close(fds[0]);
}

TEST(Source, PeekLooksAheadWithoutConsuming) {
  Source s = Source::from_text("time,rss\n0,1\n");
  EXPECT_EQ(s.peek(4), "time");
  EXPECT_EQ(s.peek(100), "time,rss\n0,1\n") << "less only at the end of the input";
  EXPECT_EQ(s.next_line()->text, "time,rss");
}

TEST(Source, ReadsAPipeAsDataArrivesWithoutWaitingForItsEnd) {
  // soak reads its children's records while they run: a line must come out as soon as it is
  // written, with the writer still open.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::FILE* in = ::fdopen(fds[0], "r");
  trace::Reader reader(in);
  trace::Writer writer(fds[1]);
  trace::Record r;
  r.type = trace::RecordType::sample;
  r.values.set(Figure::rss_bytes, 4096);
  ASSERT_TRUE(writer.write(r));
  auto got = reader.next();  // would block forever if the reader waited for a full buffer
  ASSERT_TRUE(got);
  EXPECT_EQ(got->value(Figure::rss_bytes), 4096.0);
  ::close(fds[1]);
  EXPECT_FALSE(reader.next());
  std::fclose(in);
}

TEST(Source, OpenRefusesWhatIsNotARegularFile) {
  try {
    Source::open("/dev/zero");
    FAIL() << "opened /dev/zero";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/zero: is a character device"), std::string::npos)
        << e.what();
  }
}

TEST(Reader, SkipsAndCountsMalformedLinesWithTheirReason) {
  Source s = Source::from_text(
      "{\"v\":1,\"type\":\"sample\",\"t_ms\":1,\"rss_bytes\":10}\n"
      "not json\n"
      "   \n"
      "{\"v\":2,\"type\":\"sample\",\"t_ms\":2}\n"
      "{\"v\":1,\"type\":\"note\",\"t_ms\":3,\"text\":\"hi\"}\n");
  trace::Reader reader(s);
  std::vector<std::string> skipped;
  reader.on_skip = [&](std::uint64_t n, std::string_view why) {
    skipped.push_back(std::to_string(n) + ": " + std::string(why));
  };
  std::vector<std::string> types;
  while (auto r = reader.next()) types.push_back(std::string(trace::name(r->type)));
  EXPECT_EQ(types, (std::vector<std::string>{"sample", "note"}));
  EXPECT_EQ(reader.skipped(), 2u) << "a blank line is not malformed";
  EXPECT_EQ(reader.lines(), 5u);
  EXPECT_EQ(skipped,
            (std::vector<std::string>{"2: not a JSON object", "4: unsupported format version"}));
}
