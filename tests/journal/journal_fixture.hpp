// A journal in a fresh directory, and appends that wait until durable.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "../common/temp_dir.hpp"
#include "palyra/journal/journal.hpp"

namespace palyra::journal {

class JournalTest : public palyra::testing::TempDirTest {
 protected:
  std::filesystem::path db() const { return dir_ / "journal.sqlite3"; }

  std::unique_ptr<Journal> open_journal(JournalOptions options = {}) {
    auto journal = palyra::journal::open_journal(SqliteBackend{db()}, options);
    EXPECT_TRUE(journal) << (journal ? "" : journal.error().describe());
    return journal ? std::move(*journal) : nullptr;
  }

  // Appends and waits until durable; returns the answer.
  static Result<std::uint64_t> append_event_sync(Journal& journal, NewEvent event) {
    std::promise<Result<std::uint64_t>> done;
    auto queued = journal.append(
        std::move(event), [&](Result<std::uint64_t> seq) { done.set_value(std::move(seq)); });
    if (!queued) return std::move(queued).error();
    return done.get_future().get();
  }

  // Appends and waits until durable; returns the seq.
  static std::uint64_t append_sync(Journal& journal, std::string name, std::string payload = "{}",
                                   std::string device = "dev-1") {
    auto seq = append_event_sync(journal,
                                 NewEvent{std::move(name), std::move(payload), std::move(device)});
    EXPECT_TRUE(seq) << (seq ? "" : seq.error().describe());
    return seq ? *seq : 0;
  }

  static std::vector<std::uint64_t> seqs(const std::vector<EventPtr>& events) {
    std::vector<std::uint64_t> out;
    for (const auto& e : events) out.push_back(e->seq);
    return out;
  }
};

}  // namespace palyra::journal
