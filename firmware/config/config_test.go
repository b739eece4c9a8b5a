package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	c := Default()
	want := Config{
		SIPPort: 5060, TrustedOnly: true, SessionExpires: 1800, RTPPortMin: 10000, RTPPortMax: 10999,
		Codecs: []string{"G722", "PCMU", "PCMA"}, Ptime: 20, Wideband: true, SRTP: "off", NoAnswerSeconds: 20, RingSeconds: 180,
		TonesLocale: "us", ResyncMinutes: 1440, SpreadSeconds: 30, TimeZone: "UTC", TimeFormat: "24h",
		FirmwareTries: 3, FirmwareConfirmSeconds: 180,
		InterdigitSeconds: 5, PoundSends: true, HistorySize: 20, CallWaiting: true,
		AdminPort: 443,
	}
	for i := range want.Lines {
		want.Lines[i] = Line{Transport: "udp", Expires: 3600}
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Default() =\n%#v\nwant\n%#v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(c Config) bool
		warns int
	}{
		{"empty", "", func(c Config) bool { return reflect.DeepEqual(c, Default()) }, 0},
		{"comments and blanks", "# x = y\n\n   # z\n\t\n", func(c Config) bool { return reflect.DeepEqual(c, Default()) }, 0},
		{"line 1", "line.1.user = 1001\nline.1.password = se#cret x\nline.1.registrar=10.0.2.2:5060\n",
			func(c Config) bool {
				l := c.Lines[0]
				return l.User == "1001" && l.Password == "se#cret x" && l.Registrar == "10.0.2.2:5060" && l.InUse() && !c.Lines[1].InUse()
			}, 0},
		{"line 4 all keys", "line.4.user=a\nline.4.domain=pbx.example\nline.4.display_name=Alice Smith\nline.4.auth_user=u\n" +
			"line.4.outbound_proxy=[::1]:5070\nline.4.transport=TCP\nline.4.expires=120\n",
			func(c Config) bool {
				l := c.Lines[3]
				return l == Line{User: "a", Domain: "pbx.example", DisplayName: "Alice Smith", AuthUser: "u",
					OutboundProxy: "[::1]:5070", Transport: "tcp", Expires: 120}
			}, 0},
		{"crlf", "sip.port = 5070\r\nsip.trusted_only = off\r\n", func(c Config) bool { return c.SIPPort == 5070 && !c.TrustedOnly }, 0},
		{"no final newline", "call.dnd=on", func(c Config) bool { return c.DND }, 0},
		{"session timers off", "sip.session_expires=0", func(c Config) bool { return c.SessionExpires == 0 }, 0},
		{"session timers", "sip.session_expires=90", func(c Config) bool { return c.SessionExpires == 90 && Default().SessionExpires == 1800 }, 0},
		{"100rel", "sip.100rel = on\n", func(c Config) bool { return c.Reliable100rel }, 0},
		{"100rel off by default", "sip.port = 5070\n", func(c Config) bool { return !c.Reliable100rel }, 0},
		{"global keys", "rtp.port_min=20000\nrtp.port_max=20009\naudio.codecs= pcma , PCMU\naudio.ptime=30\naudio.wideband=off\n" +
			"call.noanswer_seconds=5\ncall.ring_seconds=90\ncall.forward_noanswer=8000\ncall.forward_busy=sip:vm@pbx\ncall.forward_always=1002\n" +
			"voicemail.number=8000\ntones.locale=DE\nprovision.resync_minutes=0\nnat.public_address=10.0.2.2\n",
			func(c Config) bool {
				return c.RTPPortMin == 20000 && c.RTPPortMax == 20009 && reflect.DeepEqual(c.Codecs, []string{"PCMA", "PCMU"}) &&
					c.Ptime == 30 && !c.Wideband && c.NoAnswerSeconds == 5 && c.RingSeconds == 90 && c.ForwardNoAnswer == "8000" && c.ForwardBusy == "sip:vm@pbx" &&
					c.ForwardAlways == "1002" && c.VoicemailNumber == "8000" && c.TonesLocale == "de" && c.ResyncMinutes == 0 &&
					c.PublicAddress == "10.0.2.2"
			}, 0},
		{"empty value clears", "call.forward_busy=\nnat.public_address =\n", func(c Config) bool { return c.ForwardBusy == "" }, 0},
		{"unknown key warns", "foo.bar = 1\nline.5.user = x\nsip.port=5080\n", func(c Config) bool { return c.SIPPort == 5080 }, 2},
		{"duplicate warns, last wins", "sip.port=5080\nsip.port=5090\n", func(c Config) bool { return c.SIPPort == 5090 }, 1},
		{"value with equals", "line.1.password = a=b\n", func(c Config) bool { return c.Lines[0].Password == "a=b" }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w, err := Parse("t.cfg", []byte(tt.in), Default())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config:\n%s", c)
			}
			if len(w) != tt.warns {
				t.Errorf("warnings = %v, want %d", w, tt.warns)
			}
			for _, x := range w {
				if x.File != "t.cfg" || x.Line == 0 || !strings.HasPrefix(x.String(), "config: t.cfg:") {
					t.Errorf("bad warning %+v (%s)", x, x)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, key string
		line    int
		why     string
	}{
		{"sip.port = 0", "sip.port", 1, "out of range"},
		{"\nsip.port = 99999", "sip.port", 2, "out of range"},
		{"sip.port = 50x", "sip.port", 1, "not a whole number"},
		{"sip.trusted_only = maybe", "sip.trusted_only", 1, "not on or off"},
		{"sip.session_expires = 60", "sip.session_expires", 1, "out of range"},
		{"sip.100rel = yes please", "sip.100rel", 1, "not on or off"},
		{"line.1.transport = sctp", "line.1.transport", 1, "not one of"},
		{"line.2.expires = 10", "line.2.expires", 1, "out of range"},
		{"line.1.user = a b", "line.1.user", 1, "blanks"},
		{"line.1.registrar = pbx:0", "line.1.registrar", 1, "port"},
		{"line.1.registrar = pbx:", "line.1.registrar", 1, "port"},
		{"line.1.registrar = ::1:5060", "line.1.registrar", 1, "IPv6"},
		{"line.1.registrar = [1.2.3.4]:5060", "line.1.registrar", 1, "IPv6"},
		{"line.1.registrar = bad..host", "line.1.registrar", 1, "not a host name"},
		{"line.1.domain = -x.example", "line.1.domain", 1, "not a host name"},
		{"line.1.display_name = a\"b", "line.1.display_name", 1, "must not contain"},
		{"line.1.password = a\x01b", "line.1.password", 1, "control"},
		{"audio.codecs = PCMU,G729", "audio.codecs", 1, "not a supported codec"},
		{"audio.codecs = PCMU,pcmu", "audio.codecs", 1, "twice"},
		{"audio.codecs =", "audio.codecs", 1, "at least one"},
		{"audio.ptime = 25", "audio.ptime", 1, "multiple of 10"},
		{"audio.ptime = 50", "audio.ptime", 1, "out of range"},
		{"call.ring_seconds = 4", "call.ring_seconds", 1, "out of range"},
		{"call.ring_seconds = 3601", "call.ring_seconds", 1, "out of range"},
		{"tones.locale = usa", "tones.locale", 1, "two-letter"},
		{"nat.public_address = example.com", "nat.public_address", 1, "not an IP"},
		{"provision.resync_minutes = -1", "provision.resync_minutes", 1, "out of range"},
		{"provision.public_key = abc", "provision.public_key", 1, "not a base64 Ed25519"},
		{"provision.public_key = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "provision.public_key", 1, "32 bytes"},
		{"provision.url = ftp://prov.example/", "provision.url", 1, "scheme must be"},
		{"provision.url = https:///phones/", "provision.url", 1, "want scheme://host"},
		{"provision.url = https://u:p@prov.example/", "provision.url", 1, "no user"},
		{"provision.ca = !!!", "provision.ca", 1, "not base64"},
		{"provision.ca = AAAA", "provision.ca", 1, "certificate 1"},
		{"provision.key = AAAA", "provision.key", 1, "not a PKCS"},
		{"provision.spread_seconds = 3601", "provision.spread_seconds", 1, "out of range"},
		{"# ok\njust words", "", 2, "want key = value"},
		{" = 5", "", 1, "empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			base := Default()
			base.Lines[0].User = "keep"
			c, w, err := Parse("bad.cfg", []byte("sip.port=5070\n"+tt.in), base)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded: %s", tt.in, c)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.File != "bad.cfg" || e.Line != tt.line+1 || e.Key != tt.key {
				t.Errorf("error = %+v, want line %d key %q", e, tt.line+1, tt.key)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "config: bad.cfg:") || !strings.Contains(msg, tt.why) || !strings.Contains(msg, tt.key) {
				t.Errorf("message %q lacks prefix, key or %q", msg, tt.why)
			}
			if !reflect.DeepEqual(c, base) || w != nil {
				t.Errorf("half-applied: got %s warnings %v", c, w)
			}
		})
	}
}

func TestParseDoesNotAliasBase(t *testing.T) {
	base := Default()
	c, _, err := Parse("x", []byte("audio.codecs=PCMA"), base)
	if err != nil {
		t.Fatal(err)
	}
	c.Codecs[0] = "XXXX"
	c2, _, _ := Parse("x", nil, base)
	c2.Codecs[0] = "YYYY"
	if base.Codecs[0] != "G722" {
		t.Fatalf("base changed: %v", base.Codecs)
	}
}

func TestLoad(t *testing.T) {
	common := []byte("line.1.registrar = 10.0.2.2:5060\nrtp.port_min = 20000\nsip.port = 5060\nfoo = 1\n")
	own := []byte("line.1.user = 1001\nline.1.password = s3\nrtp.port_max = 20009\nsip.port = 5070\nbar = 2\n")
	c, w, err := Load(common, own)
	if err != nil {
		t.Fatal(err)
	}
	if c.SIPPort != 5070 || c.Lines[0].User != "1001" || c.Lines[0].Registrar != "10.0.2.2:5060" ||
		c.RTPPortMin != 20000 || c.RTPPortMax != 20009 {
		t.Errorf("Load = %s", c)
	}
	if len(w) != 2 || w[0].File != "common" || w[1].File != "own" {
		t.Errorf("warnings = %v", w)
	}
	// no own file
	c, _, err = Load(common[:len(common)-len("foo = 1\n")], nil)
	if err == nil || !strings.Contains(err.Error(), "rtp.port_min") {
		t.Errorf("Load with min above max: %v %s", err, c)
	}
	c, _, err = Load(nil, nil)
	if err != nil || !reflect.DeepEqual(c, Default()) {
		t.Errorf("Load(nil, nil) = %s, %v", c, err)
	}
	if _, _, err := LoadFiles("phone.cfg", []byte("# x\nsip.port=x"), "525400123456.cfg", nil); err == nil ||
		!strings.HasPrefix(err.Error(), "config: phone.cfg:2: sip.port") {
		t.Errorf("LoadFiles error = %v", err)
	}
	key := "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
	if c, _, err := Load([]byte("provision.public_key = "+key), nil); err != nil || c.ProvisionPublicKey != key {
		t.Errorf("public key: %q, %v", c.ProvisionPublicKey, err)
	}
	for _, tc := range []struct{ common, own, want string }{
		{"sip.port=x", "", "config: common:1: sip.port"},
		{"", "sip.port=x", "config: own:1: sip.port"},
		{"sip.port=10005", "", "config: common:1: sip.port: 10005 is inside the RTP range"},
		{"rtp.port_min=20000", "\n\nrtp.port_max=10999", "config: common:1: rtp.port_min: 20000 is above"},
		{"rtp.port_min=20000", "\nrtp.port_min=10000\nsip.port=10001", "config: own:3: sip.port: 10001 is inside"},
		{"rtp.port_min=10999", "", "config: rtp.port_max: the RTP range needs at least two ports"},
		{"media.srtp=sometimes", "", "config: common:1: media.srtp"},
		{"media.srtp=required\nline.1.user=1001\nline.1.registrar=pbx", "", "config: common:1: media.srtp: required needs line.1.transport = tls (it is udp)"},
	} {
		_, _, err := Load([]byte(tc.common), []byte(tc.own))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Load(%q, %q) error = %v, want prefix %q", tc.common, tc.own, err, tc.want)
		}
	}
}

func TestStringMasksAndRoundTrips(t *testing.T) {
	c, _, err := Load([]byte("line.1.user=1001\nline.1.password=topsecret\nline.2.user=2\nline.2.display_name=Bob B\nnat.public_address=10.0.2.2\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	if strings.Contains(s, "topsecret") || !strings.Contains(s, "line.1.password = ********\n") {
		t.Errorf("password not masked:\n%s", s)
	}
	if !strings.Contains(s, "line.2.password =\n") {
		t.Errorf("empty password should print empty:\n%s", s)
	}
	back, w, err := Parse("string", []byte(s), Default())
	if err != nil || len(w) != 0 {
		t.Fatalf("String output does not parse: %v %v\n%s", err, w, s)
	}
	c.Lines[0].Password = "********"
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip:\n%s\nwant\n%s", back, c)
	}
	if n := strings.Count(s, "\n"); n != len(Keys()) {
		t.Errorf("String has %d lines, Keys has %d", n, len(Keys()))
	}
}

func TestKeys(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		if seen[k.Name] {
			t.Errorf("key %s twice", k.Name)
		}
		seen[k.Name] = true
		if k.Help == "" {
			t.Errorf("key %s has no help", k.Name)
		}
	}
	// the contract of docs/config.md
	for _, name := range []string{"line.1.user", "line.4.expires", "line.3.outbound_proxy", "sip.port", "sip.trusted_only", "sip.100rel",
		"rtp.port_min", "rtp.port_max", "audio.codecs", "audio.ptime", "call.noanswer_seconds", "call.ring_seconds", "call.forward_noanswer",
		"call.forward_busy", "call.forward_always", "call.dnd", "voicemail.number", "tones.locale",
		"provision.resync_minutes", "nat.public_address", "sip.tls_ca", "sip.tls_cert", "sip.tls_key", "line.2.sips", "media.srtp"} {
		if !seen[name] {
			t.Errorf("key %s missing", name)
		}
	}
}

// TestEntriesMaskSecrets sets every secret key and finds none of their
// values in Entries or String; every key named like a password or a
// secret is marked Secret (provision.public_key is a public key).
func TestEntriesMaskSecrets(t *testing.T) {
	var file strings.Builder
	for _, k := range Keys() {
		named := strings.Contains(k.Name, "password") || strings.Contains(k.Name, "secret") || strings.HasSuffix(k.Name, "private_key")
		if named && !k.Secret {
			t.Errorf("key %s looks secret but is not marked Secret", k.Name)
		}
		// A secret the key's check takes as free text (passwords); keys
		// with a format of their own (a PEM or DER key) are masked all
		// the same, checked with their own values in their tests.
		line := k.Name + " = s3cr3t-" + k.Name + "\n"
		if _, _, err := Parse("t", []byte(line), Default()); k.Secret && err == nil {
			file.WriteString(line)
		}
	}
	c, _, err := Parse("t", []byte(file.String()), Default())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range c.Entries() {
		if strings.Contains(e.Value, "s3cr3t") {
			t.Errorf("%s shows %q", e.Name, e.Value)
		}
		if e.Secret && e.Value != "" { // an unset secret shows as empty
			n++
			if e.Value != Masked {
				t.Errorf("%s = %q, want it masked", e.Name, e.Value)
			}
		}
	}
	if n < MaxLines+1 { // the lines' passwords and admin.password
		t.Errorf("%d secret keys", n)
	}
	if strings.Contains(c.String(), "s3cr3t") {
		t.Errorf("String shows a secret:\n%s", c)
	}
}

// TestEntriesUnused: the keys of a line without a user are marked Unused,
// every one of them, and no other key.
func TestEntriesUnused(t *testing.T) {
	c, _, err := Load([]byte("line.2.user = 1002\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range c.Entries() {
		inLine := strings.HasPrefix(e.Name, "line.")
		if want := inLine && !strings.HasPrefix(e.Name, "line.2."); e.Unused != want {
			t.Errorf("%s: Unused %v", e.Name, e.Unused)
		}
		if e.Unused {
			n++
		}
	}
	if n == 0 || n%(MaxLines-1) != 0 {
		t.Errorf("%d unused keys for %d unused lines", n, MaxLines-1)
	}
}

func TestAdminPortIsNotSIPPort(t *testing.T) {
	_, _, err := Load([]byte("sip.port = 5061\nadmin.port = 5061\n"), nil)
	var e *Error
	if !errors.As(err, &e) || e.Key != "admin.port" || e.Line != 2 {
		t.Fatalf("err = %v, want admin.port on line 2", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("line.1.user = 1001\nsip.port=5060\n# c\n"))
	f.Add([]byte("audio.codecs=PCMA,PCMU\r\nline.2.registrar=[::1]:5060"))
	f.Fuzz(func(t *testing.T, data []byte) {
		base := Default()
		c, w, err := Parse("fuzz", data, base)
		if err != nil {
			if !reflect.DeepEqual(c, base) || w != nil {
				t.Fatalf("error %v but config changed", err)
			}
			if !strings.HasPrefix(err.Error(), "config: fuzz:") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		// Whatever parsed prints and parses back to the same thing
		// (passwords aside: they print masked; a masked TLS key would
		// not parse back, so it is left out).
		c.TLSKey = ""
		back, _, err := Parse("again", []byte(c.String()), Default())
		if err != nil {
			t.Fatalf("String output does not parse: %v\n%s", err, c)
		}
		for i := range c.Lines {
			if c.Lines[i].Password != "" {
				c.Lines[i].Password = "********"
			}
		}
		if c.AdminPassword != "" {
			c.AdminPassword = "********"
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip differs:\n%s\n%s", back, c)
		}
	})
}

// TestClientCert: provision.cert and provision.key come together and
// belong together; the key is masked when the configuration is printed.
func TestClientCert(t *testing.T) {
	cert, key := testCert(t)
	_, otherKey := testCert(t)
	ok := "provision.cert = " + cert + "\nprovision.key = " + key + "\nprovision.ca = " + cert + " " + cert + "\n"
	c, _, err := Load([]byte(ok), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if strings.Contains(c.String(), key) {
		t.Errorf("String() shows provision.key")
	}
	for _, tt := range []struct{ in, want string }{
		{"provision.cert = " + cert, "provision.cert: needs provision.key"},
		{"provision.key = " + key, "provision.key: needs provision.cert"},
		{"provision.cert = " + cert + "\nprovision.key = " + otherKey, "provision.key: is not the key of"},
	} {
		if _, _, err := Load([]byte(tt.in), nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%.40q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// testCert makes a self-signed certificate and its key, as the
// configuration writes them (base64 DER).
func testCert(t *testing.T) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "phone"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der), base64.StdEncoding.EncodeToString(kd)
}

func TestTimeKeys(t *testing.T) {
	c, _, err := Parse("t.cfg", []byte("time.zone = Europe/Berlin\ntime.format = 12H\nntp.server = 10.0.0.1:1123\n"), Default())
	if err != nil {
		t.Fatal(err)
	}
	if c.TimeZone != "Europe/Berlin" || c.TimeFormat != "12h" || c.NTPServer != "10.0.0.1:1123" {
		t.Errorf("got %q %q %q", c.TimeZone, c.TimeFormat, c.NTPServer)
	}
	for _, bad := range []string{"time.zone = Mars/Olympus", "time.zone = Local", "time.format = 25h"} {
		if _, _, err := Parse("t.cfg", []byte(bad+"\n"), Default()); err == nil {
			t.Errorf("%s: taken", bad)
		}
	}
}
