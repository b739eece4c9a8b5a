// Package transaction is the SIP transaction layer (RFC 3261 section 17,
// with the Accepted states of RFC 6026): INVITE and non-INVITE client and
// server transactions, their retransmissions and timers A-K (plus L and M).
//
// A transaction knows its transport from its request's top Via: over a
// reliable one (TCP, TLS) it never retransmits (no timers A, E, G) and
// its Completed/Confirmed states end at once (timers D, I, J, K are zero,
// 17.1.1.2, 17.1.2.2, 17.2.1, 17.2.2); timers B, F and H still bound the
// wait for an answer.
//
// A Layer is not safe for concurrent use: one goroutine (the user agent's)
// owns it and calls every method. Timers fire on the Clock and hand their
// work back to that goroutine through Config.Post. On a Clock that can
// fire late (LaxClock) whose timers run on the owner (Config.OnOwner), the
// timers that only end an absorbing state (D, I, J, K, L, M) may come up
// to EndSlack after their moment, with the owner's next wake-up for
// something else. Messages go out through
// the small Transport interface, so a recorder can stand in for the network.
package transaction
