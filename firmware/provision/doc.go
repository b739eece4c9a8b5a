// Package provision fetches, checks, keeps and applies the phone's
// configuration.
//
// # TFTP
//
// The client reads files in octet mode (RFC 1350) and asks for the blksize
// (RFC 2348), tsize and timeout (RFC 2349) options through RFC 2347 option
// negotiation; a server that ignores options is served in 512-byte blocks.
// It retransmits its last packet only when its own timer fires, doubling
// the wait each time and giving up after a bounded number of tries, and
// answers each DATA with exactly one ACK, so it never feeds the Sorcerer's
// Apprentice syndrome. Packets from a foreign transfer ID get an error and
// are otherwise ignored.
//
// Fetch gets the common file (phone.cfg by default) and then the phone's
// own file, <mac>.cfg with the MAC as 12 lower-case hex digits. A missing
// own file is logged and is not an error.
//
// # Download: TFTP, HTTP, HTTPS
//
// Download is the one getter for a URL, for configuration files and
// firmware images alike: tftp:// through the client above, http:// and
// https:// through net/http with a bounded client (NewHTTPClient: connect,
// handshake and header timeouts, no proxy, at most 5 redirects and never
// from https to http) and, while the body comes, a stall watchdog and a
// size limit. It streams into a writer and returns the file's validators
// (ETag, Last-Modified); given the validators of the caller's copy it asks
// conditionally and reports 304 as Meta.NotModified. Certificates are
// checked against provision.ca or the system roots, a client certificate
// is shown when provision.cert is set, and every TLS failure wraps ErrTLS
// with the reason in plain words (expired, another name, unknown CA, a
// client certificate wanted).
//
// # Provisioner
//
// A Provisioner does what a desk phone does with those files, from a Source
// (URLSource on a phone: tftp, http or https; DirSource on the sim board):
//
//   - Boot fetches the files, checks their signatures when a key is trusted,
//     loads and validates them (config.LoadFiles: a bad value is refused
//     with its file and line), and stores them in a storage.Store when they
//     changed. When the server is down or a file is refused, it says why and
//     boots from the last good configuration in the Store.
//   - Run fetches again every provision.resync_minutes and when Resync is
//     called (a SIP NOTIFY with Event: check-sync). A new configuration is
//     stored at once and handed to Apply when Idle reports no call is up.
//     A failed resync keeps the current configuration and is retried after
//     RetryMin, doubling.
//   - Over HTTP the files' validators are stored with them, so a resync of
//     unchanged files is two 304s and nothing else. The current
//     configuration's provision.url, when set, is where every later fetch
//     goes, instead of the server DHCP named.
//   - With Spread (a fleet's phones), fetches wait a random part of
//     provision.spread_seconds: a phone with a stored configuration boots
//     on it and fetches within the window; resyncs and retries wait their
//     interval plus a random part of it.
//
// Signatures: each file may have a detached Ed25519 signature next to it,
// <file>.sig, the base64 signature of "deskphone-config-v1\n", the file's
// name, "\n" and its bytes (Sign, Verify): binding the name means a file
// signed for one phone cannot be served to another. See Provisioner for
// which key is trusted.
package provision
