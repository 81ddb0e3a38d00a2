package consumer

import (
	"context"
	"maps"
	"sync"
	"time"
)

// Stats counts the requests of a Run; safe for concurrent use.
type Stats struct {
	mu        sync.Mutex
	Requests  int64            // token requests completed
	Failures  int64            // of which failed
	ByKID     map[string]int64 // successes per accepted kid
	LastError string           // the latest failure's message
}

// Snapshot returns a copy of the counters.
func (st *Stats) Snapshot() *Stats {
	// A pointer, so that callers never copy a Stats (and its mutex) by value.
	st.mu.Lock()
	defer st.mu.Unlock()
	return &Stats{Requests: st.Requests, Failures: st.Failures, ByKID: maps.Clone(st.ByKID), LastError: st.LastError}
}

// record counts one completed request.
func (st *Stats) record(tok Token, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.Requests++
	if err != nil {
		st.Failures++
		st.LastError = err.Error()
		return
	}
	if st.ByKID == nil {
		st.ByKID = map[string]int64{}
	}
	st.ByKID[tok.KID]++
}

// Run requests tokens from s at perSecond a second (at least 1) into stats until ctx ends.
func Run(ctx context.Context, s *TokenSource, perSecond int, stats *Stats) {
	// Requests overlap when the tenant is slow, up to one second's worth. Run returns after the
	// requests in flight; one cut short because ctx ended is not counted.
	perSecond = max(perSecond, 1)
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	slots := make(chan struct{}, perSecond)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case <-ctx.Done():
			return
		case slots <- struct{}{}:
		}
		wg.Go(func() {
			defer func() { <-slots }()
			tok, err := s.Token(ctx)
			if ctx.Err() == nil {
				stats.record(tok, err)
			}
		})
	}
}
