// Package dialog holds the state of a SIP dialog (RFC 3261 section 12): its
// identifiers, sequence numbers, remote target and route set, and builds the
// requests sent inside it (12.2.1.1).
package dialog
