// Package digest implements HTTP digest authentication as SIP uses it (RFC
// 2617, RFC 3261 section 22, RFC 7616 and RFC 8760): MD5, SHA-256 and
// SHA-512-256, each also as -sess. The client side parses
// WWW-Authenticate/Proxy-Authenticate challenges, chooses the strongest of
// several (Choose) and computes the Authorization value (qop=auth with nc
// and cnonce, or no qop); the server side issues challenges and verifies
// credentials (the development PBX).
package digest
