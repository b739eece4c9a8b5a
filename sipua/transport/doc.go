// Package transport carries SIP messages (RFC 3261 section 18).
//
// UDP: one bound socket, a read loop handing each datagram to a callback,
// sends to any address, and the choice of the local address a Contact
// should name.
//
// Stream (TCP, or TLS through crypto/tls): a listener and a table of
// connections keyed by remote address, reused for requests and for the
// responses to requests that came on them (18.2.2); messages framed by
// Content-Length (18.3) within a bounded size; RFC 5626 section 3.5.1 CRLF
// keepalives (a CRLFCRLF ping is answered with a CRLF pong); idle timeout
// and a bound on the number of connections. Each connection has a reader
// and a writer goroutine; Send only queues, so the caller's state machine
// never waits on the network.
package transport
