package sipmsg

import (
	"errors"
	"fmt"
)

// Errors ParseFrom and Parse wrap, for callers that branch on them; use
// ResponseFor to turn any of them into the response a UAS sends.
var (
	// ErrMalformed is wrapped by every error for a message that is not valid
	// SIP; a UAS answers such a request with 400 Bad Request and drops such a
	// response (RFC 4475 section 3.1.2).
	ErrMalformed = errors.New("sipmsg: malformed message")
	// ErrVersion is wrapped (besides ErrMalformed) when the start line names
	// a SIP version other than 2.0: answered with 505 (RFC 4475 section 3.1.2.16).
	ErrVersion = errors.New("sipmsg: SIP version not supported")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

func malformedErr(header string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformed, header, err)
}

func versionError(ver string) error {
	return fmt.Errorf("%w: %w: %.20q", ErrMalformed, ErrVersion, ver)
}

// ResponseFor returns the status code and reason phrase a UAS answers a
// request with when parsing it failed with err (RFC 3261 section 8.2, RFC
// 4475 section 3): 505 for an unsupported SIP version, 400 for anything else
// malformed, and 0, "" for a nil error. Responses that fail to parse are
// dropped, never answered; whether the failed message was a request is
// m.IsRequest() on the Message ParseFrom was parsing into (set once the
// start line parsed).
func ResponseFor(err error) (code int, reason string) {
	switch {
	case err == nil:
		return 0, ""
	case errors.Is(err, ErrVersion):
		return 505, ReasonPhrase(505)
	default:
		return 400, ReasonPhrase(400)
	}
}
