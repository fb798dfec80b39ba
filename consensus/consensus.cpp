#include "consensus/consensus.h"

#include "consensus/libraft.h"
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <random>
#include <stdexcept>
#include <variant>

#include "consensus/rpc_codec.h"

namespace oly::consensus {

const char* to_string(Role r) {
  switch (r) {
    case Role::follower: return "follower";
    case Role::candidate: return "candidate";
    case Role::leader: return "leader";
    case Role::stopped: return "stopped";
  }
  return "?";
}

const char* to_string(Standing s) {
  switch (s) {
    case Standing::voter: return "voter";
    case Standing::standby: return "standby";
    case Standing::spare: return "spare";
  }
  return "?";
}

std::string member_address(const Member& m) { return m.address.empty() ? m.name : m.name + " " + m.address; }

Member member_of(uint64_t id, std::string_view address) {
  const size_t space = address.find(' ');
  if (space == std::string_view::npos) return Member{id, std::string(address), ""};
  return Member{id, std::string(address.substr(0, space)), std::string(address.substr(space + 1))};
}

namespace {

int raft_role(Standing s) {
  switch (s) {
    case Standing::voter: return RAFT_VOTER;
    case Standing::standby: return RAFT_STANDBY;
    case Standing::spare: return RAFT_SPARE;
  }
  return RAFT_SPARE;
}

Standing standing_of(int role) {
  return role == RAFT_VOTER ? Standing::voter : role == RAFT_STANDBY ? Standing::standby : Standing::spare;
}

uint64_t time_ms(TimePoint t) {
  return static_cast<uint64_t>(std::max<int64_t>(0, to_us(t) / 1000));
}

std::string concat(const raft_buffer* bufs, unsigned n) {
  std::string out;
  for (unsigned i = 0; i < n; ++i) out.append(static_cast<const char*>(bufs[i].base), bufs[i].len);
  return out;
}

std::vector<StoredMember> members_of(const raft_configuration& c) {
  std::vector<StoredMember> out;
  for (unsigned i = 0; i < c.n; ++i) out.push_back({c.servers[i].id, c.servers[i].address, c.servers[i].role});
  return out;
}

// A raft_snapshot that libraft will own: struct, configuration and one buffer from raft_malloc.
raft_snapshot* to_raft(const StoredSnapshot& s) {
  auto* out = static_cast<raft_snapshot*>(raft_calloc(1, sizeof(raft_snapshot)));
  auto* bufs = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  void* data = raft_malloc(s.data.empty() ? 1 : s.data.size());
  if (out == nullptr || bufs == nullptr || data == nullptr) throw std::bad_alloc();
  out->index = s.index;
  out->term = s.term;
  raft_configuration_init(&out->configuration);
  for (const auto& m : s.configuration) {
    if (raft_configuration_add(&out->configuration, m.id, m.address.c_str(), m.role) != 0) {
      throw std::runtime_error("snapshot: bad configuration member " + std::to_string(m.id));
    }
  }
  out->configuration_index = s.configuration_index;
  std::memcpy(data, s.data.data(), s.data.size());
  bufs[0].base = data;
  bufs[0].len = s.data.size();
  out->bufs = bufs;
  out->n_bufs = 1;
  return out;
}

}  // namespace

struct Consensus::Raft {
  raft r{};
  raft_fsm fsm{};
};

// The project's raft_io: libraft's disk, network, time and randomness, over a LogStore and an
// outbox, with every completion fired from flush() (never from inside the call that asked).
class Consensus::Io {
 public:
  Io(Consensus& owner, LogStore& log, const Options& o)
      : owner_(owner), log_(log), rng_(o.seed), tick_ms_(static_cast<unsigned>(o.tick_ms)),
        max_entry_bytes_(o.max_entry_bytes_per_rpc) {
    io_.version = 1;
    io_.impl = this;
    io_.init = [](raft_io*, raft_id, const char*) { return 0; };
    io_.close = [](raft_io* io, raft_io_close_cb cb) { self(io).close_cb_ = cb; };
    io_.load = &Io::load;
    io_.start = [](raft_io* io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv) {
      Io& s = self(io);
      s.tick_cb_ = tick;
      s.recv_cb_ = recv;
      s.tick_ms_ = std::max(1u, std::min(msecs, s.tick_ms_));
      s.next_tick_ = s.now_ + ms(s.tick_ms_);
      return 0;
    };
    io_.bootstrap = &Io::bootstrap;
    io_.recover = [](raft_io*, const raft_configuration*) { return RAFT_NOTFOUND; };
    io_.set_term = [](raft_io* io, raft_term term) { return self(io).durable_term_vote(term, 0); };
    io_.set_vote = [](raft_io* io, raft_id vote) { return self(io).durable_term_vote(self(io).term_, vote); };
    io_.send = &Io::send;
    io_.append = [](raft_io* io, raft_io_append* req, const raft_entry entries[], unsigned n, raft_io_append_cb cb) {
      Io& s = self(io);
      ++s.appends_;
      s.queue_.push_back(Append{req, cb, s.next_index_, entries, n});
      s.next_index_ += n;
      return 0;
    };
    io_.truncate = [](raft_io* io, raft_index index) {
      Io& s = self(io);
      s.queue_.push_back(Truncate{index});
      s.next_index_ = index;
      return 0;
    };
    io_.snapshot_put = &Io::snapshot_put;
    io_.snapshot_get = [](raft_io* io, raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb) {
      self(io).queue_.push_back(SnapshotGet{req, cb});
      return 0;
    };
    io_.time = [](raft_io* io) -> raft_time { return time_ms(self(io).now_ + self(io).skew_); };
    io_.random = [](raft_io* io, int min, int max) {
      return std::uniform_int_distribution<int>(min, std::max(min, max))(self(io).rng_);
    };
  }

  raft_io* io() { return &io_; }
  void set_now(TimePoint now) { now_ = now; }
  // Moves libraft's clock forward by `d`, for good (Consensus::leader_lost).
  void advance(Duration d) { skew_ += d; }
  bool pending() const { return !queue_.empty(); }
  TimePoint next_tick() const { return tick_cb_ ? next_tick_ : TimePoint::max(); }

  void deliver(raft_message& msg) { recv_cb_(&io_, &msg); }

  void tick() {
    next_tick_ = now_ + ms(tick_ms_);
    if (tick_cb_) tick_cb_(&io_);
  }

  // See Consensus::flush. Returns false when the store failed. `background`: a batch's sync is
  // started (LogStore::start_sync) and its completions wait for it, while the caller goes on;
  // otherwise every write so far, those of syncs still running included, is made durable now.
  bool flush(bool background) {
    try {
      if (!background && !in_flight_.empty()) {
        log_.sync_log();
        durable_through_ = last_ticket_;
      }
      complete_synced();
      for (int round = 0; round < 4 && !queue_.empty(); ++round) {
        std::deque<Request> batch;
        batch.swap(queue_);
        try {
          bool wrote = false;
          for (auto& request : batch) wrote = write(request) || wrote;
          if (wrote && background) {
            last_ticket_ = log_.start_sync(now_);
            in_flight_.push_back({last_ticket_, now_, std::move(batch)});
            complete_synced();
            continue;
          }
          if (wrote) {
            log_.sync_log();
            durable_through_ = last_ticket_;
            complete_synced();
          }
        } catch (...) {
          // Not completed now (the replica stops), but at close, as canceled: libraft frees them then.
          for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
          throw;
        }
        for (auto& request : batch) complete(request, 0);
      }
    } catch (const std::exception& e) {
      owner_.failure_ = std::string("storage failed: ") + e.what();
      return false;
    }
    return true;
  }

  // Batches whose sync is still running, and since when the oldest has been.
  bool syncing() const { return !in_flight_.empty(); }
  TimePoint syncing_since() const { return in_flight_.empty() ? TimePoint::max() : in_flight_.front().started; }
  // The ticket of the oldest running sync (0: none).
  uint64_t syncing_ticket() const { return in_flight_.empty() ? 0 : in_flight_.front().ticket; }
  void post(const std::string& to, std::string bytes) { outbox_.emplace_back(to, std::move(bytes)); }
  uint64_t appends() const { return appends_; }  // append requests libraft made so far
  // The time libraft reads, in its milliseconds.
  raft_time raft_now() const { return time_ms(now_ + skew_); }
  // When a running sync is done or will be (now_ when one is; TimePoint::max() when the store
  // will wake the loop itself).
  TimePoint next_synced() {
    if (in_flight_.empty()) return TimePoint::max();
    if (std::max(log_.synced(now_), durable_through_) >= in_flight_.front().ticket) return now_;
    return log_.next_synced();
  }

  // At close: every queued request completes as canceled, then libraft's close callback.
  void drain_for_close() {
    for (auto& f : in_flight_) {
      for (auto& request : f.batch) complete(request, RAFT_CANCELED);
    }
    in_flight_.clear();
    while (!queue_.empty()) {
      std::deque<Request> batch;
      batch.swap(queue_);
      for (auto& request : batch) complete(request, RAFT_CANCELED);
    }
    if (close_cb_) std::exchange(close_cb_, nullptr)(&io_);
  }

  std::vector<std::pair<std::string, std::string>> take_outbox() { return std::exchange(outbox_, {}); }

 private:
  struct Append {
    raft_io_append* req;
    raft_io_append_cb cb;
    uint64_t index;
    const raft_entry* entries;
    unsigned n;
  };
  struct Truncate {
    uint64_t index;
  };
  struct SnapshotPut {
    raft_io_snapshot_put* req;
    raft_io_snapshot_put_cb cb;
    StoredSnapshot snapshot;
    uint64_t keep_from;
  };
  struct SnapshotGet {
    raft_io_snapshot_get* req;
    raft_io_snapshot_get_cb cb;
  };
  struct SendDone {
    raft_io_send* req;
    raft_io_send_cb cb;
  };
  using Request = std::variant<Append, Truncate, SnapshotPut, SnapshotGet, SendDone>;
  struct InFlight {
    uint64_t ticket;             // the LogStore sync that makes the batch durable
    TimePoint started;
    std::deque<Request> batch;   // completed, in order, once it has
  };

  // Completes, in order, the batches whose sync is done (throws when the store failed).
  void complete_synced() {
    if (in_flight_.empty()) return;
    const uint64_t done = std::max(log_.synced(now_), durable_through_);
    while (!in_flight_.empty() && in_flight_.front().ticket <= done) {
      std::deque<Request> batch = std::move(in_flight_.front().batch);
      in_flight_.pop_front();
      for (auto& request : batch) complete(request, 0);
    }
  }

  static Io& self(raft_io* io) { return *static_cast<Io*>(io->impl); }

  // Writes `request` to the store (not yet synced); true when it wrote.
  bool write(Request& request) {
    if (auto* a = std::get_if<Append>(&request)) {
      for (unsigned i = 0; i < a->n; ++i) {
        const raft_entry& e = a->entries[i];
        log_.append_entry(a->index + i, {e.term, e.type, std::string(static_cast<const char*>(e.buf.base), e.buf.len)});
      }
      return true;  // even empty: appends complete in the order they were asked
    }
    if (auto* t = std::get_if<Truncate>(&request)) {
      log_.truncate_log(t->index);
      return true;
    }
    if (auto* p = std::get_if<SnapshotPut>(&request)) {
      log_.put_snapshot(p->snapshot, p->keep_from);
      return true;
    }
    return false;
  }

  void complete(Request& request, int status) {
    if (auto* a = std::get_if<Append>(&request)) {
      if (a->cb) a->cb(a->req, status);
    } else if (auto* p = std::get_if<SnapshotPut>(&request)) {
      if (p->cb) p->cb(p->req, status);
    } else if (auto* g = std::get_if<SnapshotGet>(&request)) {
      raft_snapshot* snapshot = nullptr;
      if (status == 0) {
        try {
          if (auto s = log_.snapshot()) snapshot = to_raft(*s);
        } catch (const std::exception& e) {
          owner_.failure_ = std::string("storage failed: ") + e.what();
        }
      }
      g->cb(g->req, snapshot, snapshot != nullptr ? 0 : (status != 0 ? status : RAFT_NOTFOUND));
    } else if (auto* s = std::get_if<SendDone>(&request)) {
      if (s->cb) s->cb(s->req, status);
    }
  }

  int durable_term_vote(uint64_t term, uint64_t vote) {
    try {
      log_.set_term_vote(term, vote);
      log_.sync_log();
      durable_through_ = last_ticket_;  // that sync covered every one still running
    } catch (const std::exception& e) {
      owner_.failure_ = std::string("storage failed: ") + e.what();
      return RAFT_IOERR;
    }
    term_ = term;
    return 0;
  }

  static int load(raft_io* io, raft_term* term, raft_id* voted_for, raft_snapshot** snapshot,
                  raft_index* start_index, raft_entry* entries[], size_t* n_entries) {
    Io& s = self(io);
    StoredLog stored;
    try {
      stored = s.log_.load_log();
      *snapshot = stored.snapshot ? to_raft(*stored.snapshot) : nullptr;
    } catch (const std::exception& e) {
      s.owner_.failure_ = std::string("loading the log failed: ") + e.what();
      return RAFT_IOERR;
    }
    *term = stored.term;
    *voted_for = stored.vote;
    s.term_ = stored.term;
    const size_t n = stored.entries.size();
    *start_index = n > 0 ? stored.first_index : (stored.snapshot ? stored.snapshot->index + 1 : 1);
    s.next_index_ = *start_index + n;
    *n_entries = n;
    *entries = nullptr;
    if (n == 0) return 0;
    size_t total = 0;
    for (const auto& e : stored.entries) total += e.data.size();
    auto* out = static_cast<raft_entry*>(raft_calloc(n, sizeof(raft_entry)));
    char* batch = static_cast<char*>(raft_malloc(total > 0 ? total : 1));
    if (out == nullptr || batch == nullptr) return RAFT_NOMEM;
    char* cursor = batch;
    for (size_t i = 0; i < n; ++i) {
      const auto& e = stored.entries[i];
      std::memcpy(cursor, e.data.data(), e.data.size());
      out[i].term = e.term;
      out[i].type = static_cast<unsigned short>(e.type);
      out[i].buf.base = cursor;
      out[i].buf.len = e.data.size();
      out[i].batch = batch;
      cursor += e.data.size();
    }
    *entries = out;
    return 0;
  }

  static int bootstrap(raft_io* io, const raft_configuration* conf) {
    Io& s = self(io);
    try {
      const StoredLog stored = s.log_.load_log();
      if (stored.term != 0 || !stored.entries.empty() || stored.snapshot) return RAFT_CANTBOOTSTRAP;
      raft_buffer buf{};
      if (int rv = raft_configuration_encode(conf, &buf); rv != 0) return rv;
      LogEntry first{1, RAFT_CHANGE, std::string(static_cast<const char*>(buf.base), buf.len)};
      raft_free(buf.base);
      s.log_.set_term_vote(1, 0);
      s.log_.append_entry(1, first);
      s.log_.sync_log();
    } catch (const std::exception& e) {
      s.owner_.failure_ = std::string("bootstrap failed: ") + e.what();
      return RAFT_IOERR;
    }
    return 0;
  }

  static int send(raft_io* io, raft_io_send* req, const raft_message* msg, raft_io_send_cb cb) {
    Io& s = self(io);
    const std::string to = member_of(0, msg->server_address != nullptr ? msg->server_address : "").name;
    for (auto& bytes : encode_rpc(*msg, s.max_entry_bytes_)) s.outbox_.emplace_back(to, std::move(bytes));
    s.queue_.push_back(SendDone{req, cb});
    return 0;
  }

  static int snapshot_put(raft_io* io, unsigned trailing, raft_io_snapshot_put* req,
                          const raft_snapshot* snapshot, raft_io_snapshot_put_cb cb) {
    Io& s = self(io);
    StoredSnapshot stored{snapshot->index, snapshot->term, members_of(snapshot->configuration),
                          snapshot->configuration_index, concat(snapshot->bufs, snapshot->n_bufs)};
    uint64_t keep_from = std::numeric_limits<uint64_t>::max();  // trailing 0: the snapshot replaces the log
    if (trailing > 0) keep_from = snapshot->index > trailing ? snapshot->index - trailing + 1 : 1;
    if (trailing == 0) s.next_index_ = snapshot->index + 1;
    s.queue_.push_back(SnapshotPut{req, cb, std::move(stored), keep_from});
    return 0;
  }

  Consensus& owner_;
  LogStore& log_;
  std::deque<InFlight> in_flight_;
  uint64_t appends_ = 0;
  uint64_t last_ticket_ = 0;      // the latest sync started
  uint64_t durable_through_ = 0;  // tickets made durable by a sync_log() here
  raft_io io_{};
  std::mt19937_64 rng_;
  unsigned tick_ms_;
  size_t max_entry_bytes_;
  TimePoint now_{};
  Duration skew_{};  // added to now_ in the time libraft reads
  TimePoint next_tick_ = TimePoint::max();
  raft_io_tick_cb tick_cb_ = nullptr;
  raft_io_recv_cb recv_cb_ = nullptr;
  raft_io_close_cb close_cb_ = nullptr;
  uint64_t term_ = 0;
  uint64_t next_index_ = 1;  // the index the next appended entry gets
  std::deque<Request> queue_;
  std::vector<std::pair<std::string, std::string>> outbox_;
};

namespace {

// A proposal or barrier in flight: libraft's request and what to call when it is done.
template <class Req>
struct Pending {
  Req req{};
  Consensus::Done done;
};

template <class Req>
void complete_request(Req* req, int status) {
  auto* p = static_cast<Pending<Req>*>(req->data);
  Consensus::Done done = std::move(p->done);
  delete p;
  if (done) done(status == 0);
}

}  // namespace

// The state machine's calls, with a throw (a storage failure) stopping the replica: no exception
// may cross libraft's C frames.
struct Consensus::Fsm {
  static Consensus& of(raft_fsm* f) { return *static_cast<Consensus*>(f->data); }
  static int apply(raft_fsm* f, const raft_buffer* buf, void** result) {
    *result = nullptr;
    Consensus& c = of(f);
    if (c.failed()) return 0;
    try {
      c.machine_.apply(std::string_view(static_cast<const char*>(buf->base), buf->len));
    } catch (const std::exception& e) {
      c.failure_ = std::string("applying an entry failed: ") + e.what();
    }
    return 0;
  }
  static int snapshot(raft_fsm* f, raft_buffer* bufs[], unsigned* n) {
    Consensus& c = of(f);
    std::string data;
    try {
      data = c.machine_.snapshot();
    } catch (const std::exception& e) {
      c.failure_ = std::string("taking a snapshot failed: ") + e.what();
      return RAFT_IOERR;
    }
    *bufs = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
    if (*bufs == nullptr) return RAFT_NOMEM;
    (*bufs)[0].base = raft_malloc(data.empty() ? 1 : data.size());
    if ((*bufs)[0].base == nullptr) return RAFT_NOMEM;
    std::memcpy((*bufs)[0].base, data.data(), data.size());
    (*bufs)[0].len = data.size();
    *n = 1;
    return 0;
  }
  static int restore(raft_fsm* f, raft_buffer* buf) {
    Consensus& c = of(f);
    try {
      c.machine_.restore(std::string_view(static_cast<const char*>(buf->base), buf->len));
    } catch (const std::exception& e) {
      c.failure_ = std::string("restoring a snapshot failed: ") + e.what();
    }
    raft_free(buf->base);
    return 0;
  }
};

Consensus::Consensus(Options options, LogStore& log, Machine& machine, TimePoint now)
    : options_(std::move(options)), machine_(machine), io_(std::make_unique<Io>(*this, log, options_)),
      raft_(std::make_unique<Raft>()) {
  io_->set_now(now);
  raft_fsm& fsm = raft_->fsm;
  fsm.version = 1;
  fsm.data = this;
  fsm.apply = &Fsm::apply;
  fsm.snapshot = &Fsm::snapshot;
  fsm.restore = &Fsm::restore;

  raft& r = raft_->r;
  if (int rv = raft_init(&r, io_->io(), &fsm, options_.self.id, member_address(options_.self).c_str()); rv != 0) {
    throw std::runtime_error(std::string("raft_init: ") + raft_strerror(rv));
  }
  raft_set_election_timeout(&r, static_cast<unsigned>(options_.election_timeout_ms));
  raft_set_heartbeat_timeout(&r, static_cast<unsigned>(options_.heartbeat_ms));
  raft_set_pre_vote(&r, options_.pre_vote);
  raft_set_snapshot_threshold(&r, options_.snapshot_threshold);
  raft_set_snapshot_trailing(&r, options_.snapshot_trailing);

  if (!options_.voters.empty()) {
    raft_configuration conf;
    raft_configuration_init(&conf);
    for (const auto& m : options_.voters) raft_configuration_add(&conf, m.id, member_address(m).c_str(), RAFT_VOTER);
    const int boot = raft_bootstrap(&r, &conf);
    raft_configuration_close(&conf);
    if (boot != 0 && boot != RAFT_CANTBOOTSTRAP) {
      throw std::runtime_error(std::string("raft_bootstrap: ") + raft_strerror(boot) + (failed() ? ": " + failure_ : ""));
    }
  }
  if (int rv = raft_start(&r); rv != 0) {
    throw std::runtime_error(std::string("raft_start: ") + raft_strerror(rv) + (failed() ? ": " + failure_ : ""));
  }
  after_step();
}

Consensus::~Consensus() {
  raft_close(&raft_->r, nullptr);
  io_->drain_for_close();
}

namespace {

// Whether this replica, with `ours` as its last log index, would win a leaderless election that
// the replica `them` asked its vote for (Consensus::receive).
bool we_would_win(raft_index ours, raft_index theirs, bool pre_vote, raft_id them, raft_id self) {
  return ours > theirs || (!pre_vote && ours == theirs && self < them);
}

}  // namespace

void Consensus::receive(const std::string& from, std::string_view rpc, TimePoint now, uint64_t sender) {
  io_->set_now(now);
  if (failed()) return;
  const raft& r = raft_->r;
  const raft_server* known = nullptr;
  for (unsigned i = 0; i < r.configuration.n; ++i) {
    const raft_server& s = r.configuration.servers[i];
    if (sender != 0 ? s.id == sender : member_of(s.id, s.address).name == from) known = &s;
  }
  raft_message msg;
  std::string why;
  Probe probe;
  if (sender == 0 && known == nullptr) {
    why = "not a member of the group";
  } else if ((known != nullptr && member_of(known->id, known->address).name != from) || sender == options_.self.id ||
             (known != nullptr && known->id == options_.self.id)) {
    why = "its Raft id belongs to another member";
  } else if (decode_probe(rpc, probe)) {
    on_probe(from, known != nullptr ? known->id : sender, probe);
    return;
  } else if (decode_rpc(rpc, msg, why)) {
    msg.server_id = known != nullptr ? known->id : sender;
    // An unknown sender's messages are answered by name (Io::send takes the name part).
    msg.server_address = known != nullptr ? known->address : from.c_str();
    if (msg.type == RAFT_IO_APPEND_ENTRIES || msg.type == RAFT_IO_INSTALL_SNAPSHOT ||
        msg.type == RAFT_IO_APPEND_ENTRIES_RESULT) {
      last_contact_ = now;
    }
    const bool vote_request = msg.type == RAFT_IO_REQUEST_VOTE;
    const bool pre_vote = vote_request && msg.request_vote.pre_vote;
    const raft_index their_last = vote_request ? msg.request_vote.last_log_index : 0;
    const raft_id them = msg.server_id;
    // TimeoutNow makes a follower a candidate at once: its log must be on its disk first.
    if (msg.type == RAFT_IO_TIMEOUT_NOW && io_->syncing() && !io_->flush(false)) {
      free_rpc(msg);
      return;
    }
    // libraft answers an AppendEntries that carries entries only once they are on disk. While
    // this replica's disk is slow (a sync running longer than a heartbeat interval), the same
    // message is delivered again without its entries, as a heartbeat, which libraft answers at
    // once with what is on disk (as it answers any heartbeat): the leader keeps hearing from us
    // and does not step down for want of a quorum while every disk stalls.
    std::optional<raft_message> heartbeat;
    if (msg.type == RAFT_IO_APPEND_ENTRIES && msg.append_entries.n_entries > 0 &&
        now - io_->syncing_since() >= ms(options_.heartbeat_ms)) {
      const raft_append_entries& a = msg.append_entries;
      heartbeat = msg;
      heartbeat->append_entries = {a.term, a.prev_log_index + a.n_entries, a.entries[a.n_entries - 1].term,
                                   a.leader_commit, nullptr, 0};
    }
    const uint64_t appends = io_->appends();
    io_->deliver(msg);
    // Only when libraft took the entries (the log matched); a refusal it answered itself.
    if (heartbeat && io_->appends() > appends && role() == Role::follower) io_->deliver(*heartbeat);
    after_step();
    // A leaderless election that the one asking cannot win: its log is shorter, so it cannot
    // have our vote and we would have its; or (a real vote, not a pre-vote) the logs are equal
    // and both voted for themselves in the same term, a split vote, where the lower Raft id
    // goes again. Run for it at the next tick rather than after our own timeout. The one asking
    // never does the same for us, so two replicas never keep restarting each other.
    if (vote_request && role() != Role::leader && !leader() &&
        we_would_win(raft_last_index(&raft_->r), their_last, pre_vote, them, options_.self.id)) {
      io_->advance(ms(2 * options_.election_timeout_ms));
      ++elections_brought_forward_;
    }
    return;
  }
  ++rpcs_dropped_;
  if (std::find(warned_.begin(), warned_.end(), from) == warned_.end()) {
    warned_.push_back(from);
    spdlog::warn("dropped a Raft message from '{}': {}", from, why);
  }
}

void Consensus::tick(TimePoint now) {
  io_->set_now(now);
  if (failed()) return;
  if (now >= io_->next_tick()) {
    // Everything appended is durable before an election can start (see the file comment).
    if (!io_->flush(!election_due())) return;
    io_->tick();
    after_step();
    io_->flush(true);
    hand_over_if_disk_stalls(now);
  }
  send_probes(now);
  settle_confirms();
}

bool Consensus::election_due() const {
  const raft& r = raft_->r;
  if (r.state == RAFT_FOLLOWER) return io_->raft_now() - r.election_timer_start >= r.follower_state.randomized_election_timeout;
  if (r.state == RAFT_CANDIDATE) return io_->raft_now() - r.election_timer_start >= r.candidate_state.randomized_election_timeout;
  return false;
}

void Consensus::hand_over_if_disk_stalls(TimePoint now) {
  if (role() != Role::leader || raft_->r.transfer != nullptr || changing()) return;
  const Duration stalled = now - io_->syncing_since();
  if (stalled < ms(options_.election_timeout_ms / 2)) return;
  // This leader's disk has held a sync for half an election timeout. libraft commits nothing past
  // what is on the leader's own disk, so a voter whose disk works should lead instead: one that
  // stores what is appended from now on. A barrier is appended now (once per stuck sync), so that
  // there is such an entry even without writes.
  const uint64_t stuck = io_->syncing_ticket();
  if (stall_probed_for_ != stuck && barrier([](bool) {})) {
    stall_probed_for_ = stuck;
    stall_probe_ = last_index();
  }
  if (stalled < ms(options_.election_timeout_ms) || stall_probed_for_ != stuck) return;
  // When no voter has stored it (every disk stalls together, maybe beginning a little later than
  // ours), nobody is handed anything: a new leader would do no better, and could not even commit
  // the entry of its own term that it needs to serve.
  uint64_t best = 0, best_match = stall_probe_ - 1;
  for (const auto& p : peers()) {
    if (p.voter && p.match_index > best_match) {
      best = p.member.id;
      best_match = p.match_index;
    }
  }
  if (best == 0) return;
  if (transfer(best, {})) {
    ++stall_handovers_;
    spdlog::warn("the disk has held a sync for {} ms: handing leadership to replica {}, whose disk works",
                 to_ms(stalled), best);
  }
}

bool Consensus::confirm(Done done) {
  if (failed() || role() != Role::leader) return false;
  confirms_.push_back({probe_seq_ + 1, term(), std::move(done)});
  return true;
}

void Consensus::send_probes(TimePoint now) {
  if (confirms_.empty() || role() != Role::leader) return;
  if (probe_seq_ >= confirms_.back().seq && now - probe_sent_at_ < ms(options_.heartbeat_ms)) return;
  ++probe_seq_;
  probe_sent_at_ = now;
  const raft& r = raft_->r;
  for (unsigned i = 0; i < r.configuration.n; ++i) {
    const raft_server& s = r.configuration.servers[i];
    if (s.role != RAFT_VOTER || s.id == options_.self.id) continue;
    io_->post(member_of(s.id, s.address).name, encode_probe({false, term(), probe_seq_}));
  }
}

void Consensus::on_probe(const std::string& from, uint64_t sender, const Probe& p) {
  if (!p.answer) {
    // We follow the sender in its term: say so (a leader counts this as its read index's vote).
    const auto l = leader();
    if (role() == Role::follower && p.term == term() && l && l->id == sender) {
      io_->post(from, encode_probe({true, p.term, p.seq}));
    }
    return;
  }
  if (role() != Role::leader || p.term != term()) return;
  auto& acked = probe_acks_[sender];
  acked = std::max(acked, p.seq);
  settle_confirms();
}

void Consensus::settle_confirms() {
  while (!confirms_.empty()) {
    Confirm& c = confirms_.front();
    if (role() != Role::leader || term() != c.term) {
      Done done = std::move(c.done);
      confirms_.pop_front();
      if (done) done(false);
      continue;
    }
    const raft& r = raft_->r;
    unsigned voters = 0, yes = 0;
    for (unsigned i = 0; i < r.configuration.n; ++i) {
      const raft_server& s = r.configuration.servers[i];
      if (s.role != RAFT_VOTER) continue;
      ++voters;
      if (s.id == options_.self.id) {
        ++yes;
      } else if (auto it = probe_acks_.find(s.id); it != probe_acks_.end() && it->second >= c.seq) {
        ++yes;
      }
    }
    if (2 * yes <= voters) return;
    Done done = std::move(c.done);
    confirms_.pop_front();
    if (done) done(true);
  }
}

bool Consensus::leader_lost() {
  if (failed() || role() != Role::follower || !leader()) return false;
  io_->advance(ms(options_.election_timeout_ms));
  return true;
}

TimePoint Consensus::next_wake() const {
  if (failed()) return TimePoint::max();
  if (io_->pending()) return TimePoint::min();
  TimePoint w = std::min(io_->next_tick(), io_->next_synced());
  if (!confirms_.empty()) {
    // Probes not yet sent for the latest confirm go now; otherwise they are resent each heartbeat.
    w = std::min(w, probe_seq_ < confirms_.back().seq ? TimePoint::min() : probe_sent_at_ + ms(options_.heartbeat_ms));
  }
  return w;
}

void Consensus::flush(TimePoint now) {
  io_->set_now(now);
  if (failed()) return;
  io_->flush(true);
  after_step();
  send_probes(now);
  settle_confirms();
}

std::vector<std::pair<std::string, std::string>> Consensus::take_outbox() { return io_->take_outbox(); }

bool Consensus::propose(std::string_view entry, Done done) {
  if (failed() || role() != Role::leader) return false;
  raft_buffer buf;
  buf.len = entry.size();
  buf.base = raft_malloc(entry.empty() ? 1 : entry.size());
  if (buf.base == nullptr) return false;
  std::memcpy(buf.base, entry.data(), entry.size());
  auto* p = new Pending<struct raft_apply>{{}, std::move(done)};
  p->req.data = p;
  const int rv = raft_apply(&raft_->r, &p->req, &buf, 1,
                            [](struct raft_apply* req, int status, void*) { complete_request(req, status); });
  if (rv != 0) {
    raft_free(buf.base);
    delete p;
    return false;
  }
  return true;
}

bool Consensus::barrier(Done done) {
  if (failed() || role() != Role::leader) return false;
  auto* p = new Pending<struct raft_barrier>{{}, std::move(done)};
  p->req.data = p;
  if (raft_barrier(&raft_->r, &p->req, [](struct raft_barrier* req, int status) { complete_request(req, status); }) != 0) {
    delete p;
    return false;
  }
  return true;
}

void Consensus::after_step() {
  if (probe_term_ != term()) {
    probe_term_ = term();
    probe_acks_.clear();
  }
  if (role() != Role::leader) {
    ready_ = false;
    return;
  }
  const uint64_t t = term();
  if (ready_term_ == t) return;
  // Newly elected: nothing is served until a barrier of this term has been applied.
  ready_term_ = t;
  ready_ = false;
  barrier([this, t](bool ok) {
    if (ok && term() == t && role() == Role::leader) ready_ = true;
  });
}

Role Consensus::role() const {
  if (failed()) return Role::stopped;
  switch (raft_state(&raft_->r)) {
    case RAFT_FOLLOWER: return Role::follower;
    case RAFT_CANDIDATE: return Role::candidate;
    case RAFT_LEADER: return Role::leader;
    default: return Role::stopped;
  }
}

uint64_t Consensus::term() const { return raft_->r.current_term; }
uint64_t Consensus::commit_index() const { return raft_->r.commit_index; }
uint64_t Consensus::last_applied() const { return raft_last_applied(&raft_->r); }
uint64_t Consensus::last_index() const { return raft_last_index(&raft_->r); }

std::optional<Member> Consensus::leader() const {
  raft_id id = 0;
  const char* address = nullptr;
  raft_leader(&raft_->r, &id, &address);
  if (id == 0 || address == nullptr) return std::nullopt;
  return member_of(id, address);
}

std::vector<Consensus::Peer> Consensus::peers() const {
  std::vector<Peer> out;
  const raft& r = raft_->r;
  const bool leading = r.state == RAFT_LEADER;
  for (unsigned i = 0; i < r.configuration.n; ++i) {
    const raft_server& s = r.configuration.servers[i];
    if (s.id == options_.self.id) continue;
    Peer p;
    p.member = member_of(s.id, s.address);
    p.voter = s.role == RAFT_VOTER;
    p.match_index = leading && r.leader_state.progress != nullptr ? r.leader_state.progress[i].match_index : 0;
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Configured> Consensus::configuration() const {
  std::vector<Configured> out;
  const raft& r = raft_->r;
  for (unsigned i = 0; i < r.configuration.n; ++i) {
    const raft_server& s = r.configuration.servers[i];
    out.push_back({member_of(s.id, s.address), standing_of(s.role)});
  }
  return out;
}

uint64_t Consensus::configuration_index() const {
  const raft& r = raft_->r;
  return std::max(r.configuration_index, r.configuration_uncommitted_index);
}

bool Consensus::changing() const {
  const raft& r = raft_->r;
  if (r.state != RAFT_LEADER) return false;
  return r.configuration_uncommitted_index != 0 || r.leader_state.change != nullptr ||
         r.leader_state.promotee_id != 0 || r.transfer != nullptr;
}

namespace {

Pending<raft_change>* change_request(Consensus::Done done) {
  auto* p = new Pending<raft_change>{{}, std::move(done)};
  p->req.data = p;
  return p;
}

void change_done(raft_change* req, int status) { complete_request(req, status); }

}  // namespace

bool Consensus::add(const Member& m, Done done) {
  if (failed() || role() != Role::leader || changing()) return false;
  auto* p = change_request(std::move(done));
  if (raft_add(&raft_->r, &p->req, m.id, member_address(m).c_str(), &change_done) != 0) {
    delete p;
    return false;
  }
  return true;
}

bool Consensus::assign(uint64_t id, Standing s, Done done) {
  if (failed() || role() != Role::leader || changing()) return false;
  auto* p = change_request(std::move(done));
  if (raft_assign(&raft_->r, &p->req, id, raft_role(s), &change_done) != 0) {
    delete p;
    return false;
  }
  return true;
}

bool Consensus::remove(uint64_t id, Done done) {
  if (failed() || role() != Role::leader || changing()) return false;
  auto* p = change_request(std::move(done));
  if (raft_remove(&raft_->r, &p->req, id, &change_done) != 0) {
    delete p;
    return false;
  }
  return true;
}

bool Consensus::transfer(uint64_t id, Done done) {
  if (failed() || role() != Role::leader || changing()) return false;
  struct Transfer {
    struct raft_transfer req{};
    Consensus* owner;
    Done done;
  };
  auto* t = new Transfer{{}, this, std::move(done)};
  t->req.data = t;
  const int rv = raft_transfer(&raft_->r, &t->req, id, [](struct raft_transfer* req) {
    auto* t = static_cast<Transfer*>(req->data);
    Done done = std::move(t->done);
    const auto leader = t->owner->leader();
    const bool ok = leader && leader->id != t->owner->id() && t->owner->role() != Role::leader;
    delete t;
    if (done) done(ok);
  });
  if (rv != 0) {
    delete t;
    return false;
  }
  return true;
}

}  // namespace oly::consensus
