// Package transport carries SIP datagrams over UDP (RFC 3261 section 18):
// one bound socket, a read loop handing each datagram to a callback, sends
// to any address, and the choice of the local address a Contact should name.
package transport
