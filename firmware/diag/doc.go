// Package diag holds what an administrator looks into when something
// fails: the recent log and the SIP trace, each in a ring of fixed size
// (Ring), the log's fan-out to the console, the ring and a syslog server
// (Log, RFC 5424 over UDP: Syslog), and the SIP trace (Trace), which the
// user agent's one send-and-receive hook feeds.
//
// Like the rest of the phone's core it allocates at start-up only: a ring
// is one buffer made by its constructor, each log line and each SIP
// message is copied into it, and the oldest records are overwritten when
// it is full. Nothing in here waits on the network: syslog is UDP, and a
// datagram the socket cannot take at once is dropped.
//
// The web page reads a ring with WriteTo (an io.WriterTo), which copies a
// bounded chunk at a time under the ring's lock and writes it outside the
// lock, so a slow browser never holds up the phone's logging.
package diag
