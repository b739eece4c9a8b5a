// Package dtmf is DTMF for the media engine: RFC 4733 telephone-event
// payloads (the four-byte event, end bit, volume and duration) and an
// in-band detector (Goertzel filters on the eight DTMF frequencies) for a
// far end that sends its digits as audio. Nothing here allocates after New.
package dtmf
