package tenant

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter keeps this process's requests to one tenant under the rate limits the tenant
// announces. Auth0 answers each request of a limited API with X-RateLimit-Remaining (the
// requests its bucket still holds) and X-RateLimit-Reset (when tokens are next added, in epoch
// seconds). The limiter counts its own requests down from the last remaining it was told and,
// when none remain, holds the next request until the reset; then one request goes first to
// learn the new remaining. Every tenant call of rekey (lists, reads, the token request, live
// checks) goes through the limiter of its tenant, so a normal run sees no 429.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*budget
}

// budget is what rekey knows of one of the tenant's buckets.
type budget struct {
	known     bool      // a response has told remaining and reset
	unlimited bool      // responses carry no rate-limit headers: nothing to keep under
	probing   bool      // a request is out to learn the bucket after a reset
	remaining int       // requests that may still go out before reset
	reset     time.Time // when the bucket next gains tokens
	inflight  int       // requests sent and not yet answered
	// Waiting requests go in the order they came (tickets), so that none starves behind
	// requests that keep arriving.
	next, serving uint64
	abandoned     map[uint64]bool // tickets of requests cancelled while waiting
}

// limiters are the process's limiters, one per tenant host.
var limiters sync.Map

func limiterFor(host string) *limiter {
	l, _ := limiters.LoadOrStore(host, &limiter{buckets: map[string]*budget{}})
	return l.(*limiter)
}

// bucketOf names the bucket a request spends: the Authentication API's token endpoint, or the
// Management API.
func bucketOf(req *http.Request) string {
	if req.URL.Path == "/oauth/token" {
		return "authentication"
	}
	return "management"
}

// probeWait is how often a request waiting behind a probe, or behind earlier requests, looks again.
const probeWait = 20 * time.Millisecond

// acquire holds a request to bucket until the tenant's limit lets it go, after the requests
// that were waiting before it.
func (l *limiter) acquire(ctx context.Context, bucket string, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	ticket := l.ticket(bucket)
	for {
		wait, ok := l.tryAcquire(bucket, ticket, now())
		if ok {
			return nil
		}
		if err := sleep(ctx, wait); err != nil {
			l.abandon(bucket, ticket)
			return err
		}
	}
}

func (l *limiter) ticket(bucket string) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.budget(bucket)
	b.next++
	return b.next - 1
}

func (l *limiter) abandon(bucket string, ticket uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.budget(bucket)
	if b.abandoned == nil {
		b.abandoned = map[uint64]bool{}
	}
	b.abandoned[ticket] = true
}

// admit counts a request that goes now without waiting: the resend of a request answered 429,
// after the transport waited for the reset that answer gave.
func (l *limiter) admit(bucket string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.budget(bucket)
	b.remaining--
	b.inflight++
}

func (l *limiter) budget(bucket string) *budget {
	b := l.buckets[bucket]
	if b == nil {
		b = &budget{}
		l.buckets[bucket] = b
	}
	return b
}

// tryAcquire lets the request with ticket go now, or says how long to wait before asking again.
func (l *limiter) tryAcquire(bucket string, ticket uint64, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.budget(bucket)
	for b.abandoned[b.serving] {
		delete(b.abandoned, b.serving)
		b.serving++
	}
	if ticket != b.serving {
		return probeWait, false
	}
	switch {
	case b.unlimited:
	case b.known && now.Before(b.reset) && b.remaining <= 0:
		return b.reset.Sub(now) + jitter(), false
	case b.known && now.Before(b.reset):
		b.remaining--
	case b.probing:
		return probeWait, false
	default: // nothing known, or the reset has passed: this request learns the bucket
		b.known, b.probing = false, true
	}
	b.inflight++
	b.serving++
	return 0, true
}

// observe learns the bucket from a response (nil when the request failed).
func (l *limiter) observe(bucket string, resp *http.Response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.budget(bucket)
	b.inflight--
	b.probing = false
	if resp == nil {
		return
	}
	remaining, err1 := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
	reset, err2 := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil {
		b.unlimited = resp.StatusCode != http.StatusTooManyRequests
		return
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		remaining = 0
	}
	// Requests still out may not be counted in remaining yet: keep room for them. Answers
	// arrive out of order: within one window the lowest remaining holds, and an answer from an
	// earlier window says nothing of this one.
	at := time.Unix(reset, 0)
	remaining -= b.inflight
	switch {
	case !b.known || at.After(b.reset):
		b.remaining, b.reset = remaining, at
	case at.Equal(b.reset):
		b.remaining = min(b.remaining, remaining)
	}
	b.known, b.unlimited = true, false
}
