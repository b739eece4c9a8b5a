// Package quiet takes a socket that its owner reads and writes itself,
// with raw non-blocking system calls once per frame, out of the Go
// runtime's epoll interest for as long as it does, and gives it back: a
// datagram arriving then wakes no thread (docs/DESIGN.md, "Wake-ups").
// The audio engine's polled RTP/RTCP sockets and the virtual panel's audio
// socket use it; it is the one copy of this Linux-only workaround, which
// leans on how the runtime registers sockets (found through
// /proc/self/fdinfo and restored verbatim; anything unexpected leaves the
// registration alone). It imports only the standard library.
package quiet
