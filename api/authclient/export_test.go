package authclient

import "time"

// KeepTuning is what Keep's tests tune (keepTuning): the poll, the backoffs and their
// jitter, the grace after ctx ends.
type KeepTuning struct {
	Poll, Backoff, MaxBackoff, StopGrace time.Duration
	Jitter                               func() float64
}

// Tuned is o with t.
func Tuned(o KeepOptions, t KeepTuning) KeepOptions {
	o.tuning = keepTuning{poll: t.Poll, backoff: t.Backoff, maxBackoff: t.MaxBackoff, stopGrace: t.StopGrace, jitter: t.Jitter}
	return o
}
