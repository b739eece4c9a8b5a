// Package hook reads a hookswitch on a GPIO input: it waits for edges
// (periph's WaitForEdge, the GPIO character device's line events on a
// Raspberry Pi), debounces them (the level counts once no edge has come for
// the debounce time) and sends each settled change. A slow poll catches an
// edge the kernel missed.
package hook
