package ui

import (
	"strings"
	"time"
)

// sample is one live check, for the sparkline.
type sample struct {
	latency time.Duration
	ok      bool
}

// maxSamples is how many recent checks a live key keeps.
const maxSamples = 24

// addSample appends s, keeping the last maxSamples.
func addSample(list []sample, s sample) []sample {
	list = append(list, s)
	if len(list) > maxSamples {
		list = append(list[:0:0], list[len(list)-maxSamples:]...)
	}
	return list
}

// sparkline draws the last width samples' latencies scaled from zero to their maximum (so
// that a steady latency draws a steady line), with the marker's levels; failed checks show as
// m.SparkFail.
func sparkline(samples []sample, width int, m Markers) string {
	if width <= 0 || len(samples) == 0 || len(m.Spark) == 0 {
		return ""
	}
	if len(samples) > width {
		samples = samples[len(samples)-width:]
	}
	hi := time.Duration(0)
	for _, s := range samples {
		if s.ok {
			hi = max(hi, s.latency)
		}
	}
	top := len(m.Spark) - 1
	var b strings.Builder
	for _, s := range samples {
		switch {
		case !s.ok:
			b.WriteRune(m.SparkFail)
		case hi == 0:
			b.WriteRune(m.Spark[0])
		default:
			level := int(float64(s.latency)/float64(hi)*float64(top) + 0.5)
			b.WriteRune(m.Spark[min(max(level, 0), top)])
		}
	}
	return b.String()
}
