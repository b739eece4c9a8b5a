package provision

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	"github.com/deskphone/deskphone/firmware/storage"
)

// Source is where configuration files come from.
type Source interface {
	// Get returns the file called name; an error wrapping ErrNotFound
	// when there is none.
	Get(ctx context.Context, name string) ([]byte, error)
	String() string
}

// ConditionalSource is a Source that can be asked for a file only if it
// changed since the copy the phone has (HTTP: If-None-Match,
// If-Modified-Since).
type ConditionalSource interface {
	Source
	// GetIfChanged is Get that also returns the file's validators; with
	// have set, an unchanged file is an error wrapping ErrNotModified.
	GetIfChanged(ctx context.Context, name string, have Validators) ([]byte, Validators, error)
}

// URLSource reads files from a Location over TFTP, HTTP or HTTPS
// (Download).
type URLSource struct {
	Loc Location
	// HTTP is the client for http and https; nil: a Provisioner uses one
	// built from its current configuration's provision.ca, .cert and .key
	// (NewHTTPClient), anyone else the system roots.
	HTTP *http.Client
	TFTP *Client // nil: the defaults
}

func (s URLSource) Get(ctx context.Context, name string) ([]byte, error) {
	b, _, err := s.GetIfChanged(ctx, name, Validators{})
	return b, err
}

func (s URLSource) GetIfChanged(ctx context.Context, name string, have Validators) ([]byte, Validators, error) {
	var b bytes.Buffer
	m, err := Download(ctx, s.Loc.URL(name), &b, MaxConfigSize, &DownloadOptions{HTTP: s.HTTP, TFTP: s.TFTP, Have: have})
	switch {
	case err != nil:
		return nil, Validators{}, err
	case m.NotModified:
		return nil, m.Validators, fmt.Errorf("provision: %s: %w", m.URL, ErrNotModified)
	}
	return append([]byte{}, b.Bytes()...), m.Validators, nil
}

func (s URLSource) String() string { return s.Loc.String() }

// TFTPSource reads files from a TFTP server, in Dir on it.
type TFTPSource struct {
	Client *Client // nil: the defaults
	Server string  // host or host:port
	Dir    string  // folder on the server; "" = its root
}

func (s TFTPSource) Get(ctx context.Context, name string) ([]byte, error) {
	c := s.Client
	if c == nil {
		c = &Client{}
	}
	if s.Dir != "" {
		name = path.Join(s.Dir, name)
	}
	return c.Get(ctx, s.Server, name, MaxConfigSize)
}

func (s TFTPSource) String() string {
	if s.Dir != "" {
		return "tftp://" + s.Server + "/" + s.Dir
	}
	return "tftp://" + s.Server
}

// DirSource reads files from a local folder (the sim board).
type DirSource struct{ Dir string }

func (s DirSource) Get(_ context.Context, name string) ([]byte, error) {
	f, err := os.Open(filepath.Join(s.Dir, filepath.Base(name)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("provision: %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	if len(b) > MaxConfigSize {
		return nil, fmt.Errorf("provision: %s: %w", name, ErrTooLarge)
	}
	return b, nil
}

func (s DirSource) String() string { return s.Dir }

// Provisioner keeps the phone's configuration: it fetches the files,
// checks their signatures when a key is trusted, loads and validates them,
// stores the last good set and hands a new one to the phone when the phone
// is idle. Fill in the fields, call Boot once, then Run.
//
// Trust: the key that must sign the files is TrustedKey when the build
// set one; otherwise the provision.public_key of the configuration the
// phone already has (the stored last good one, or the one it booted
// with). A fetched file's own provision.public_key is never enough by
// itself: with a trusted key, a file must be signed by it (a file signed by
// the old key may name a new one: key rotation). Only when the phone
// trusts no key yet (new phone, empty storage) is a configuration that
// names a key accepted on first use, and then it must already be signed by
// the key it names.
type Provisioner struct {
	Source     Source
	CommonFile string // default "phone.cfg"
	OwnFile    string // the phone's own file (OwnFile(mac)); "" = none
	// Store keeps the last good configuration; nil: nothing is kept.
	Store *storage.Store
	// TrustedKey, when set (from the build), is the only key files may be
	// signed with, whatever provision.public_key says.
	TrustedKey ed25519.PublicKey
	// Idle reports whether the phone may take a new configuration now (no
	// call up); nil: always.
	Idle func() bool
	// Apply is called from Run, when Idle says so, with a new
	// configuration that is valid and already stored. nil: new
	// configurations are stored and used from the next boot.
	Apply func(config.Config)
	Logf  func(format string, args ...any)
	// RetryMin is the first wait after a failed resync, doubling up to the
	// resync interval (at most RetryMax); default 1 minute.
	RetryMin time.Duration
	// IdlePoll is how often a deferred configuration checks Idle; default
	// 2 seconds.
	IdlePoll time.Duration
	// Spread delays fetches by a random 0 to provision.spread_seconds of
	// the current configuration, so a fleet's phones do not all ask the
	// server in the same second: Boot with a stored configuration starts
	// on it and leaves the first fetch to Run, within the window; each
	// periodic resync and each retry waits its interval plus a random
	// part of the window. A phone with nothing stored fetches at once (it
	// has nothing to run), as does a resync asked for (Resync). Off for a
	// source no fleet shares (the sim board's folder).
	Spread bool
	// Rand returns a random number in [0, n); nil: math/rand/v2.
	Rand func(n int64) int64

	mu      sync.Mutex
	cur     Files
	curCfg  config.Config
	pending *config.Config
	trusted ed25519.PublicKey
	resync  chan struct{}
	// fellBack: Boot used the stored configuration; Run retries soon.
	fellBack    bool
	deferLogged bool
	// bootDeferred: Boot started on the stored configuration and left
	// the first fetch to Run, after bootWait (Spread).
	bootDeferred bool
	bootWait     time.Duration
	http         clientCache
	gen          uint64 // the stored generation of cur; 0: not stored
	checked      time.Time
	checkErr     error
	booted       Origin // where the configuration the phone booted with came from
}

// Origin says where a configuration came from: what an administrator's
// page shows beside it.
type Origin struct {
	From       string    // the source: tftp://10.0.2.2, a folder
	CommonName string    // the common file
	OwnName    string    // the phone's own file; "" = none
	Fetched    time.Time // when it was fetched; zero: the defaults
	// Generation is the storage generation it is kept under (counting
	// saves on this phone); 0: not kept (no storage).
	Generation uint64
	// Stored: the source failed at boot and the phone runs on the stored
	// last good configuration.
	Stored bool
}

// Status is the provisioner's state for an administrator: the origin of the
// configuration the phone runs, the last resync, and whether a new
// configuration waits for the phone to be idle.
type Status struct {
	Running   Origin
	Checked   time.Time // the last resync; zero: none since boot
	CheckErr  error     // why it failed; nil: it worked
	Pending   bool      // a new configuration is stored and waits for idle
	PendingAt Origin    // the pending one's origin, when Pending
}

// Status reports where the running configuration came from and how the
// last resync went. Safe from any goroutine.
func (p *Provisioner) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{Running: p.booted, Checked: p.checked, CheckErr: p.checkErr, Pending: p.pending != nil}
	if st.Pending {
		st.PendingAt = p.originLocked(false)
	}
	return st
}

func (p *Provisioner) originLocked(stored bool) Origin {
	return Origin{From: p.cur.From, CommonName: p.cur.CommonName, OwnName: p.cur.OwnName, Fetched: p.cur.Fetched, Generation: p.gen, Stored: stored}
}

// BuildPublicKey is the base64 Ed25519 key the build trusts, set with
//
//	go build -ldflags "-X github.com/deskphone/deskphone/firmware/provision.BuildPublicKey=..."
//
// When set, Boot makes it the TrustedKey of a Provisioner that has none, and
// every configuration file must be signed by it.
var BuildPublicKey string

// RetryMax bounds the wait between failed resyncs.
const RetryMax = 30 * time.Minute

func (p *Provisioner) logf(format string, args ...any) {
	if p.Logf != nil {
		p.Logf(format, args...)
	}
}

// source is where the next fetch goes and the common file it asks for:
// the current configuration's provision.url when it names one, else
// Source (what DHCP named) and CommonFile. An http or https URLSource
// without a client gets the one the current configuration's trust
// (provision.ca, .cert, .key) builds.
func (p *Provisioner) source() (Source, string, error) {
	cfg := p.Current()
	src, common := p.Source, p.CommonFile
	if cfg.ProvisionURL != "" {
		loc, ok := ParseLocation(cfg.ProvisionURL)
		if !ok {
			return nil, "", fmt.Errorf("provision: provision.url %q is not a tftp, http or https URL", cfg.ProvisionURL)
		}
		src = URLSource{Loc: loc}
		if loc.File != "" {
			common = loc.File
		}
	}
	if u, ok := src.(URLSource); ok && u.HTTP == nil && u.Loc.Scheme != "tftp" {
		hc, err := p.http.get(cfg)
		if err != nil {
			return nil, "", err
		}
		u.HTTP = hc
		src = u
	}
	if common == "" {
		common = "phone.cfg"
	}
	return src, common, nil
}

// HTTPClient is the client the phone fetches with over http and https
// under its current configuration's trust (provision.ca, .cert, .key):
// what Download wants in DownloadOptions.HTTP for a firmware image. It is
// shared with the configuration's fetches and rebuilt when the trust
// changes.
func (p *Provisioner) HTTPClient() (*http.Client, error) {
	return p.http.get(p.Current())
}

// get fetches one file, asking only for a change when the current set
// has it from the same place with validators: a file the server says is
// unchanged is the current one (unchanged set).
func (p *Provisioner) get(ctx context.Context, src Source, name string, have []byte, hv Validators) (data []byte, v Validators, unchanged bool, err error) {
	cs, ok := src.(ConditionalSource)
	if !ok {
		data, err = src.Get(ctx, name)
		return data, Validators{}, false, err
	}
	if have == nil {
		hv = Validators{}
	}
	data, v, err = cs.GetIfChanged(ctx, name, hv)
	if errors.Is(err, ErrNotModified) {
		p.logf("provision: %s is not modified on %s", name, src)
		return have, v, true, nil
	}
	return data, v, false, err
}

// fetch gets the common and own files: either may be missing, not both.
func (p *Provisioner) fetch(ctx context.Context) (Files, error) {
	src, commonName, err := p.source()
	if err != nil {
		return Files{}, err
	}
	f := Files{CommonName: commonName, OwnName: p.OwnFile, From: src.String(), Fetched: time.Now()}
	p.mu.Lock()
	cur := p.cur
	p.mu.Unlock()
	if cur.From != f.From {
		cur = Files{} // validators hold for the place they came from
	}
	var unchanged bool
	f.Common, f.CommonVal, unchanged, err = p.get(ctx, src, f.CommonName, sameName(cur.CommonName, f.CommonName, cur.Common), cur.CommonVal)
	if unchanged {
		f.unchanged++
	}
	missingCommon := errors.Is(err, ErrNotFound)
	if err != nil && !missingCommon {
		return Files{}, err
	}
	if missingCommon {
		f.Common = nil
	} else if f.Common == nil {
		f.Common = []byte{}
	}
	if f.OwnName == "" {
		if missingCommon {
			return Files{}, fmt.Errorf("provision: %s is not on %s: %w", f.CommonName, f.From, ErrNotFound)
		}
		return f, nil
	}
	f.Own, f.OwnVal, unchanged, err = p.get(ctx, src, f.OwnName, sameName(cur.OwnName, f.OwnName, cur.Own), cur.OwnVal)
	if unchanged {
		f.unchanged++
	}
	switch {
	case err == nil:
		if f.Own == nil {
			f.Own = []byte{}
		}
	case errors.Is(err, ErrNotFound) && !missingCommon:
		p.logf("provision: %s is not on %s; using %s alone", f.OwnName, f.From, f.CommonName)
		f.Own = nil
	case errors.Is(err, ErrNotFound):
		return Files{}, fmt.Errorf("provision: neither %s nor %s is on %s: %w", f.CommonName, f.OwnName, f.From, ErrNotFound)
	default:
		return Files{}, err
	}
	return f, nil
}

// sameName is data when the current file has the name asked for, else nil.
func sameName(curName, name string, data []byte) []byte {
	if curName != name {
		return nil
	}
	return data
}

// load parses and validates a set of files.
func (p *Provisioner) load(f Files) (config.Config, error) {
	own := f.OwnName
	if own == "" {
		own = "own"
	}
	cfg, warns, err := config.LoadFiles(f.CommonName, f.Common, own, f.Own)
	if err != nil {
		return config.Config{}, err
	}
	for _, w := range warns {
		p.logf("%v", w)
	}
	return cfg, nil
}

// verify checks the files' signatures against the trusted key, or, when
// none is trusted yet, against the key the new configuration names.
func (p *Provisioner) verify(ctx context.Context, src Source, f Files, cfg config.Config) error {
	key := p.trustedKey()
	if key == nil && cfg.ProvisionPublicKey != "" {
		k, err := ParsePublicKey(cfg.ProvisionPublicKey)
		if err != nil {
			return err
		}
		key = k
		p.logf("provision: no key trusted yet; %s names one: its files must be signed by it (trust on first use)", f.From)
	}
	if key == nil {
		return nil
	}
	for _, file := range []struct {
		name string
		data []byte
	}{{f.CommonName, f.Common}, {f.OwnName, f.Own}} {
		if file.data == nil {
			continue
		}
		sig, err := src.Get(ctx, file.name+SigSuffix)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: %s is not signed (no %s%s on %s)", ErrSignature, file.name, file.name, SigSuffix, f.From)
		}
		if err != nil {
			return err
		}
		if err := Verify(key, file.name, file.data, sig); err != nil {
			return err
		}
	}
	return nil
}

func (p *Provisioner) trustedKey() ed25519.PublicKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.trusted
}

// take makes f and cfg current and trusts the key they name (unless the
// build fixed the key).
func (p *Provisioner) take(f Files, cfg config.Config) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur, p.curCfg = f, cfg
	switch {
	case p.TrustedKey != nil:
		p.trusted = p.TrustedKey
	case cfg.ProvisionPublicKey == "":
		p.trusted = nil
	default:
		k, err := ParsePublicKey(cfg.ProvisionPublicKey)
		if err == nil { // config checked it already
			p.trusted = k
		}
	}
}

// fetchAndCheck fetches, verifies and loads a new configuration. A set
// the server said is unchanged (304) and that is the current one is not
// checked again: it was when it became current.
func (p *Provisioner) fetchAndCheck(ctx context.Context) (Files, config.Config, error) {
	src, _, err := p.source()
	if err != nil {
		return Files{}, config.Config{}, err
	}
	f, err := p.fetch(ctx)
	if err != nil {
		return Files{}, config.Config{}, err
	}
	p.mu.Lock()
	cur, curCfg := p.cur, p.curCfg
	p.mu.Unlock()
	if f.unchanged > 0 && sameFiles(f, cur) {
		return f, curCfg, nil
	}
	cfg, err := p.load(f)
	if err != nil {
		return Files{}, config.Config{}, err
	}
	if err := p.verify(ctx, src, f, cfg); err != nil {
		return Files{}, config.Config{}, err
	}
	return f, cfg, nil
}

// save stores f as the last good configuration and returns its
// generation, 0 when it was not stored.
func (p *Provisioner) save(f Files) uint64 {
	if p.Store == nil {
		return 0
	}
	gen, err := p.Store.Save(f.marshal())
	if err != nil {
		p.logf("provision: storing the configuration failed: %v; the previous one stays stored", err)
		return 0
	}
	p.logf("provision: configuration stored (generation %d)", gen)
	return gen
}

// stored returns the last good configuration from the Store.
func (p *Provisioner) stored() (Files, config.Config, uint64, error) {
	if p.Store == nil {
		return Files{}, config.Config{}, 0, errors.New("provision: no storage")
	}
	c, err := p.Store.Load()
	if err != nil {
		return Files{}, config.Config{}, 0, err
	}
	f, err := unmarshalFiles(c.Data)
	if err != nil {
		return Files{}, config.Config{}, 0, err
	}
	cfg, err := p.load(f)
	if err != nil {
		return Files{}, config.Config{}, 0, fmt.Errorf("provision: stored configuration: %w", err)
	}
	return f, cfg, c.Generation, nil
}

// Boot gets the configuration the phone starts with: the one fetched from
// the source when it is there, verified and valid (it is then stored when
// it differs from the stored one); otherwise the last good one from
// storage, saying why. It fails only when neither is to be had.
func (p *Provisioner) Boot(ctx context.Context) (config.Config, error) {
	if p.TrustedKey == nil && BuildPublicKey != "" {
		k, err := ParsePublicKey(BuildPublicKey)
		if err != nil {
			return config.Config{}, fmt.Errorf("provision: the build's key: %w", err)
		}
		p.TrustedKey = k
	}
	sf, scfg, gen, serr := p.stored()
	switch {
	case serr == nil:
		p.take(sf, scfg)
		p.setGen(gen)
	case errors.Is(serr, storage.ErrEmpty) || p.Store == nil:
		p.take(Files{}, config.Default())
	default:
		p.logf("provision: the stored configuration is not usable: %v", serr)
		p.take(Files{}, config.Default())
	}
	if p.TrustedKey != nil {
		p.logf("provision: files must be signed by the build's key")
	} else if p.trustedKey() != nil {
		p.logf("provision: files must be signed by the stored configuration's provision.public_key")
	}
	if w := p.spread(scfg); serr == nil && w > 0 {
		p.mu.Lock()
		p.bootDeferred, p.bootWait = true, p.jitter(w)
		p.booted = p.originLocked(true) // the stored one, until the deferred fetch
		p.mu.Unlock()
		p.logf("provision: starting on the stored configuration (generation %d, from %s at %s: %s); the next fetch is in %s (a random part of provision.spread_seconds %d)",
			gen, sf.From, sf.Fetched.UTC().Format(time.RFC3339), describe(sf), p.bootWait.Round(time.Millisecond), scfg.SpreadSeconds)
		return scfg, nil
	}
	f, cfg, err := p.fetchAndCheck(ctx)
	if err == nil {
		p.logf("provision: configuration from %s: %s", f.From, describe(f))
		g := gen
		if serr != nil || !sameStored(f, sf) {
			g = p.save(f)
		}
		p.take(f, cfg)
		p.setGen(g)
		p.mu.Lock()
		p.booted = p.originLocked(false)
		p.mu.Unlock()
		return cfg, nil
	}
	if serr != nil {
		return config.Config{}, err
	}
	p.mu.Lock()
	p.fellBack = true
	p.booted = p.originLocked(true)
	p.mu.Unlock()
	p.logf("%s; using the last good configuration from storage (generation %d, from %s at %s: %s)",
		says(err), gen, sf.From, sf.Fetched.UTC().Format(time.RFC3339), describe(sf))
	return scfg, nil
}

// says is err as a log line of this package: "provision: " in front,
// once.
func says(err error) string {
	s := err.Error()
	if strings.HasPrefix(s, "provision: ") {
		return s
	}
	return "provision: " + s
}

func describe(f Files) string {
	s := fmt.Sprintf("%s %s", f.CommonName, size(f.Common))
	if f.OwnName != "" {
		s += fmt.Sprintf(", %s %s", f.OwnName, size(f.Own))
	}
	return s
}

func size(b []byte) string {
	if b == nil {
		return "missing"
	}
	return fmt.Sprintf("%d bytes", len(b))
}

func sameFiles(a, b Files) bool {
	return a.CommonName == b.CommonName && a.OwnName == b.OwnName &&
		(a.Common == nil) == (b.Common == nil) && (a.Own == nil) == (b.Own == nil) &&
		bytes.Equal(a.Common, b.Common) && bytes.Equal(a.Own, b.Own)
}

// sameStored: the same files, from the same place, with the same
// validators (what storing them again would not change).
func sameStored(a, b Files) bool {
	return sameFiles(a, b) && a.From == b.From && a.CommonVal == b.CommonVal && a.OwnVal == b.OwnVal
}

// spread is the window fetches are spread over with cfg: 0 unless Spread.
func (p *Provisioner) spread(cfg config.Config) time.Duration {
	if !p.Spread {
		return 0
	}
	return time.Duration(cfg.SpreadSeconds) * time.Second
}

// jitter is a random duration in [0, window).
func (p *Provisioner) jitter(window time.Duration) time.Duration {
	if window <= 0 {
		return 0
	}
	if p.Rand != nil {
		return time.Duration(p.Rand(int64(window)))
	}
	return time.Duration(rand.Int64N(int64(window)))
}

// Current is the configuration in use (after Boot).
func (p *Provisioner) Current() config.Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.curCfg
}

// Pending reports whether a new configuration waits for the phone to be
// idle.
func (p *Provisioner) Pending() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending != nil
}

func (p *Provisioner) setGen(g uint64) {
	p.mu.Lock()
	p.gen = g
	p.mu.Unlock()
}

func (p *Provisioner) trigger() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resync == nil {
		p.resync = make(chan struct{}, 1)
	}
	return p.resync
}

// Resync asks Run to fetch the configuration now: what the phone does on
// a SIP NOTIFY with Event: check-sync. It never blocks; requests made
// while one is waiting are merged. Safe from any goroutine.
func (p *Provisioner) Resync() {
	select {
	case p.trigger() <- struct{}{}:
	default:
	}
}

// Check fetches the configuration once. A configuration that differs from
// the current one, and is valid and verified, is stored and becomes
// pending (Run hands it to Apply when the phone is idle); changed says so.
// On any failure the current configuration stays.
func (p *Provisioner) Check(ctx context.Context) (changed bool, err error) {
	defer func() {
		p.mu.Lock()
		p.checked, p.checkErr = time.Now(), err
		p.mu.Unlock()
	}()
	f, cfg, err := p.fetchAndCheck(ctx)
	if err != nil {
		return false, err
	}
	p.mu.Lock()
	same, stored := sameFiles(f, p.cur), sameStored(f, p.cur)
	p.mu.Unlock()
	if same {
		if !stored { // new validators (or place) for the same files: keep them
			p.save(f)
			p.take(f, cfg)
		}
		p.logf("provision: configuration from %s unchanged", f.From)
		return false, nil
	}
	p.logf("provision: new configuration from %s: %s", f.From, describe(f))
	g := p.save(f)
	p.take(f, cfg)
	p.setGen(g)
	p.mu.Lock()
	p.pending = &cfg
	p.mu.Unlock()
	return true, nil
}

// Run resyncs every provision.resync_minutes of the current configuration
// and whenever Resync is called, retrying a failed resync after RetryMin,
// doubling. A new configuration is handed to Apply as soon as Idle says the
// phone is idle. Run returns when ctx ends.
func (p *Provisioner) Run(ctx context.Context) error {
	retryMin := p.RetryMin
	if retryMin <= 0 {
		retryMin = time.Minute
	}
	poll := p.IdlePoll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	trig := p.trigger()
	retry := time.Duration(0)
	p.mu.Lock()
	if p.fellBack {
		retry = retryMin // the server was down at boot: try again soon
	}
	first := time.Duration(-1) // >= 0: Boot left the first fetch to Run
	if p.bootDeferred {
		first = p.bootWait
	}
	p.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		cur := p.Current()
		interval := time.Duration(cur.ResyncMinutes) * time.Minute
		var wait time.Duration // 0: no timer
		switch {
		case p.Pending():
			wait = poll
		case first >= 0:
			wait = max(first, time.Nanosecond)
		case retry > 0:
			wait = retry + p.jitter(p.spread(cur))
		case interval > 0:
			wait = interval + p.jitter(p.spread(cur))
		}
		timer.Stop()
		var tick <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		resync := false
		select {
		case <-ctx.Done():
			return nil
		case <-trig:
			p.logf("provision: resync requested")
			resync = true
		case <-tick:
			resync = !p.Pending()
		}
		if resync {
			first = -1
			_, err := p.Check(ctx)
			switch {
			case err != nil && ctx.Err() != nil:
				return nil
			case err != nil:
				if retry == 0 {
					retry = retryMin
				} else {
					retry = min(2*retry, RetryMax)
				}
				if interval > 0 {
					retry = min(retry, interval)
				}
				p.logf("provision: resync: %v; keeping the current configuration, next try in %s", err, retry)
			default:
				retry = 0
			}
		}
		p.applyIfIdle()
	}
}

func (p *Provisioner) applyIfIdle() {
	p.mu.Lock()
	cfg := p.pending
	p.mu.Unlock()
	if cfg == nil {
		return
	}
	if p.Idle != nil && !p.Idle() {
		p.mu.Lock()
		logged := p.deferLogged
		p.deferLogged = true
		p.mu.Unlock()
		if !logged {
			p.logf("provision: the phone is busy; the new configuration waits until it is idle")
		}
		return
	}
	p.mu.Lock()
	p.pending = nil
	p.deferLogged = false
	p.mu.Unlock()
	if p.Apply != nil {
		p.logf("provision: applying the new configuration")
		p.Apply(*cfg)
	} else {
		p.logf("provision: the new configuration is stored and takes effect at the next start")
	}
}
