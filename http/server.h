// An HTTP server (GNU libmicrohttpd 0.9.75) run from the caller's own event loop, with no threads
// of its own.
//
// The loop: poll fd() for reading beside your own sockets, at most timeout() long when it has a
// value, and call run() when fd() is readable or the timeout passed (calling it more often is
// harmless). run() does the pending network I/O without blocking and returns the requests that
// became complete. Each request is then held (its connection suspended) until the caller answers
// it with respond(id, ...), however long that takes, so that it can wait for a Raft round without
// a thread waiting with it; respond() makes fd() readable, and the next run() writes the answer.
// fd() alone signals all the work run() has (new data, and data libmicrohttpd has not read yet);
// timeout() only adds libmicrohttpd's own deadlines (closing idle connections).
//
// Requests, as run() returns them:
// - target: the request target exactly as sent: not percent-decoded, query included, with or
//   without a leading '/' ("abc=def", "http://h/x" and even "/a b" are passed as they are).
// - method and header names as sent (case kept), headers in the order sent.
// - version: "HTTP/1.0" or "HTTP/1.1" (any "HTTP/1.x" the client sent).
// - A body (a POST's) is read and dropped: run() returns the request once all of it arrived; an
//   HTTP/1.1 client that sent "Expect: 100-continue" is first sent "HTTP/1.1 100 Continue\r\n\r\n".
// - Lines may end with CRLF or LF.
//
// Responses (http10, the default) are these bytes exactly:
//   HTTP/1.0 <status> <reason>          e.g. "HTTP/1.0 200 OK", "HTTP/1.0 405 Method Not Allowed"
//   Connection: close                   ("Connection: Keep-Alive": see below)
//   Server: <Options::server>
//   <the caller's headers, in order>
//   Content-Length: <body size>
//   <empty line>
//   <body>                              (none for HEAD; Content-Length stays that of the body)
// libmicrohttpd adds nothing else (no Date). The connection is closed after the response, unless
// an HTTP/1.0 or 1.1 client sent "Connection: Keep-Alive": then the response says
// "Connection: Keep-Alive" and the connection waits for its next request (idle_timeout_s).
// With http10 false, libmicrohttpd's own choice: "HTTP/1.1" status lines, HTTP/1.1 clients kept
// alive (no Connection header), HTTP/1.0 clients closed with "Connection: close".
//
// Refused by libmicrohttpd itself (never seen by the caller; the connection is then closed):
// - no space in the request line ("HELLO"): closed at once, not a byte sent;
// - any other malformed request (no version "GET /x", empty target, a version that is not
//   HTTP/x.y, a header line without ':'): "HTTP/1.1 400 Bad Request";
// - "HTTP/2.0" and other non-1.x versions: "HTTP/1.1 505 HTTP Version Not Supported";
// - a request line that does not fit: "HTTP/1.1 414 URI Too Long"; headers that do not:
//   "HTTP/1.1 431 Request Header Fields Too Large". A request line and headers of up to
//   max_request_bytes always fit (with up to about a thousand headers); beyond about
//   max_request_bytes + 60 KiB nothing fits (the connection's memory is max_request_bytes + 64
//   KiB);
// - a body over max_request_bytes: closed without an answer.
// These answers carry "Connection: close", a Content-Length and a short HTML body, and no Server
// header.
//
// Connections:
// - Beyond max_connections, new connections wait in the kernel's listen queue until one closes.
// - A connection idle for idle_timeout_s (no request, or one arriving too slowly, or kept alive
//   after its answer) is closed without an answer. A request waiting for respond() never times out.
// - A client that closes its connection while its request waits is not noticed: libmicrohttpd
//   does not watch a suspended connection (and a close is not told apart from a client's half-
//   close after its request). respond() still returns true; the answer is written into the closed
//   connection and lost, and the connection is freed. So every request run() returned must be
//   answered, or its connection stays open (and counts against max_connections) for good.
// - Destroying the Server closes every connection, held requests included, without an answer.
//
// Streams (server-sent events and the like): instead of respond(), start_stream(id, head) answers
// a waiting request with head's status and headers and no Content-Length (HTTP/1.1: chunked;
// HTTP/1.0: the body ends when the connection closes), then write(id, bytes) appends to its body
// for as long as the client stays, and end_stream(id) finishes it. Bytes wait in the stream's own
// buffer until the socket takes them: unsent(id) says how many, so that the caller can stop
// writing to a client that does not read (and, say, send it a summary once it has caught up).
// While its buffer is empty a stream's connection is suspended: it never times out, and a client
// that went away is noticed only at the next write (write something every so often). A client
// whose socket takes nothing for idle_timeout_s while bytes wait is cut off.
//
// Errors: the constructor throws std::runtime_error when it cannot listen; nothing else throws.
// Thread-safety: none; one thread calls everything (libmicrohttpd's callbacks run inside run()).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oly::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  uint64_t id = 0;      // unique per Server, never 0
  std::string method;   // "GET", "POST", ... as sent
  std::string target;   // the raw request target exactly as sent, not decoded: "/a%3Db?local"
  std::string version;  // "HTTP/1.0" or "HTTP/1.1"
  Headers headers;      // in the order sent, names as sent
  std::string peer;     // the client's address: "127.0.0.1:54321" ("[::1]:54321" for IPv6)
};

struct Response {
  int status = 200;  // 200-599; anything else is sent as 500
  // Sent in this order, after Server. Server, Content-Length, Connection, Date and
  // Transfer-Encoding belong to the server and are dropped here, as is a header whose name is not
  // an HTTP token or whose value holds CR, LF or NUL.
  Headers headers;
  std::string body;  // Content-Length is its size
};

struct Options {
  std::string host = "127.0.0.1";         // the IPv4 or IPv6 address (or name) listened on, alone
  int port = 0;                           // 0: any free port (port() says which)
  std::string server = "olympics/1.0";    // the Server header of every response
  unsigned max_connections = 1024;        // open at once, held ones included
  unsigned idle_timeout_s = 30;           // an idle connection is closed after it (0: never)
  size_t max_request_bytes = 300 * 1024;  // request line + headers; a body: see "Refused"
  bool http10 = true;                     // every status line says HTTP/1.0 (see above)
};

class Server {
 public:
  // Listens on options.host:options.port. Throws std::runtime_error naming the address when it
  // cannot ("cannot listen for HTTP on 127.0.0.1:8100: Failed to bind to port 8100: Address
  // already in use").
  explicit Server(Options options);
  // Closes every connection, answered or not.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port listened on (the one the system chose when Options::port was 0).
  int port() const;
  // Readable whenever run() has work: poll it for reading; never read it. Valid for the Server's
  // lifetime.
  int fd() const;
  // Does the pending I/O without blocking (accepts, reads, writes answers, closes idle
  // connections) and returns the requests that became complete since the last call, in arrival
  // order. Each of them waits for respond().
  std::vector<Request> run();
  // Answers request `id`: the bytes go out at the next run() (respond() makes fd() readable).
  // Returns false, and does nothing, when `id` is unknown: never returned by run(), or answered
  // already (a closed client is not noticed: see above).
  bool respond(uint64_t id, Response response);
  // Answers request `id` with a stream: head's status and headers now (head.body, if any, is the
  // stream's first bytes), the rest by write(). Returns false, and does nothing, when `id` is not
  // waiting (as respond()).
  bool start_stream(uint64_t id, Response head);
  // Appends `bytes` to stream `id`. Returns false when the stream is gone (the client closed, was
  // cut off, or end_stream() was called).
  bool write(uint64_t id, std::string_view bytes);
  // Whether stream `id` is still open.
  bool streaming(uint64_t id) const;
  // Bytes given to write() that stream `id` has not yet handed to its socket (0 when gone).
  size_t unsent(uint64_t id) const;
  // Ends stream `id` once its buffered bytes are sent. Returns false when it is gone.
  bool end_stream(uint64_t id);
  // How many streams are open.
  size_t streams() const;
  // How many requests returned by run() wait for respond().
  size_t waiting() const;
  // How many requests the server holds in any stage (being read, waiting, being answered): for
  // tests and statistics; 0 when every connection is idle or closed.
  size_t in_flight() const;
  // The longest the caller may wait before calling run() again (0: at once; nullopt: no deadline
  // of the server's own, fd() says when). Use it to shorten the poll's timeout.
  std::optional<std::chrono::milliseconds> timeout() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oly::http
