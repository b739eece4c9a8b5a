package config

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLines is the number of SIP lines (accounts) a phone has.
const MaxLines = 4

// MaxSpeedDial is the number of speed dial entries (speeddial.1 to .9,
// dialled as *1 to *9).
const MaxSpeedDial = 9

// Line is one SIP account: line N of the files is Lines[N-1].
type Line struct {
	User          string // line.N.user: user part of the address of record; "" = line not in use
	Domain        string // line.N.domain: domain of the address of record; "" = the registrar's host
	DisplayName   string // line.N.display_name: display name in From
	AuthUser      string // line.N.auth_user: digest user name; "" = User
	Password      string // line.N.password: digest password (masked by String)
	Registrar     string // line.N.registrar: host[:port]; "" = no registration (peer-to-peer)
	OutboundProxy string // line.N.outbound_proxy: host[:port] requests go to; "" = the registrar
	Transport     string // line.N.transport: udp, tcp or tls
	SIPS          bool   // line.N.sips: sips: URIs, TLS only
	Expires       int    // line.N.expires: requested registration lifetime, seconds
}

// InUse reports whether the line is configured (has a user).
func (l Line) InUse() bool { return l.User != "" }

// Config is the whole configuration of a phone. The zero value is not
// useful; start from Default.
type Config struct {
	Lines           [MaxLines]Line // line N is Lines[N-1]; in use when User != ""
	SIPPort         int            // sip.port
	TrustedOnly     bool           // sip.trusted_only
	SessionExpires  int            // sip.session_expires, seconds; 0 = no session timers
	Reliable100rel  bool           // sip.100rel
	RTPPortMin      int            // rtp.port_min
	RTPPortMax      int            // rtp.port_max
	Codecs          []string       // audio.codecs, upper case, in order of preference
	Ptime           int            // audio.ptime, ms
	SRTP            string         // media.srtp: off, optional or required (sipua.SRTPMode)
	Wideband        bool           // audio.wideband: the handset at 16 kHz where it can
	NoAnswerSeconds int            // call.noanswer_seconds
	RingSeconds     int            // call.ring_seconds
	ForwardNoAnswer string         // call.forward_noanswer
	ForwardBusy     string         // call.forward_busy
	ForwardAlways   string         // call.forward_always
	DND             bool           // call.dnd
	CallWaiting     bool           // call.waiting
	VoicemailNumber string         // voicemail.number
	// DigitMap (dialplan.digitmap) is the dial plan: patterns such as
	// "[2-9]xxx|0x.|*xx" (digit_map.go); "" = none, calls go on send, # or
	// the interdigit timeout.
	DigitMap          string
	InterdigitSeconds int                  // dialplan.interdigit_seconds; 0 = never
	PoundSends        bool                 // dialplan.pound_sends
	SpeedDial         [MaxSpeedDial]string // speeddial.N is SpeedDial[N-1]; "" = none
	HistorySize       int                  // history.size
	TonesLocale       string               // tones.locale
	ResyncMinutes     int                  // provision.resync_minutes; 0 = never
	// ProvisionPublicKey (provision.public_key) is the base64 Ed25519 key
	// that must sign the configuration files; "" = none.
	ProvisionPublicKey string
	// ProvisionURL (provision.url) is where the configuration comes from
	// once the phone has one: tftp://, http:// or https://; "" = where
	// DHCP says.
	ProvisionURL string
	// ProvisionCA (provision.ca) is the CA certificates an https server's
	// certificate must chain to, base64 DER separated by blanks; "" = the
	// system roots.
	ProvisionCA string
	// ProvisionCert and ProvisionKey (provision.cert, provision.key) are
	// the client certificate (base64 DER, then its chain) and its private
	// key (base64 DER, masked when printed) an https server may ask for.
	ProvisionCert string
	ProvisionKey  string
	// SpreadSeconds (provision.spread_seconds) is the window a fetch is
	// delayed into at random, so a fleet does not hit the server at once.
	SpreadSeconds int
	// Firmware updates (firmware.*, docs/provisioning.md).
	FirmwareURL            string // firmware.url; "" = no updates
	FirmwareVersion        string // firmware.version; "" = any newer
	FirmwarePublicKey      string // firmware.public_key; "" = ProvisionPublicKey
	FirmwareTries          int    // firmware.tries
	FirmwareConfirmSeconds int    // firmware.confirm_seconds
	// PublicAddress (nat.public_address) is the address the phone advertises
	// for media when it sits behind a static NAT with forwarded ports; "" =
	// its own address.
	PublicAddress string
	NTPServer     string // ntp.server; "" = DHCP option 42
	TimeZone      string // time.zone, an IANA name
	TimeFormat    string // time.format: "24h" or "12h"
	// TLSCA (sip.tls_ca) is the PEM of the CAs a TLS server's certificate
	// must chain to; "" = the system roots, which a phone does not have.
	// TLSCert and TLSKey (sip.tls_cert, sip.tls_key) are the phone's
	// certificate chain and key, PEM; "" = none.
	TLSCA, TLSCert, TLSKey string
	// AdminPassword (admin.password) is the web page's password; "" = no
	// web page.
	AdminPassword string
	AdminPort     int  // admin.port: the web page's TCP port
	AdminHTTP     bool // admin.http: plain HTTP instead of HTTPS
	// LogSIP (log.sip) puts every SIP message sent and received into the
	// log as well as into the SIP trace (firmware/diag).
	LogSIP bool
	// Syslog (log.syslog) is the host[:port] the log goes to as RFC 5424
	// over UDP; "" = none.
	Syslog string
}

// Warning is a line of a file that was skipped but did not stop the file
// from being applied: an unknown key, or a key given twice.
type Warning struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (w Warning) String() string {
	return fmt.Sprintf("config: %s:%d: %s: %s", w.File, w.Line, w.Key, w.Msg)
}

// Error is a bad line: it names the file, the line, the key and why.
type Error struct {
	File string
	Line int    // 0 for a check over the whole configuration (Validate)
	Key  string // "" for a line that is not key = value
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Default returns the configuration a phone has before any file is read.
func Default() Config {
	var c Config
	for _, k := range keys {
		if err := k.set(&c, k.def); err != nil {
			panic("config: bad default for " + k.name + ": " + err.Error())
		}
	}
	return c
}

// Parse applies the keys of one file (named name in messages) onto base and
// returns the result. A bad line makes Parse return base unchanged and an
// *Error; unknown keys and repeated keys are returned as warnings.
func Parse(name string, data []byte, base Config) (Config, []Warning, error) {
	c, warns, _, err := parse(name, data, base)
	return c, warns, err
}

// parse is Parse that also returns the line each key was set on.
func parse(name string, data []byte, base Config) (Config, []Warning, map[string]int, error) {
	c := base.clone()
	var warns []Warning
	seen := make(map[string]int)
	text := string(data)
	for n := 1; text != ""; n++ {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimSpace(line) // also drops a CR of CRLF files
		if line == "" || line[0] == '#' {
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			return base, nil, nil, &Error{File: name, Line: n, Err: fmt.Errorf("want key = value, got %q", clip(line))}
		}
		key := strings.TrimSpace(line[:eq])
		val := strings.TrimSpace(line[eq+1:])
		if key == "" {
			return base, nil, nil, &Error{File: name, Line: n, Err: errors.New("empty key")}
		}
		k, ok := keyIndex[key]
		if !ok {
			warns = append(warns, Warning{File: name, Line: n, Key: clip(key), Msg: "unknown key, ignored"})
			continue
		}
		if prev, dup := seen[key]; dup {
			warns = append(warns, Warning{File: name, Line: n, Key: key, Msg: fmt.Sprintf("also set on line %d; this one wins", prev)})
		}
		seen[key] = n
		if err := k.set(&c, val); err != nil {
			return base, nil, nil, &Error{File: name, Line: n, Key: key, Err: err}
		}
	}
	return c, warns, seen, nil
}

// Load builds a phone's configuration from its common file and its own file
// (either may be nil): Default, then common, then own, then Validate.
// Messages name the files "common" and "own"; LoadFiles names them.
func Load(common, own []byte) (Config, []Warning, error) {
	return LoadFiles("common", common, "own", own)
}

// LoadFiles is Load with the files' names (such as phone.cfg and
// 525400123456.cfg) for warnings and errors.
func LoadFiles(commonName string, common []byte, ownName string, own []byte) (Config, []Warning, error) {
	c, w1, lc, err := parse(commonName, common, Default())
	if err != nil {
		return Default(), nil, err
	}
	c, w2, lo, err := parse(ownName, own, c)
	if err != nil {
		return Default(), nil, err
	}
	if err := c.Validate(); err != nil {
		// Name the line that set the key the check is about: the own
		// file's when it set it, else the common file's.
		var e *Error
		if errors.As(err, &e) && e.Key != "" {
			if n, ok := lo[e.Key]; ok {
				e.File, e.Line = ownName, n
			} else if n, ok := lc[e.Key]; ok {
				e.File, e.Line = commonName, n
			}
		}
		return Default(), nil, err
	}
	return c, append(w1, w2...), nil
}

// Validate makes the checks that involve more than one key.
func (c Config) Validate() error {
	if err := c.validateClientCert(); err != nil {
		return err
	}
	if c.RTPPortMin > c.RTPPortMax {
		return &Error{Key: "rtp.port_min", Err: fmt.Errorf("%d is above rtp.port_max %d", c.RTPPortMin, c.RTPPortMax)}
	}
	if c.RTPPortMax-c.RTPPortMin < 1 {
		return &Error{Key: "rtp.port_max", Err: errors.New("the RTP range needs at least two ports (RTP and RTCP)")}
	}
	if c.SIPPort >= c.RTPPortMin && c.SIPPort <= c.RTPPortMax {
		return &Error{Key: "sip.port", Err: fmt.Errorf("%d is inside the RTP range %d-%d", c.SIPPort, c.RTPPortMin, c.RTPPortMax)}
	}
	for i, l := range c.Lines {
		if l.SIPS && l.Transport != "tls" {
			return &Error{Key: fmt.Sprintf("line.%d.sips", i+1), Err: fmt.Errorf("on needs line.%d.transport = tls, not %s", i+1, l.Transport)}
		}
	}
	if c.SRTP != "off" {
		// SDES keys travel in the SDP: only over TLS (RFC 4568 8.3).
		for i, l := range c.Lines {
			if l.InUse() && l.Transport != "tls" {
				return &Error{Key: "media.srtp", Err: fmt.Errorf("%s needs line.%d.transport = tls (it is %s): SRTP keys travel only over TLS",
					c.SRTP, i+1, l.Transport)}
			}
		}
	}
	if c.AdminPort == c.SIPPort || c.TLSCert != "" && c.AdminPort == c.SIPPort+1 {
		return &Error{Key: "admin.port", Err: fmt.Errorf("%d is where SIP listens (sip.port for TCP, sip.port + 1 for TLS)", c.AdminPort)}
	}
	return c.checkTLSPair()
}

// Entry is one key of a configuration as a page shows it.
type Entry struct {
	Name    string
	Value   string // "********" for a secret that is set
	Default bool   // Value is the key's default
	Secret  bool
	// Unused: a key of a line that is not in use (no line.N.user).
	Unused bool
}

// Entries lists every key of c, in the order of Keys, with secrets masked:
// what a page or a log may show of the configuration.
func (c Config) Entries() []Entry {
	out := make([]Entry, len(keys))
	for i, k := range keys {
		v := k.get(c)
		e := Entry{Name: k.name, Value: v, Default: v == k.def, Secret: k.secret, Unused: k.line > 0 && !c.Lines[k.line-1].InUse()}
		if k.secret && v != "" {
			e.Value = Masked
		}
		out[i] = e
	}
	return out
}

// Masked is what String and Entries show for a secret that is set.
const Masked = "********"

// String prints the configuration as a configuration file with every key,
// in the order of Keys; passwords are masked.
func (c Config) String() string {
	var b strings.Builder
	for _, e := range c.Entries() {
		v := e.Value
		b.WriteString(e.Name)
		if v == "" {
			b.WriteString(" =\n")
			continue
		}
		b.WriteString(" = ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String()
}

func (c Config) clone() Config {
	c.Codecs = append([]string(nil), c.Codecs...)
	return c
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
