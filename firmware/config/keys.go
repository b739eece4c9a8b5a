package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	// The zone database in the binary (about 450 KB): the phone has no
	// /usr/share/zoneinfo, and time.zone is checked the same way on it as
	// on a PC.
	_ "time/tzdata"

	"github.com/deskphone/deskphone/firmware/version"
)

// KeyInfo describes one key for documentation and tools.
type KeyInfo struct {
	Name    string // e.g. "sip.port" or "line.1.user"
	Default string // as written in a file; "" = empty
	Help    string // one line: what it means and what is accepted
	// Secret keys (passwords, keys) are never shown: String and Entries
	// mask their values, and so does every page that lists keys.
	Secret bool
}

// Keys lists every key the phone knows, in the order String prints them.
func Keys() []KeyInfo {
	out := make([]KeyInfo, len(keys))
	for i, k := range keys {
		out[i] = KeyInfo{Name: k.name, Default: k.def, Help: k.help, Secret: k.secret}
	}
	return out
}

type key struct {
	name   string
	def    string
	help   string
	secret bool
	line   int // N of a line.N key; 0: not a line's
	set    func(c *Config, v string) error
	get    func(c Config) string
}

var (
	keys     = buildKeys()
	keyIndex = func() map[string]*key {
		m := make(map[string]*key, len(keys))
		for i := range keys {
			m[keys[i].name] = &keys[i]
		}
		return m
	}()
)

func buildKeys() []key {
	var ks []key
	for n := 1; n <= MaxLines; n++ {
		i := n - 1
		p := fmt.Sprintf("line.%d.", n)
		first := len(ks)
		ks = append(ks,
			// line.N.user: user part of the line's address of record; the
			// line is in use when it is set. Any SIP user characters.
			key{name: p + "user", help: "user part of the line's address of record; empty: line not in use",
				set: func(c *Config, v string) error { return setToken(&c.Lines[i].User, v) },
				get: func(c Config) string { return c.Lines[i].User }},
			// line.N.domain: domain of the address of record; empty: the
			// registrar's host.
			key{name: p + "domain", help: "domain of the address of record; empty: the registrar's host",
				set: func(c *Config, v string) error { return setHost(&c.Lines[i].Domain, v) },
				get: func(c Config) string { return c.Lines[i].Domain }},
			// line.N.display_name: display name in From; free text, no quotes.
			key{name: p + "display_name", help: "display name in From (free text, no double quotes)",
				set: func(c *Config, v string) error { return setDisplay(&c.Lines[i].DisplayName, v) },
				get: func(c Config) string { return c.Lines[i].DisplayName }},
			// line.N.auth_user: digest user name; empty: line.N.user.
			key{name: p + "auth_user", help: "digest user name; empty: line.N.user",
				set: func(c *Config, v string) error { return setToken(&c.Lines[i].AuthUser, v) },
				get: func(c Config) string { return c.Lines[i].AuthUser }},
			// line.N.password: digest password; masked when printed. Taken
			// verbatim (after trimming blanks), '#' included.
			key{name: p + "password", help: "digest password (printed masked)", secret: true,
				set: func(c *Config, v string) error { return setFree(&c.Lines[i].Password, v) },
				get: func(c Config) string { return c.Lines[i].Password }},
			// line.N.registrar: host[:port] of the registrar; empty: no
			// registration (peer-to-peer calls only).
			key{name: p + "registrar", help: "registrar host[:port]; empty: no registration (peer-to-peer)",
				set: func(c *Config, v string) error { return setHostPort(&c.Lines[i].Registrar, v) },
				get: func(c Config) string { return c.Lines[i].Registrar }},
			// line.N.outbound_proxy: host[:port] every request of the line is
			// sent to; empty: the registrar.
			key{name: p + "outbound_proxy", help: "host[:port] requests go to; empty: the registrar",
				set: func(c *Config, v string) error { return setHostPort(&c.Lines[i].OutboundProxy, v) },
				get: func(c Config) string { return c.Lines[i].OutboundProxy }},
			// line.N.transport: udp, tcp or tls.
			key{name: p + "transport", def: "udp", help: "udp, tcp or tls",
				set: func(c *Config, v string) error {
					return setEnum(&c.Lines[i].Transport, strings.ToLower(v), "udp", "tcp", "tls")
				},
				get: func(c Config) string { return c.Lines[i].Transport }},
			// line.N.sips: the line's addresses are sips: URIs (RFC 3261
			// 26.2.2): address of record, REGISTER, Contact, the numbers
			// it dials; needs line.N.transport = tls.
			key{name: p + "sips", def: "off", help: "sips: URIs for the line's address, REGISTER, Contact and dialled numbers (on/off); needs line.N.transport = tls",
				set: func(c *Config, v string) error { return setBool(&c.Lines[i].SIPS, v) },
				get: func(c Config) string { return onOff(c.Lines[i].SIPS) }},
			// line.N.expires: requested registration lifetime in seconds,
			// 60..86400 (the registrar may grant less).
			key{name: p + "expires", def: "3600", help: "requested registration lifetime, seconds (60-86400)",
				set: func(c *Config, v string) error { return setInt(&c.Lines[i].Expires, v, 60, 86400) },
				get: func(c Config) string { return strconv.Itoa(c.Lines[i].Expires) }},
		)
		for j := first; j < len(ks); j++ {
			ks[j].line = n
		}
	}
	ks = append(ks,
		// sip.port: local UDP/TCP port the user agent listens on.
		key{name: "sip.port", def: "5060", help: "local SIP port (1-65535)",
			set: func(c *Config, v string) error { return setInt(&c.SIPPort, v, 1, 65535) },
			get: func(c Config) string { return strconv.Itoa(c.SIPPort) }},
		// sip.trusted_only: accept requests only from the registrars and
		// outbound proxies of the lines in use (on/off).
		key{name: "sip.trusted_only", def: "on", help: "accept requests only from the registrar / outbound proxy (on/off)",
			set: func(c *Config, v string) error { return setBool(&c.TrustedOnly, v) },
			get: func(c Config) string { return onOff(c.TrustedOnly) }},
		// sip.session_expires: the session interval of RFC 4028 session
		// timers, seconds: 0 (off) or 90-86400 (90 is the RFC's Min-SE).
		key{name: "sip.session_expires", def: "1800", help: "session timer interval (RFC 4028), seconds: 0 off, else 90-86400; the refresher re-INVITEs or UPDATEs at half of it, a call not refreshed in time is hung up",
			set: func(c *Config, v string) error {
				if v == "0" {
					c.SessionExpires = 0
					return nil
				}
				return setInt(&c.SessionExpires, v, 90, 86400)
			},
			get: func(c Config) string { return strconv.Itoa(c.SessionExpires) }},
		// sip.100rel: as callee, send 180 reliably (RFC 3262: PRACKed, the
		// 200 after the PRACK) when the caller's INVITE supports 100rel.
		// Off by default, as on most desk phones: the phone's 180 carries
		// no SDP, so reliability buys nothing the caller hears, and costs
		// a round trip before the 200 and, behind a proxy or B2BUA that
		// passes Supported: 100rel on but loses the PRACK, a call refused
		// after 32 s. Either way an INVITE that requires 100rel gets
		// reliable 180s, INVITEs say Supported: 100rel, and every reliable
		// 18x received is PRACKed.
		key{name: "sip.100rel", def: "off", help: "as callee, send 180 reliably (RFC 3262, PRACK) when the caller supports 100rel (on/off); a caller that requires it always gets it, and reliable 18x received are always PRACKed",
			set: func(c *Config, v string) error { return setBool(&c.Reliable100rel, v) },
			get: func(c Config) string { return onOff(c.Reliable100rel) }},
		// sip.tls_ca: the CAs a TLS server (registrar, proxy) must chain
		// to, PEM on one line (line breaks as spaces or \n). Empty: the
		// system roots; a phone's image carries none, so a phone with a
		// TLS line needs this.
		key{name: "sip.tls_ca", help: "PEM of the CAs a TLS server's certificate must chain to, on one line (line breaks as spaces or \\n); empty: the system roots, which a phone does not have. The server must also prove the registrar's / outbound proxy's configured host name, or its IP address",
			set: setCAs,
			get: func(c Config) string { return oneLinePEM(c.TLSCA) }},
		// sip.tls_cert: the phone's certificate chain, PEM on one line:
		// sent to a TLS server that asks for a client certificate, and
		// the phone's TLS listener's.
		key{name: "sip.tls_cert", help: "the phone's certificate chain, PEM on one line: its client certificate for TLS servers that ask, and its TLS listener's (at sip.port + 1); empty: none (and no TLS listener)",
			set: func(c *Config, v string) error {
				p, err := parseOneLinePEM(v, "CERTIFICATE")
				if err != nil {
					return err
				}
				c.TLSCert = string(p)
				return nil
			},
			get: func(c Config) string { return oneLinePEM(c.TLSCert) }},
		// sip.tls_key: the private key of sip.tls_cert, PEM on one line;
		// masked when printed.
		key{name: "sip.tls_key", help: "the private key of sip.tls_cert, PEM on one line (printed masked)", secret: true,
			set: func(c *Config, v string) error {
				p, err := parseOneLinePEM(v, "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY")
				if err != nil {
					return err
				}
				c.TLSKey = string(p)
				return nil
			},
			get: func(c Config) string { return oneLinePEM(c.TLSKey) }},
		// rtp.port_min: lowest local RTP port (even ports carry RTP, the next
		// odd one RTCP).
		key{name: "rtp.port_min", def: "10000", help: "lowest local RTP port (1024-65534)",
			set: func(c *Config, v string) error { return setInt(&c.RTPPortMin, v, 1024, 65534) },
			get: func(c Config) string { return strconv.Itoa(c.RTPPortMin) }},
		// rtp.port_max: highest local RTP port; at least rtp.port_min+1.
		key{name: "rtp.port_max", def: "10999", help: "highest local RTP port (1025-65535, above rtp.port_min)",
			set: func(c *Config, v string) error { return setInt(&c.RTPPortMax, v, 1025, 65535) },
			get: func(c Config) string { return strconv.Itoa(c.RTPPortMax) }},
		// audio.codecs: codecs in order of preference, comma separated;
		// G722 (wideband), PCMU and PCMA (G.711), each at most once. The
		// offer lists them in this order; an answer takes the first of
		// them the offer has (RFC 3264 6.1 lets the answerer choose).
		key{name: "audio.codecs", def: "G722,PCMU,PCMA",
			help: "codecs in order of preference, comma separated: G722, PCMU, PCMA; offers list them in this order, answers take the first of them the offer has",
			set:  setCodecs,
			get:  func(c Config) string { return strings.Join(c.Codecs, ",") }},
		// media.srtp: SRTP with SDES keys (RFC 3711, RFC 4568) for every
		// line; sipua/srtp.go has the modes. Not off needs every line in
		// use on transport tls (Validate).
		key{name: "media.srtp", def: "off", help: "SRTP (SDES keys) for calls: off; optional: best-effort (RTP/AVP offers with a=crypto; encrypted when the peer takes the key, the display shows a lock); required: RTP/SAVP, a plain answer ends the call and a plain offer gets 488. Not off needs line.N.transport = tls on every line in use",
			set: func(c *Config, v string) error {
				return setEnum(&c.SRTP, strings.ToLower(v), "off", "optional", "required")
			},
			get: func(c Config) string { return c.SRTP }},
		// audio.ptime: packet time in ms: 10, 20, 30 or 40.
		key{name: "audio.ptime", def: "20", help: "packet time, ms: 10, 20, 30 or 40",
			set: func(c *Config, v string) error {
				if err := setInt(&c.Ptime, v, 10, 40); err != nil {
					return err
				}
				if c.Ptime%10 != 0 {
					return fmt.Errorf("%d is not a multiple of 10", c.Ptime)
				}
				return nil
			},
			get: func(c Config) string { return strconv.Itoa(c.Ptime) }},
		// audio.wideband: run the handset (the codec chip, the panel) at
		// 16 kHz where it can, for G.722; off keeps it at 8 kHz, where a
		// G.711 call is the narrowband path byte for byte and a G.722 call
		// is resampled to 8 kHz at its codec.
		key{name: "audio.wideband", def: "on", help: "run the handset at 16 kHz where the codec or panel can, for G.722 (on/off); off: 8 kHz, G.711 calls unresampled, G.722 calls heard narrowband",
			set: func(c *Config, v string) error { return setBool(&c.Wideband, v) },
			get: func(c Config) string { return onOff(c.Wideband) }},
		// call.noanswer_seconds: ringing time before no-answer forwarding
		// (1-600).
		key{name: "call.noanswer_seconds", def: "20", help: "ringing time before no-answer forwarding, seconds (1-600)",
			set: func(c *Config, v string) error { return setInt(&c.NoAnswerSeconds, v, 1, 600) },
			get: func(c Config) string { return strconv.Itoa(c.NoAnswerSeconds) }},
		// call.ring_seconds: an incoming call nobody answers ends after
		// this long with 480 (a caller that vanished without a CANCEL).
		key{name: "call.ring_seconds", def: "180", help: "how long an unanswered incoming call rings before the phone ends it with 480 Temporarily Unavailable (a missed call; it also ends a caller that vanished without CANCEL), seconds (5-3600); no-answer forwarding after call.noanswer_seconds comes first when that is shorter",
			set: func(c *Config, v string) error { return setInt(&c.RingSeconds, v, 5, 3600) },
			get: func(c Config) string { return strconv.Itoa(c.RingSeconds) }},
		// call.forward_noanswer: forward target (number or SIP URI) on no
		// answer; empty: none.
		key{name: "call.forward_noanswer", help: "forward target on no answer after call.noanswer_seconds: a number, a SIP URI, or vm for voicemail.number; empty: none",
			set: func(c *Config, v string) error { return setToken(&c.ForwardNoAnswer, v) },
			get: func(c Config) string { return c.ForwardNoAnswer }},
		// call.forward_busy: forward target when busy or in DND; empty: none.
		key{name: "call.forward_busy", help: "forward target when busy or in do not disturb (number, SIP URI or vm); empty: busy is answered 486",
			set: func(c *Config, v string) error { return setToken(&c.ForwardBusy, v) },
			get: func(c Config) string { return c.ForwardBusy }},
		// call.forward_always: forward every incoming call; empty: none.
		key{name: "call.forward_always", help: "forward every call (number, SIP URI or vm); the fwd key sets it to the digits dialled or clears it; empty: none",
			set: func(c *Config, v string) error { return setToken(&c.ForwardAlways, v) },
			get: func(c Config) string { return c.ForwardAlways }},
		// call.dnd: do not disturb (on/off).
		key{name: "call.dnd", def: "off", help: "do not disturb (on/off)",
			set: func(c *Config, v string) error { return setBool(&c.DND, v) },
			get: func(c Config) string { return onOff(c.DND) }},
		// call.waiting: a second call while one is connected rings in with
		// the waiting tone (on/off); off: it is busy.
		key{name: "call.waiting", def: "on", help: "call waiting: a second call during a call plays the waiting tone; ok or hold answers it and holds the first (on/off); off: the second call is busy",
			set: func(c *Config, v string) error { return setBool(&c.CallWaiting, v) },
			get: func(c Config) string { return onOff(c.CallWaiting) }},
		// voicemail.number: what the vm key dials; empty: the key does
		// nothing.
		key{name: "voicemail.number", help: "what the vm key dials; empty: none",
			set: func(c *Config, v string) error { return setToken(&c.VoicemailNumber, v) },
			get: func(c Config) string { return c.VoicemailNumber }},
		// dialplan.digitmap: the dial plan, patterns separated by |: digits,
		// * and #, x for any digit, [1-5] or [135] for a set, . for any
		// number of the element before (MGCP digit maps, RFC 3435 2.1.5).
		key{name: "dialplan.digitmap", help: "dial plan: patterns separated by |, x any digit, [2-9] a set, . repeats the element before (e.g. [2-9]xxx|0x.|*xx); a number that matches a pattern that cannot grow is sent at once; empty: none",
			set: func(c *Config, v string) error {
				if err := CheckDigitMap(v); err != nil {
					return err
				}
				c.DigitMap = v
				return nil
			},
			get: func(c Config) string { return c.DigitMap }},
		// dialplan.interdigit_seconds: a number being dialled off hook is
		// sent this long after its last digit (0-60); 0: never.
		key{name: "dialplan.interdigit_seconds", def: "5", help: "off hook, the digits dialled are sent this long after the last one, seconds (0-60); 0: only send, # or the digit map send",
			set: func(c *Config, v string) error { return setInt(&c.InterdigitSeconds, v, 0, 60) },
			get: func(c Config) string { return strconv.Itoa(c.InterdigitSeconds) }},
		// dialplan.pound_sends: # after digits sends them (on/off).
		key{name: "dialplan.pound_sends", def: "on", help: "# after the digits sends them, as the send key does (on/off)",
			set: func(c *Config, v string) error { return setBool(&c.PoundSends, v) },
			get: func(c Config) string { return onOff(c.PoundSends) }},
		// history.size: how many calls the history keeps (0-100).
		key{name: "history.size", def: "20", help: "calls kept in the call history, browsed with up and down (0-100)",
			set: func(c *Config, v string) error { return setInt(&c.HistorySize, v, 0, 100) },
			get: func(c Config) string { return strconv.Itoa(c.HistorySize) }},
		// tones.locale: call-progress tone set, a two-letter lower-case
		// country code (us, uk, de, ...); the tone generator falls back to us
		// for one it does not know.
		key{name: "tones.locale", def: "us", help: "call-progress tones: two-letter country code (us, uk, de, ...)",
			set: setLocale,
			get: func(c Config) string { return c.TonesLocale }},
		// provision.resync_minutes: periodic re-fetch of the configuration,
		// minutes (0-525600); 0: never.
		key{name: "provision.resync_minutes", def: "1440", help: "periodic re-fetch of the configuration, minutes (0-525600); 0: never. A SIP NOTIFY with Event: check-sync also re-fetches; a new configuration is applied when no call is up",
			set: func(c *Config, v string) error { return setInt(&c.ResyncMinutes, v, 0, 525600) },
			get: func(c Config) string { return strconv.Itoa(c.ResyncMinutes) }},
		// provision.public_key: Ed25519 public key (base64 of its 32 bytes)
		// that signs the configuration files (<file>.sig next to each).
		// It is trusted only from the build or from the configuration already
		// stored on the phone: a fetched file is checked with the key the
		// phone had before, never only with the key the file itself names
		// (see docs/provisioning.md).
		key{name: "provision.public_key", help: "Ed25519 public key (base64, 32 bytes) that must sign every configuration file (a FILE.sig beside each); empty: no signatures needed. Trusted only from the build or the stored configuration (docs/provisioning.md)",
			set: func(c *Config, v string) error { return setPublicKey(&c.ProvisionPublicKey, v) },
			get: func(c Config) string { return c.ProvisionPublicKey }},
		// firmware.url: where the firmware image is (docs/provisioning.md,
		// "Firmware updates"): a tftp://, http:// or https:// URL, or a
		// file name or path taken relative to the folder the configuration
		// came from.
		key{name: "firmware.url", help: "firmware image to update to: tftp://host/file, http(s)://host/path (https checked with provision.ca), or a file name relative to the provisioning server's folder; empty: no updates. Checked at each start and resync, installed into the other A/B slot when idle (docs/provisioning.md)",
			set: func(c *Config, v string) error {
				if strings.ContainsAny(v, " \t\"") {
					return fmt.Errorf("%q: a URL or file name without blanks or quotes", clip(v))
				}
				c.FirmwareURL = v
				return nil
			},
			get: func(c Config) string { return c.FirmwareURL }},
		// firmware.version: pin one version; an image of another is not
		// installed, and an older one is (the only way to go back).
		key{name: "firmware.version", help: "the one firmware version to run (1.2.3): an image of another version is not taken, an older one is (a downgrade); empty: any newer image",
			set: func(c *Config, v string) error {
				if v != "" {
					if _, err := version.Parse(v); err != nil {
						return err
					}
				}
				c.FirmwareVersion = v
				return nil
			},
			get: func(c Config) string { return c.FirmwareVersion }},
		// firmware.public_key: the key images must be signed with; empty:
		// provision.public_key. No key: no image is taken.
		key{name: "firmware.public_key", help: "Ed25519 public key (base64, 32 bytes) firmware images must be signed with; empty: provision.public_key; neither: no image is installed",
			set: func(c *Config, v string) error { return setPublicKey(&c.FirmwarePublicKey, v) },
			get: func(c Config) string { return c.FirmwarePublicKey }},
		// firmware.tries: starts a new firmware gets to register before
		// the phone goes back to the one before.
		key{name: "firmware.tries", def: "3", help: "starts a newly installed firmware gets to confirm (register) before the phone rolls back to the one before (1-10)",
			set: func(c *Config, v string) error { return setInt(&c.FirmwareTries, v, 1, 10) },
			get: func(c Config) string { return strconv.Itoa(c.FirmwareTries) }},
		// firmware.confirm_seconds: how long each start of a new firmware
		// has to register before it is stopped.
		key{name: "firmware.confirm_seconds", def: "180", help: "seconds each start of a newly installed firmware has to register (or, without a registrar, start SIP) before it is stopped and counted as failed (5-3600)",
			set: func(c *Config, v string) error { return setInt(&c.FirmwareConfirmSeconds, v, 5, 3600) },
			get: func(c Config) string { return strconv.Itoa(c.FirmwareConfirmSeconds) }},
		// provision.url: where later fetches go, overriding DHCP (a fleet
		// bootstrapped over TFTP moves to HTTPS); a URL naming a file
		// (its last element has a dot) names the common file.
		key{name: "provision.url", help: "tftp://, http:// or https:// URL of the folder (or common file) the configuration is fetched from once the phone has this file; empty: the server DHCP names (options 66, 150, 160, 43)",
			set: func(c *Config, v string) error { return setProvisionURL(&c.ProvisionURL, v) },
			get: func(c Config) string { return c.ProvisionURL }},
		// provision.ca: the CAs an https provisioning server must chain to.
		key{name: "provision.ca", help: "CA certificates (base64 DER, one line each, separated by blanks) an https provisioning or firmware server's certificate must chain to; empty: the system roots",
			set: func(c *Config, v string) error { return setCerts(&c.ProvisionCA, v) },
			get: func(c Config) string { return c.ProvisionCA }},
		// provision.cert: client certificate shown to an https server.
		key{name: "provision.cert", help: "client certificate (base64 DER, then any intermediates, separated by blanks) shown to an https server that asks; needs provision.key",
			set: func(c *Config, v string) error { return setCerts(&c.ProvisionCert, v) },
			get: func(c Config) string { return c.ProvisionCert }},
		// provision.key: the client certificate's private key.
		key{name: "provision.key", help: "private key of provision.cert (base64 DER: PKCS #8, PKCS #1 or SEC 1; printed masked)", secret: true,
			set: func(c *Config, v string) error { return setKey(&c.ProvisionKey, v) },
			get: func(c Config) string { return c.ProvisionKey }},
		// provision.spread_seconds: random delay window of every fetch but
		// a new phone's first (Cisco's Resync Random Delay is 40 s).
		key{name: "provision.spread_seconds", def: "30", help: "each fetch waits a random 0 to this many seconds (0-3600), so a fleet does not hit the server in the same second: at boot a phone with a stored configuration starts on it and fetches within the window; periodic resyncs and retries are spread the same way; a phone with nothing stored fetches at once",
			set: func(c *Config, v string) error { return setInt(&c.SpreadSeconds, v, 0, 3600) },
			get: func(c Config) string { return strconv.Itoa(c.SpreadSeconds) }},
		// admin.password: the web page's login (firmware/web); empty: no
		// web page, the phone does not listen on admin.port at all.
		key{name: "admin.password", help: "password of the phone's web page (user admin; printed masked); empty: no web page, nothing listens on admin.port", secret: true,
			set: func(c *Config, v string) error { return setFree(&c.AdminPassword, v) },
			get: func(c Config) string { return c.AdminPassword }},
		// admin.port: the web page's TCP port.
		key{name: "admin.port", def: "443", help: "TCP port of the web page (1-65535, not sip.port)",
			set: func(c *Config, v string) error { return setInt(&c.AdminPort, v, 1, 65535) },
			get: func(c Config) string { return strconv.Itoa(c.AdminPort) }},
		// admin.http: plain HTTP instead of HTTPS on admin.port.
		key{name: "admin.http", def: "off", help: "serve the web page over plain HTTP instead of HTTPS (on/off); off: HTTPS with the certificate the phone made on first boot",
			set: func(c *Config, v string) error { return setBool(&c.AdminHTTP, v) },
			get: func(c Config) string { return onOff(c.AdminHTTP) }},
		// nat.public_address: IP address the phone advertises for media (SDP
		// c= line) when it sits behind a static NAT whose forwarded ports
		// match its own; empty: its own address. In QEMU: 10.0.2.2.
		key{name: "nat.public_address", help: "IP address advertised for media behind a static NAT with forwarded ports; empty: own",
			set: func(c *Config, v string) error {
				if v == "" {
					c.PublicAddress = ""
					return nil
				}
				ip := net.ParseIP(v)
				if ip == nil {
					return fmt.Errorf("%q is not an IP address", clip(v))
				}
				c.PublicAddress = ip.String()
				return nil
			},
			get: func(c Config) string { return c.PublicAddress }},
		// ntp.server: host[:port] of the NTP server the phone sets its
		// clock from (SNTP); empty: the servers of DHCP option 42.
		key{name: "ntp.server", help: "NTP server host[:port] the clock is set from (SNTP, hourly); empty: DHCP option 42's servers",
			set: func(c *Config, v string) error { return setHostPort(&c.NTPServer, v) },
			get: func(c Config) string { return c.NTPServer }},
		// time.zone: the display's time zone, an IANA name (the phone
		// carries the zone database).
		key{name: "time.zone", def: "UTC", help: "time zone of the clock on the display: an IANA name (Europe/Berlin, America/New_York, UTC)",
			set: func(c *Config, v string) error {
				if v == "" || v == "Local" {
					return fmt.Errorf("%q is not an IANA time zone name", clip(v))
				}
				if _, err := time.LoadLocation(v); err != nil {
					return fmt.Errorf("%q is not a time zone the phone knows (an IANA name such as Europe/Berlin)", clip(v))
				}
				c.TimeZone = v
				return nil
			},
			get: func(c Config) string { return c.TimeZone }},
		// time.format: 24h (09:41, 21:41) or 12h (9:41am, 9:41pm).
		key{name: "time.format", def: "24h", help: "clock on the display: 24h (21:41) or 12h (9:41pm)",
			set: func(c *Config, v string) error { return setEnum(&c.TimeFormat, strings.ToLower(v), "24h", "12h") },
			get: func(c Config) string { return c.TimeFormat }},
		// log.sip: every SIP message in the log too (the console, syslog);
		// the SIP trace ring keeps the last ones either way.
		key{name: "log.sip", def: "off", help: "every SIP message sent and received (direction, transport, peer, time, the whole message) in the log too (on/off); the phone's SIP trace keeps the most recent either way",
			set: func(c *Config, v string) error { return setBool(&c.LogSIP, v) },
			get: func(c Config) string { return onOff(c.LogSIP) }},
		// log.syslog: where the log goes as RFC 5424 over UDP.
		key{name: "log.syslog", help: "syslog server host[:port] (port 514 by default): every log line as RFC 5424 over UDP (RFC 5426), severity err for failures, else info; never waited for, dropped when the network refuses; empty: none",
			set: func(c *Config, v string) error { return setHostPort(&c.Syslog, v) },
			get: func(c Config) string { return c.Syslog }},
	)
	for n := 1; n <= MaxSpeedDial; n++ {
		i := n - 1
		// speeddial.N: the number *N dials.
		ks = append(ks, key{name: fmt.Sprintf("speeddial.%d", n), help: fmt.Sprintf("number (or SIP URI) dialled by *%d then send, #, or at once; empty: none", n),
			set: func(c *Config, v string) error { return setToken(&c.SpeedDial[i], v) },
			get: func(c Config) string { return c.SpeedDial[i] }})
	}
	return ks
}

var errBlank = errors.New("contains blanks or control characters")

// setPublicKey checks a base64 Ed25519 public key (32 bytes) and keeps
// it in its canonical base64; "" clears it.
func setPublicKey(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != 32 {
		return fmt.Errorf("%q is not a base64 Ed25519 public key (32 bytes)", clip(v))
	}
	*dst = base64.StdEncoding.EncodeToString(b)
	return nil
}

func setInt(dst *int, v string, lo, hi int) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", clip(v))
	}
	if n < lo || n > hi {
		return fmt.Errorf("%d is out of range %d-%d", n, lo, hi)
	}
	*dst = n
	return nil
}

func setBool(dst *bool, v string) error {
	switch strings.ToLower(v) {
	case "on", "yes", "true", "1":
		*dst = true
	case "off", "no", "false", "0":
		*dst = false
	default:
		return fmt.Errorf("%q is not on or off", clip(v))
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func setEnum(dst *string, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			*dst = v
			return nil
		}
	}
	return fmt.Errorf("%q is not one of %s", clip(v), strings.Join(allowed, ", "))
}

// setToken accepts a value without blanks or control characters: user
// names, numbers, SIP URIs.
func setToken(dst *string, v string) error {
	for _, r := range v {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("%q %w", clip(v), errBlank)
		}
	}
	*dst = v
	return nil
}

// setFree accepts any value without control characters.
func setFree(dst *string, v string) error {
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("contains control characters")
		}
	}
	*dst = v
	return nil
}

func setDisplay(dst *string, v string) error {
	if strings.ContainsAny(v, `"\`) {
		return errors.New(`must not contain " or \`)
	}
	return setFree(dst, v)
}

func validHost(h string) error {
	if h == "" {
		return errors.New("empty host")
	}
	if net.ParseIP(h) != nil {
		return nil
	}
	if len(h) > 253 {
		return errors.New("host name too long")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a host name", clip(h))
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ||
				ch == '-' && i > 0 && i < len(label)-1 || ch == '_'
			if !ok {
				return fmt.Errorf("%q is not a host name", clip(h))
			}
		}
	}
	return nil
}

func setHost(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	if err := validHost(v); err != nil {
		return err
	}
	*dst = v
	return nil
}

// setHostPort accepts host, host:port, [v6] and [v6]:port.
func setHostPort(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	host, port := v, ""
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return fmt.Errorf("%q: missing ]", clip(v))
		}
		host = v[1:end]
		rest := v[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return fmt.Errorf("%q: want [address]:port", clip(v))
			}
			port = rest[1:]
		} else if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return fmt.Errorf("%q is not an IPv6 address", clip(host))
		}
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return fmt.Errorf("%q is not an IPv6 address", clip(host))
		}
	} else if i := strings.LastIndexByte(v, ':'); i >= 0 {
		host, port = v[:i], v[i+1:]
		if strings.IndexByte(host, ':') >= 0 {
			return fmt.Errorf("%q: write an IPv6 address as [address]:port", clip(v))
		}
	}
	if err := validHost(host); err != nil {
		return err
	}
	if port != "" || strings.HasSuffix(v, ":") {
		var p int
		if err := setInt(&p, port, 1, 65535); err != nil {
			return fmt.Errorf("port: %w", err)
		}
	}
	*dst = v
	return nil
}

func setCodecs(c *Config, v string) error {
	if v == "" {
		return errors.New("at least one codec is needed")
	}
	var out []string
	for _, f := range strings.Split(v, ",") {
		name := strings.ToUpper(strings.TrimSpace(f))
		switch name {
		case "G722", "PCMU", "PCMA":
		default:
			return fmt.Errorf("%q is not a supported codec (G722, PCMU, PCMA)", clip(f))
		}
		for _, o := range out {
			if o == name {
				return fmt.Errorf("%s is listed twice", name)
			}
		}
		out = append(out, name)
	}
	c.Codecs = out
	return nil
}

func setLocale(c *Config, v string) error {
	v = strings.ToLower(v)
	if len(v) != 2 || v[0] < 'a' || v[0] > 'z' || v[1] < 'a' || v[1] > 'z' {
		return fmt.Errorf("%q is not a two-letter country code", clip(v))
	}
	c.TonesLocale = v
	return nil
}
