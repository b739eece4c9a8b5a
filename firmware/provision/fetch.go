package provision

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// MaxConfigSize is the largest configuration file Fetch accepts.
const MaxConfigSize = 1 << 20

// OwnFile is the name of a phone's own configuration file: its MAC as 12
// lower-case hex digits, then ".cfg".
func OwnFile(mac net.HardwareAddr) string {
	return strings.ToLower(strings.ReplaceAll(mac.String(), ":", "")) + ".cfg"
}

// Fetch gets a phone's configuration files from server: the common file
// (commonFile, "phone.cfg" when empty), then its own file (OwnFile(mac)).
// A missing own file is not fatal: own is nil and the phone runs on the
// common file. A missing common file is not fatal either when the own file
// exists. Both missing, or any other failure, is an error.
func Fetch(ctx context.Context, server, commonFile string, mac net.HardwareAddr, logf func(string, ...any)) (common, own []byte, err error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if commonFile == "" {
		commonFile = "phone.cfg"
	}
	if len(mac) != 6 {
		return nil, nil, fmt.Errorf("provision: MAC %q is not 6 bytes", mac)
	}
	ownFile := OwnFile(mac)
	common, err = Get(ctx, server, commonFile, MaxConfigSize)
	switch {
	case err == nil:
		logf("provision: got %s from %s (%d bytes)", commonFile, server, len(common))
	case errors.Is(err, ErrNotFound):
		logf("provision: %s is not on %s; trying %s alone", commonFile, server, ownFile)
	default:
		return nil, nil, err
	}
	missingCommon := err != nil
	own, err = Get(ctx, server, ownFile, MaxConfigSize)
	switch {
	case err == nil:
		logf("provision: got %s from %s (%d bytes)", ownFile, server, len(own))
	case errors.Is(err, ErrNotFound) && !missingCommon:
		logf("provision: %s is not on %s; using %s alone", ownFile, server, commonFile)
		own = nil
	case errors.Is(err, ErrNotFound):
		return nil, nil, fmt.Errorf("provision: neither %s nor %s is on %s: %w", commonFile, ownFile, server, ErrNotFound)
	default:
		return nil, nil, err
	}
	return common, own, nil
}
