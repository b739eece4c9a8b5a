package provision

import (
	"net"
	"net/url"
	"path"
	"strings"
	"unicode"
)

// Location is where a phone's files are: a server, the scheme to fetch
// with, and a folder on it.
type Location struct {
	Scheme string // "tftp", "http" or "https"
	Host   string // host or IP, with :port when the text gave one
	Dir    string // folder on the server, no leading or trailing /; "" = the root
	File   string // the common file the text named; "" = none
}

// ParseLocation reads a server as DHCP options 66, 160 and 43's sub-option
// 66, and provision.url, carry it: a bare host or IPv4 address with an
// optional :port and /folder ("10.0.0.5", "tftp.example/phones": TFTP), or
// a tftp://, http:// or https:// URL ("https://prov.example/phones/",
// "tftp://tftp.example:6969/phones/site.cfg"). A URL whose last element
// has a dot names the common file. The folder is cleaned (".." cannot climb
// above the root). ok is false for anything else: another scheme, a user,
// query or fragment ('?' and '#' are refused anywhere), a malformed host,
// blanks or control characters.
func ParseLocation(s string) (Location, bool) {
	s = strings.TrimSpace(strings.TrimRight(s, "\x00"))
	if s == "" {
		return Location{}, false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || unicode.IsControl(r) || r == ' ' || r == '?' || r == '#' {
			return Location{}, false
		}
	}
	if !strings.Contains(s, "://") {
		host, dir, _ := strings.Cut(s, "/")
		if !validHost(host) {
			return Location{}, false
		}
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			host = "[" + host + "]" // a bare IPv6 address, as a URL writes it
		}
		return Location{Scheme: "tftp", Host: host, Dir: cleanDir(dir)}, true
	}
	u, err := url.Parse(s)
	if err != nil || !validHost(u.Host) || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return Location{}, false
	}
	l := Location{Scheme: strings.ToLower(u.Scheme), Host: u.Host}
	switch l.Scheme {
	case "tftp", "http", "https":
	default:
		return Location{}, false
	}
	p := strings.TrimPrefix(u.Path, "/")
	if p != "" && !strings.HasSuffix(p, "/") && strings.Contains(path.Base(p), ".") {
		l.File = path.Base(p)
		p = path.Dir(p)
	}
	l.Dir = cleanDir(p)
	return l, true
}

// URL is the address of the file called name in the location's folder.
func (l Location) URL(name string) string {
	return (&url.URL{Scheme: l.Scheme, Host: l.Host, Path: "/" + path.Join(l.Dir, name)}).String()
}

// String is the folder as a URL, without a trailing slash: tftp://10.0.2.2,
// https://prov.example/phones.
func (l Location) String() string {
	u := url.URL{Scheme: l.Scheme, Host: l.Host}
	if l.Dir != "" {
		u.Path = "/" + l.Dir
	}
	return u.String()
}

func cleanDir(d string) string {
	d = strings.Trim(path.Clean("/"+d), "/")
	if d == "." {
		return ""
	}
	return d
}

// validHost accepts an IP address or a DNS name, with an optional :port.
func validHost(h string) bool {
	if host, port, err := net.SplitHostPort(h); err == nil {
		if port == "" || strings.Trim(port, "0123456789") != "" || len(port) > 5 {
			return false
		}
		h = host
	} else if len(h) > 2 && h[0] == '[' && h[len(h)-1] == ']' {
		ip := net.ParseIP(h[1 : len(h)-1])
		return ip != nil && ip.To4() == nil
	}
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
