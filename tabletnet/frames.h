// Frames on a byte stream, for the tablets' native TCP protocol (issue 16): each frame is a 4-byte
// big-endian length N, then N bytes of payload (one MessagePack map, common/codec.h).
//
//   00 00 00 1a | 83 a2 6f 70 a9 67 65 74 5f 73 63 6f 72 65 ...   (26 bytes: {op: get_score, ...})
//
// Limits, both directions: a payload is 1 to max_frame bytes (kMaxTabletFrame, 64 KiB, unless the
// reader is given another). A length of 0 or above the limit cannot be skipped safely (nothing
// marks where the next frame starts), so the reader stops at it for good: the connection answers
// with an error and closes. A huge prefix is refused as soon as its four bytes are in, before any
// payload is kept. A caller that reads at most room() bytes at a time, and takes the frames
// before reading again, never holds more than kFramePrefix + max_frame bytes per connection,
// whatever the peer sends.
//
// Thread-safety: FrameReader is used by one thread; the free functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace oly::tabletnet {

inline constexpr std::size_t kFramePrefix = 4;
inline constexpr std::size_t kMaxTabletFrame = 64 * 1024;

// Appends `payload` to `out` as one frame. REQUIRES: 1 <= payload.size() <= 0xffffffff.
void append_frame(std::string& out, std::string_view payload);
// `payload` as one frame.
std::string frame(std::string_view payload);
// A frame whose payload is written straight into `out`: open_frame() appends the length prefix,
// to be filled, and returns where it is; close_frame() fills it with the size of what was appended
// after it. REQUIRES (close_frame): 1 <= that size <= 0xffffffff.
std::size_t open_frame(std::string& out);
void close_frame(std::string& out, std::size_t at);

// Splits the bytes of one connection, as they arrive in any pieces, into frames.
class FrameReader {
 public:
  enum class Status {
    kFrame,     // next() gave a frame
    kNeedMore,  // no whole frame yet
    kTooLarge,  // a length prefix above the limit: the stream is unusable from here
    kEmpty,     // a length prefix of 0: the stream is unusable from here
  };

  explicit FrameReader(std::size_t max_frame = kMaxTabletFrame) : max_frame_(max_frame) {}

  // Appends bytes read from the connection. Once next() reported kTooLarge or kEmpty, bytes are
  // dropped unread.
  void feed(std::string_view bytes);
  // The next whole frame's payload, in `payload` (valid until the next feed() or next()), or why
  // there is none. After kTooLarge or kEmpty it keeps answering the same.
  Status next(std::string_view& payload);
  // Bytes held and not yet handed out.
  std::size_t buffered() const { return buf_.size() - start_; }
  // How many bytes the caller may read from the connection and feed() now without holding more
  // than kFramePrefix + max_frame (0: take the frames first, or the stream is unusable).
  std::size_t room() const {
    const std::size_t cap = kFramePrefix + max_frame_;
    return broken_ != Status::kNeedMore || buffered() >= cap ? 0 : cap - buffered();
  }
  // The length the last refused prefix claimed (kTooLarge), for the error text.
  std::uint32_t refused_length() const { return refused_; }
  std::size_t max_frame() const { return max_frame_; }

 private:
  std::size_t max_frame_;
  std::string buf_;
  std::size_t start_ = 0;  // first byte of buf_ not handed out
  Status broken_ = Status::kNeedMore;  // kTooLarge or kEmpty once the stream is unusable
  std::uint32_t refused_ = 0;
};

}  // namespace oly::tabletnet
