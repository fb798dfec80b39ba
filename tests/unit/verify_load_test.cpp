// The loader's view of a replicated tier's files (verify/load.h): the union of the replicas'
// histories, added replicas included, and the final rows of the most advanced replica; in gossip
// mode also each replica's own record, in the order it applied them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/config_file.h"
#include "database/sqlite_store.h"
#include "tests/support/process.h"
#include "verify/load.h"
#include "verify/run_dir.h"

namespace oly::verify {
namespace {

using database::AppliedUpdate;

// Applies set_score seqs [from, to] of "caco" on event "curling" to the replica file `path`,
// with commit times 1000 * seq + skew (microseconds); versions follow seqs.
void apply(const std::string& path, uint64_t from, uint64_t to, int64_t skew) {
  database::SqliteStore store(path);
  store.begin();
  for (uint64_t seq = from; seq <= to; ++seq) {
    const auto version = seq;
    store.record_applied(AppliedUpdate{"caco", seq, "score/curling", version, "set_score",
                                       static_cast<int64_t>(1000 * seq) + skew, static_cast<int64_t>(seq), 0, ""});
    store.put_score(Score{"curling", static_cast<int64_t>(seq), 0, version, 0});
  }
  store.commit();
}

class LoadReplicas : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = load_config((std::filesystem::path(OLY_SOURCE_DIR) / "config" / "cluster.yaml").string());
    ASSERT_TRUE(cfg_.replicated());
    cfg_.run_dir = dir_.path();
    std::ofstream(cfg_.in_run_dir(cfg_.cacofonix.ack_log)) << ack_csv_header() << "\n";
    std::ofstream(cfg_.in_run_dir(cfg_.tablets.history)) << read_csv_header() << "\n";
  }

  oly::testing::TempDir dir_;
  Config cfg_;
};

TEST_F(LoadReplicas, TheHistoryIsTheUnionOfEveryReplicasAddedOnesIncluded) {
  const auto ids = cfg_.database_ids();
  ASSERT_GE(ids.size(), 3u);
  // The old leader applied 1-6 and was killed; a follower applied 1-8 (and never heard of 9);
  // the added replica installed a snapshot at 5 and applied 6-9, each later than the others.
  apply(cfg_.database_file(ids[0]), 1, 6, 0);
  apply(cfg_.database_file(ids[1]), 1, 8, 200);
  std::ofstream(RunLayout{dir_.path()}.added_replicas_file()) << "db4 tcp://127.0.0.1:1\n";
  apply(cfg_.database_file("db4"), 6, 9, 400);
  {
    database::SqliteStore added(cfg_.database_file("db4"));
    EXPECT_EQ(added.applied_log().size(), 4u);
  }

  const RunRecords r = read_records(cfg_);
  ASSERT_EQ(r.applied.size(), 9u);
  for (uint64_t i = 0; i < 9; ++i) {
    EXPECT_EQ(r.applied[i].seq, i + 1);
    // The earliest time any replica applied it.
    EXPECT_EQ(r.applied[i].committed_at_us, static_cast<int64_t>(1000 * (i + 1)) + (i + 1 <= 6 ? 0 : i + 1 <= 8 ? 200 : 400));
  }
  ASSERT_EQ(r.scores.size(), 1u);
  EXPECT_EQ(r.scores[0].version, 9u) << "the final rows are the most advanced replica's";
}

TEST_F(LoadReplicas, WithoutTheAddedReplicasFileOnlyTheConfiguredOnesCount) {
  const auto ids = cfg_.database_ids();
  apply(cfg_.database_file(ids[0]), 1, 3, 0);
  apply(cfg_.database_file("db4"), 1, 5, 0);  // not recorded as added: not part of this run
  const RunRecords r = read_records(cfg_);
  EXPECT_EQ(r.applied.size(), 3u);
  ASSERT_EQ(r.scores.size(), 1u);
  EXPECT_EQ(r.scores[0].version, 3u);
}

TEST_F(LoadReplicas, ARunWhoseDatabaseKeptOnlyItsLastUpdatesIsRefusedNamingTheKey) {
  apply(cfg_.database_file(cfg_.database_ids()[0]), 1, 3, 0);
  cfg_.database.history_keep = 5000;
  try {
    read_records(cfg_);
    ADD_FAILURE() << "read a run whose history was cut";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("database.history_keep is 5000"), std::string::npos) << e.what();
  }
}

// Gossip mode: each configured replica's record in the order it applied them (not by commit
// time), with its own rows; a replica removed from the tier, or down at the run's end, aside.
TEST_F(LoadReplicas, AGossipRunGivesEachReplicasOwnRecordInItsOrder) {
  cfg_.replication = Replication::kGossip;
  const auto ids = cfg_.database_ids();
  ASSERT_GE(ids.size(), 3u);
  apply(cfg_.database_file(ids[0]), 1, 3, 0);
  apply(cfg_.database_file(ids[1]), 2, 3, 0);  // seq 2 and 3 applied first here ...
  apply(cfg_.database_file(ids[1]), 1, 1, 0);  // ... then 1 (commit times say otherwise)
  apply(cfg_.database_file(ids[2]), 1, 3, 0);
  {
    database::SqliteStore s(cfg_.database_file(ids[0]));
    s.begin();
    s.gossip_put_member({ids[2], "tcp://127.0.0.1:1", true});
    s.commit();
  }
  RunRecords r = read_records(cfg_);
  ASSERT_EQ(r.replicas.size(), 2u) << "the removed replica is left out";
  EXPECT_EQ(r.replicas[0].replica, ids[0]);
  EXPECT_EQ(r.replicas[1].replica, ids[1]);
  ASSERT_EQ(r.replicas[1].applied.size(), 3u);
  EXPECT_EQ(r.replicas[1].applied[0].seq, 2u);
  EXPECT_EQ(r.replicas[1].applied[2].seq, 1u);
  ASSERT_EQ(r.replicas[1].scores.size(), 1u);
  EXPECT_EQ(r.replicas[1].scores[0].version, 1u) << "its own final rows";
  // Killed and never restarted: its record is not judged.
  r.events = {ClusterEvent{TimePoint(ms(1)), "", "start"}, ClusterEvent{TimePoint(ms(2)), ids[1], "kill"}};
  const CheckInput in = check_input(cfg_, r, ms(0));
  ASSERT_EQ(in.replicas.size(), 1u);
  EXPECT_EQ(in.replicas[0].replica, ids[0]);
}

}  // namespace
}  // namespace oly::verify
