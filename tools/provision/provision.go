package provision

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/deskphone/deskphone/firmware/config"
	fwprov "github.com/deskphone/deskphone/firmware/provision"
)

// Fleet is what Build makes: the common file and each phone's own file.
type Fleet struct {
	CommonName string // phone.cfg
	Common     []byte
	Phones     []Phone
}

// Phone is one row of the CSV.
type Phone struct {
	MAC  net.HardwareAddr
	User string
	File string // <mac>.cfg
	Line int    // line of the CSV it came from
	Data []byte
}

// Options are Build's inputs besides the CSV.
type Options struct {
	CSVName    string // for messages; default "fleet.csv"
	CommonName string // default "phone.cfg"
	// Common is the common template, copied into the common file.
	Common []byte
	// PublicKey, when set, is written into the common file as
	// provision.public_key (unless the template already names that key; a
	// different key there is an error), so that the phones check the
	// signatures.
	PublicKey ed25519.PublicKey
}

// Column names with a meaning of their own; every other column is a key.
var fixedColumns = map[string]string{
	"mac":          "",
	"user":         "line.1.user",
	"password":     "line.1.password",
	"display_name": "line.1.display_name",
}

// ParseMAC reads a MAC as 52:54:00:12:34:56, 52-54-00-12-34-56 or
// 525400123456, in any case.
func ParseMAC(s string) (net.HardwareAddr, error) {
	s = strings.TrimSpace(s)
	if len(s) == 12 && !strings.ContainsAny(s, ":-.") {
		s = s[0:2] + ":" + s[2:4] + ":" + s[4:6] + ":" + s[6:8] + ":" + s[8:10] + ":" + s[10:12]
	}
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 {
		return nil, fmt.Errorf("bad MAC %q", s)
	}
	if mac[0]&1 != 0 {
		return nil, fmt.Errorf("MAC %s is a multicast address", mac)
	}
	return mac, nil
}

// Build reads the CSV and makes every file, checking each phone's pair
// with firmware/config. All bad rows are reported, joined, each as
// "fleet.csv:LINE: why".
func Build(r io.Reader, o Options) (*Fleet, error) {
	if o.CSVName == "" {
		o.CSVName = "fleet.csv"
	}
	if o.CommonName == "" {
		o.CommonName = "phone.cfg"
	}
	common, err := commonFile(o)
	if err != nil {
		return nil, err
	}
	f := &Fleet{CommonName: o.CommonName, Common: common}

	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("provision: %s: header: %w", o.CSVName, err)
	}
	known := map[string]bool{}
	for _, k := range config.Keys() {
		known[k.Name] = true
	}
	keys := make([]string, len(header)) // the key each column sets; "" for mac
	setBy := map[string]string{}        // key (or "mac") -> the column setting it
	macCol, userCol := -1, -1
	var errs []error
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		header[i] = h
		key, fixed := fixedColumns[h]
		switch {
		case h == "mac":
			macCol = i
		case h == "user":
			userCol = i
		case fixed:
		case known[h]:
			key = h
		default:
			errs = append(errs, fmt.Errorf("provision: %s:1: column %d %q is not a configuration key (docs/config.md)", o.CSVName, i+1, h))
			continue
		}
		id := key
		if id == "" {
			id = h
		}
		if prev, dup := setBy[id]; dup {
			errs = append(errs, fmt.Errorf("provision: %s:1: column %q sets what column %q sets", o.CSVName, h, prev))
			continue
		}
		setBy[id], keys[i] = h, key
	}
	if macCol < 0 || userCol < 0 {
		errs = append(errs, fmt.Errorf("provision: %s:1: the header needs the columns mac and user (and usually password, display_name)", o.CSVName))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	macs, users := map[string]int{}, map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			errs = append(errs, fmt.Errorf("provision: %s:%d: %w", o.CSVName, line, err))
			if errors.Is(err, csv.ErrFieldCount) {
				continue
			}
			break
		}
		where := fmt.Sprintf("provision: %s:%d", o.CSVName, line)
		mac, err := ParseMAC(rec[macCol])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		user := strings.TrimSpace(rec[userCol])
		if user == "" {
			errs = append(errs, fmt.Errorf("%s: no user for %s", where, mac))
			continue
		}
		if prev, dup := macs[mac.String()]; dup {
			errs = append(errs, fmt.Errorf("%s: MAC %s is already on line %d", where, mac, prev))
			continue
		}
		macs[mac.String()] = line
		if prev, dup := users[user]; dup {
			errs = append(errs, fmt.Errorf("%s: user %s is already on line %d", where, user, prev))
			continue
		}
		users[user] = line
		p := Phone{MAC: mac, User: user, File: fwprov.OwnFile(mac), Line: line}
		var b bytes.Buffer
		fmt.Fprintf(&b, "# %s: phone %s, user %s (%s line %d); written by tools/cmd/provision\n", p.File, mac, user, o.CSVName, line)
		bad := false
		for i, v := range rec {
			v = strings.TrimSpace(v)
			if keys[i] == "" || v == "" {
				continue
			}
			if strings.ContainsAny(v, "\r\n") {
				errs = append(errs, fmt.Errorf("%s: column %s: the value spans lines", where, header[i]))
				bad = true
				continue
			}
			fmt.Fprintf(&b, "%s = %s\n", keys[i], v)
		}
		if bad {
			continue
		}
		p.Data = b.Bytes()
		// The phone's own check, on exactly what it will read.
		if _, warns, err := config.LoadFiles(o.CommonName, f.Common, p.File, p.Data); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		} else if len(warns) > 0 {
			errs = append(errs, fmt.Errorf("%s: %v", where, warns[0]))
			continue
		}
		f.Phones = append(f.Phones, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(f.Phones) == 0 {
		return nil, fmt.Errorf("provision: %s has no phones", o.CSVName)
	}
	return f, nil
}

// commonFile checks the template and adds the public key.
func commonFile(o Options) ([]byte, error) {
	c, warns, err := config.Parse(o.CommonName, o.Common, config.Default())
	if err != nil {
		return nil, fmt.Errorf("provision: template: %w", err)
	}
	if len(warns) > 0 {
		return nil, fmt.Errorf("provision: template: %v", warns[0])
	}
	out := append([]byte(nil), o.Common...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	if o.PublicKey != nil {
		want := base64.StdEncoding.EncodeToString(o.PublicKey)
		switch c.ProvisionPublicKey {
		case want:
		case "":
			out = append(out, "# The key that signs these files (added by tools/cmd/provision).\nprovision.public_key = "+want+"\n"...)
		default:
			return nil, fmt.Errorf("provision: template: provision.public_key is %s, but the files are signed with %s", c.ProvisionPublicKey, want)
		}
	}
	return out, nil
}

// Write writes the files into dir (created when absent), each through a
// temporary file and a rename so that a TFTP server never serves half a
// file, with <file>.sig next to each when key is set. It returns the names
// written, sorted.
func (f *Fleet) Write(dir string, key ed25519.PrivateKey) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	files := map[string][]byte{f.CommonName: f.Common}
	for _, p := range f.Phones {
		files[p.File] = p.Data
	}
	if key != nil {
		sigs := map[string][]byte{}
		for name, data := range files {
			sigs[name+fwprov.SigSuffix] = fwprov.Sign(key, name, data)
		}
		maps.Copy(files, sigs)
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := writeFile(filepath.Join(dir, name), files[name]); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// writeFile writes through a temporary file and a rename; the files are
// world-readable, as tftpd-hpa serves only those.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("provision: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("provision: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	return nil
}

// GenerateKey makes a new signing key and writes its seed, base64, to
// path (mode 0600, which must not exist yet). It returns the key.
func GenerateKey(path string, rand io.Reader) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	if _, err := fmt.Fprintln(f, base64.StdEncoding.EncodeToString(priv.Seed())); err != nil {
		f.Close()
		return nil, fmt.Errorf("provision: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	return priv, nil
}

// ReadKey reads a private key file written by GenerateKey (or any base64
// Ed25519 seed or private key).
func ReadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	return fwprov.ParsePrivateKey(b)
}
