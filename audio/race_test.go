//go:build race

package audio

// raceEnabled: built with -race, where sync.Pool drops items at random
// (so pooled buffers allocate).
const raceEnabled = true
