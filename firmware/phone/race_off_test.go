//go:build !race

package phone

const raceOn = false
