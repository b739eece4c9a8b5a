// Package sdp reads and writes the part of SDP (RFC 4566) a G.711 desk phone
// needs, one audio stream, and makes the offer/answer choice of RFC 3264.
package sdp
