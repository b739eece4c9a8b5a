// Package digest implements HTTP digest authentication with MD5 as SIP uses
// it (RFC 2617, RFC 3261 section 22): the client side parses a
// WWW-Authenticate/Proxy-Authenticate challenge and computes the
// Authorization value (qop=auth with nc and cnonce, or no qop); the server
// side issues challenges and verifies credentials (the development PBX).
package digest
