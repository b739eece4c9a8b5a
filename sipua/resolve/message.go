package resolve

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// typeNAPTR is RFC 3403's NAPTR type, which dnsmessage does not know: it
// arrives as an UnknownResource.
const typeNAPTR dnsmessage.Type = 35

// ednsSize is the UDP payload size queries advertise (EDNS0, RFC 6891):
// the DNS flag day's 1232, which fits any path's MTU.
const ednsSize = 1232

type srvRR struct {
	priority, weight, port uint16
	target                 string // normalized (lowercase, no trailing dot); "" = "." (no service)
}

type naptrRR struct {
	order, preference      uint16
	flags, service, regexp string
	replacement            string // normalized; "" = "."
}

// answer is what a response says about one question.
type answer struct {
	truncated bool
	negative  bool   // NXDOMAIN, or no record of the type asked (NODATA)
	ttl       uint32 // the smallest TTL of the records used; for a negative answer the SOA's (RFC 2308 section 5), or noSOA
	cname     string // the chain's end when it has no record of the type asked: query it
	addrs     []netip.Addr
	srvs      []srvRR
	naptrs    []naptrRR
}

// noSOA marks a negative answer that carried no SOA: the caller's cap applies.
const noSOA = ^uint32(0)

// normName returns a DNS name lowercase and without its trailing dot ("" for the root).
func normName(s string) string {
	return lowerASCII(strings.TrimSuffix(s, "."))
}

// lowerASCII lowercases A-Z only: DNS compares names ASCII-case-insensitively
// (RFC 4343) and labels may hold any byte, which strings.ToLower would
// change when they are not UTF-8. It allocates only when s has upper case.
func lowerASCII(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// buildQuery returns a query for name (no trailing dot needed) and type,
// with recursion desired and an EDNS0 record.
func buildQuery(id uint16, name string, t dnsmessage.Type) ([]byte, dnsmessage.Question, error) {
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return nil, dnsmessage.Question{}, fmt.Errorf("resolve: bad name %.80q: %w", name, err)
	}
	q := dnsmessage.Question{Name: n, Type: t, Class: dnsmessage.ClassINET}
	b := dnsmessage.NewBuilder(make([]byte, 0, 64+len(name)), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	var opt dnsmessage.ResourceHeader
	err = b.StartQuestions()
	if err == nil {
		err = b.Question(q)
	}
	if err == nil {
		err = b.StartAdditionals()
	}
	if err == nil {
		err = opt.SetEDNS0(ednsSize, dnsmessage.RCodeSuccess, false)
	}
	if err == nil {
		err = b.OPTResource(opt, dnsmessage.OPTResource{})
	}
	var msg []byte
	if err == nil {
		msg, err = b.Finish()
	}
	if err != nil {
		return nil, q, fmt.Errorf("resolve: build query for %.80q: %w", name, err)
	}
	return msg, q, nil
}

// errMismatch is a response to some other query (a late answer to an
// earlier try, or a forgery): the reader waits on.
var errMismatch = fmt.Errorf("%w: not the answer to this query", ErrMalformed)

// parseAnswer parses a response to the query with id and question q. It
// follows a CNAME chain inside the answer section (RFC 1034 section
// 3.6.2) and keeps the records of q's type owned by the chain's end.
// Records that do not parse as their type are an error (the answer is not
// trusted); records of other types or owners are skipped. msg is not kept.
func parseAnswer(msg []byte, id uint16, q dnsmessage.Question) (answer, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return answer{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if !h.Response || h.ID != id {
		return answer{}, errMismatch
	}
	qs, err := p.AllQuestions()
	if err != nil {
		return answer{}, fmt.Errorf("%w: question: %w", ErrMalformed, err)
	}
	if len(qs) != 1 || qs[0].Type != q.Type || qs[0].Class != q.Class || !strings.EqualFold(qs[0].Name.String(), q.Name.String()) {
		return answer{}, errMismatch
	}
	if h.Truncated {
		return answer{truncated: true}, nil
	}
	switch h.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return answer{negative: true, ttl: negativeTTL(&p)}, nil
	default:
		return answer{}, fmt.Errorf("%w: %s", ErrServer, rcodeName(h.RCode))
	}

	var a answer
	a.ttl = ^uint32(0)
	cur := normName(q.Name.String())
	type owned struct {
		name string
		ttl  uint32
	}
	var cnames map[string]owned // owner -> target
	// records of q's type, with owner; kept in parallel to a's slices
	var owners []string
	var ttls []uint32
	for {
		rh, err := p.AnswerHeader()
		if err == dnsmessage.ErrSectionDone {
			break
		}
		if err != nil {
			return answer{}, fmt.Errorf("%w: answer: %w", ErrMalformed, err)
		}
		if rh.Class != dnsmessage.ClassINET {
			if err := p.SkipAnswer(); err != nil {
				return answer{}, fmt.Errorf("%w: answer: %w", ErrMalformed, err)
			}
			continue
		}
		owner := normName(rh.Name.String())
		switch {
		case rh.Type == dnsmessage.TypeCNAME:
			r, err := p.CNAMEResource()
			if err != nil {
				return answer{}, fmt.Errorf("%w: CNAME: %w", ErrMalformed, err)
			}
			if cnames == nil {
				cnames = map[string]owned{}
			}
			cnames[owner] = owned{normName(r.CNAME.String()), rh.TTL}
			continue
		case rh.Type != q.Type:
			if err := p.SkipAnswer(); err != nil {
				return answer{}, fmt.Errorf("%w: answer: %w", ErrMalformed, err)
			}
			continue
		case rh.Type == dnsmessage.TypeA:
			// dnsmessage reads 4 bytes whatever RDLENGTH says: check it
			if rh.Length != 4 {
				return answer{}, fmt.Errorf("%w: A of %d bytes", ErrMalformed, rh.Length)
			}
			r, err := p.AResource()
			if err != nil {
				return answer{}, fmt.Errorf("%w: A: %w", ErrMalformed, err)
			}
			a.addrs = append(a.addrs, netip.AddrFrom4(r.A))
		case rh.Type == dnsmessage.TypeAAAA:
			if rh.Length != 16 {
				return answer{}, fmt.Errorf("%w: AAAA of %d bytes", ErrMalformed, rh.Length)
			}
			r, err := p.AAAAResource()
			if err != nil {
				return answer{}, fmt.Errorf("%w: AAAA: %w", ErrMalformed, err)
			}
			a.addrs = append(a.addrs, netip.AddrFrom16(r.AAAA))
		case rh.Type == dnsmessage.TypeSRV:
			// from the raw RDATA: dnsmessage would read a target running past RDLENGTH
			r, err := p.UnknownResource()
			if err != nil {
				return answer{}, fmt.Errorf("%w: SRV: %w", ErrMalformed, err)
			}
			srv, err := parseSRV(r.Data, msg)
			if err != nil {
				return answer{}, err
			}
			a.srvs = append(a.srvs, srv)
		case rh.Type == typeNAPTR:
			r, err := p.UnknownResource()
			if err != nil {
				return answer{}, fmt.Errorf("%w: NAPTR: %w", ErrMalformed, err)
			}
			n, err := parseNAPTR(r.Data, msg)
			if err != nil {
				return answer{}, err
			}
			a.naptrs = append(a.naptrs, n)
		default:
			if err := p.SkipAnswer(); err != nil {
				return answer{}, fmt.Errorf("%w: answer: %w", ErrMalformed, err)
			}
			continue
		}
		owners = append(owners, owner)
		ttls = append(ttls, rh.TTL)
	}
	// follow the chain from the name asked (bounded: a loop ends it)
	for i := 0; i < 8; i++ {
		c, ok := cnames[cur]
		if !ok {
			break
		}
		cur = c.name
		a.ttl = min(a.ttl, c.ttl)
	}
	// keep the records the chain's end owns
	n := 0
	for i, o := range owners {
		if o != cur {
			continue
		}
		a.ttl = min(a.ttl, ttls[i])
		switch q.Type {
		case dnsmessage.TypeA, dnsmessage.TypeAAAA:
			a.addrs[n] = a.addrs[i]
		case dnsmessage.TypeSRV:
			a.srvs[n] = a.srvs[i]
		case typeNAPTR:
			a.naptrs[n] = a.naptrs[i]
		}
		n++
	}
	switch q.Type {
	case dnsmessage.TypeA, dnsmessage.TypeAAAA:
		a.addrs = a.addrs[:n]
	case dnsmessage.TypeSRV:
		a.srvs = a.srvs[:n]
	case typeNAPTR:
		a.naptrs = a.naptrs[:n]
	}
	if n == 0 {
		if cur != normName(q.Name.String()) {
			return answer{cname: cur, ttl: a.ttl}, nil
		}
		return answer{negative: true, ttl: negativeTTL(&p)}, nil
	}
	return a, nil
}

// negativeTTL reads the authority section's SOA, if any: a negative answer
// is cached for the smaller of its TTL and its MINIMUM (RFC 2308 section 5).
func negativeTTL(p *dnsmessage.Parser) uint32 {
	if err := p.SkipAllAnswers(); err != nil {
		return noSOA
	}
	for {
		h, err := p.AuthorityHeader()
		if err != nil {
			return noSOA
		}
		if h.Type != dnsmessage.TypeSOA {
			if p.SkipAuthority() != nil {
				return noSOA
			}
			continue
		}
		soa, err := p.SOAResource()
		if err != nil {
			return noSOA
		}
		return min(h.TTL, soa.MinTTL)
	}
}

func rcodeName(c dnsmessage.RCode) string {
	switch c {
	case dnsmessage.RCodeFormatError:
		return "FORMERR"
	case dnsmessage.RCodeServerFailure:
		return "SERVFAIL"
	case dnsmessage.RCodeNotImplemented:
		return "NOTIMP"
	case dnsmessage.RCodeRefused:
		return "REFUSED"
	}
	return fmt.Sprintf("rcode %d", c)
}

// parseSRV parses an SRV record's RDATA (RFC 2782): PRIORITY, WEIGHT,
// PORT (16 bits each), TARGET (a domain name; a compression pointer, which
// RFC 2782 forbids but servers send, is followed into msg).
func parseSRV(rdata, msg []byte) (srvRR, error) {
	if len(rdata) < 7 {
		return srvRR{}, fmt.Errorf("%w: SRV: %d bytes", ErrMalformed, len(rdata))
	}
	s := srvRR{
		priority: uint16(rdata[0])<<8 | uint16(rdata[1]),
		weight:   uint16(rdata[2])<<8 | uint16(rdata[3]),
		port:     uint16(rdata[4])<<8 | uint16(rdata[5]),
	}
	name, end, err := readName(rdata, 6, msg)
	if err != nil {
		return srvRR{}, err
	}
	if end != len(rdata) {
		return srvRR{}, fmt.Errorf("%w: SRV: %d bytes after the target", ErrMalformed, len(rdata)-end)
	}
	s.target = name
	return s, nil
}

// parseNAPTR parses a NAPTR record's RDATA (RFC 3403 section 4.1):
//
//	ORDER (16 bits) PREFERENCE (16 bits) FLAGS SERVICES REGEXP
//	(character-strings: a length byte, then the bytes) REPLACEMENT (a domain name)
//
// The replacement must not be compressed (RFC 3597 section 4), but a
// compression pointer is followed into msg, the whole response, all the
// same.
func parseNAPTR(rdata, msg []byte) (naptrRR, error) {
	var n naptrRR
	if len(rdata) < 4 {
		return n, fmt.Errorf("%w: NAPTR: %d bytes", ErrMalformed, len(rdata))
	}
	n.order = uint16(rdata[0])<<8 | uint16(rdata[1])
	n.preference = uint16(rdata[2])<<8 | uint16(rdata[3])
	off := 4
	for _, s := range []*string{&n.flags, &n.service, &n.regexp} {
		if off >= len(rdata) || off+1+int(rdata[off]) > len(rdata) {
			return naptrRR{}, fmt.Errorf("%w: NAPTR: short character-string", ErrMalformed)
		}
		l := int(rdata[off])
		*s = string(rdata[off+1 : off+1+l])
		off += 1 + l
	}
	name, end, err := readName(rdata, off, msg)
	if err != nil {
		return naptrRR{}, err
	}
	if end != len(rdata) {
		return naptrRR{}, fmt.Errorf("%w: NAPTR: %d bytes after the replacement", ErrMalformed, len(rdata)-end)
	}
	n.replacement = name
	return n, nil
}

// readName reads an uncompressed domain name at b[off:] and returns it
// normalized with the offset after it. A compression pointer continues in
// msg (bounded: at most 16 jumps, the name at most 255 bytes).
func readName(b []byte, off int, msg []byte) (string, int, error) {
	var sb strings.Builder
	end := -1 // offset after the name in the first buffer
	wire := 0
	for jumps := 0; ; {
		if off >= len(b) {
			return "", 0, fmt.Errorf("%w: name runs past the record", ErrMalformed)
		}
		l := int(b[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			return lowerASCII(sb.String()), end, nil
		case l&0xC0 == 0xC0:
			if off+1 >= len(b) {
				return "", 0, fmt.Errorf("%w: short compression pointer", ErrMalformed)
			}
			if jumps++; jumps > 16 {
				return "", 0, fmt.Errorf("%w: compression loop", ErrMalformed)
			}
			if end < 0 {
				end = off + 2
			}
			b, off = msg, (l&0x3F)<<8|int(b[off+1])
		case l&0xC0 != 0:
			return "", 0, fmt.Errorf("%w: label type %#x", ErrMalformed, l&0xC0)
		default:
			if off+1+l > len(b) {
				return "", 0, fmt.Errorf("%w: label runs past the record", ErrMalformed)
			}
			if wire += 1 + l; wire > 254 {
				return "", 0, fmt.Errorf("%w: name longer than 255 bytes", ErrMalformed)
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.Write(b[off+1 : off+1+l])
			off += 1 + l
		}
	}
}
