// Package digest implements HTTP digest authentication as SIP uses it (RFC
// 2617, RFC 3261 section 22, RFC 7616 and RFC 8760): MD5, SHA-256 and
// SHA-512-256, each also as -sess.
//
// Client is the user agent's one digest client, one per account: the UA
// calls Authorize on every request it sends and Challenged on every 401 or
// 407, with an Attempt per request and its re-sends. Challenged records the
// challenges (per destination, kind and realm, the strongest offered),
// says whether to send again, and refuses with a *Refused what must not be
// retried (credentials already rejected, nothing answerable, no password),
// so a wrong password never loops; Authorize adds the credentials for every
// challenge held for the request's destination, pre-emptively on later
// requests, with the next nonce count each time.
//
// Below it: ParseChallenge, SplitChallenges and Choose read challenges, and
// Challenge.Authorize computes one Authorization value (qop=auth with nc and
// cnonce, or no qop). The server side issues challenges (NewChallenge) and
// verifies credentials (ParseCredentials, Credentials.Verify) for the
// development PBX.
package digest
