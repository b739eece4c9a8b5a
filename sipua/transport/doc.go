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
//
// A TLS client always verifies the server (InsecureSkipVerify in the
// caller's configuration is overridden): a chain to its RootCAs and the
// name given to Send, or the IP address. A server that fails is closed
// before anything is sent, with a *CertError as the dial error; one that
// ends a connection we opened before sending anything refused us in its
// handshake (a *RefusedError), so that its requests fail at once too.
package transport
