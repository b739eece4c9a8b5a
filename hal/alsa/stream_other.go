//go:build !(linux && (arm64 || amd64))

package alsa

func openStream(name string, capture bool, p streamParams) (stream, error) {
	return nil, ErrUnsupported
}
