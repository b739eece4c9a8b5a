// Package web is the phone's web page, as every business desk phone has:
// an administrator logs in with admin.password and reads the status
// (firmware version, board, addresses, uptime, lines and their
// registration, the calls up), the call history, the running
// configuration with where it came from (secrets masked, from the key
// table's Secret flag), downloads the recent log and the SIP trace, and
// reboots, resyncs or factory-resets the phone.
//
// Pages are rendered on the phone with html/template; there is no
// JavaScript. Every action is a POST form carrying the session's CSRF
// token, and a POST from another origin (net/http's CrossOriginProtection:
// Sec-Fetch-Site, else Origin against Host) is refused first.
//
// # Login
//
// Without admin.password there is no web page: the phone does not listen
// on admin.port at all (app decides; New refuses an empty password), so
// an unconfigured phone exposes nothing. The password is compared in
// constant time (of its SHA-256). A login makes a session: a random
// 256-bit token in a cookie (HttpOnly, SameSite=Strict, Secure over
// HTTPS) that expires SessionIdle after its last use; at most MaxSessions
// live at once (the oldest goes). Failed logins are slowed down per client
// address: after the first failure each further attempt waits twice as
// long as the one before (1 s, 2 s, 4 s, ... at most MaxBackoff); an
// attempt that comes too early is answered 429 without checking the
// password. At most MaxClients addresses are remembered; when full, the
// one whose wait ended longest ago is forgotten.
//
// # HTTPS
//
// The phone serves HTTPS with a certificate it makes on first boot
// (ECDSA P-256, self-signed, valid for ten years, its SAN the phone's IP
// addresses and name) and keeps in the state device's WebRegion
// (firmware/storage). A stored certificate that is corrupt, expired, or
// does not name the phone's current address is replaced by a new one;
// storing it may fail (no state device): the phone then serves a new
// certificate each boot. admin.http = on serves plain HTTP instead.
package web
