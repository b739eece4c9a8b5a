// Package transaction is the SIP transaction layer over UDP (RFC 3261
// section 17, with the Accepted states of RFC 6026): INVITE and non-INVITE
// client and server transactions, their retransmissions and timers A-K
// (plus L and M).
//
// A Layer is not safe for concurrent use: one goroutine (the user agent's)
// owns it and calls every method. Timers fire on the Clock and hand their
// work back to that goroutine through Config.Post. Messages go out through
// the small Transport interface, so a recorder can stand in for the network.
package transaction
