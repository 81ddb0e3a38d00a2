package sandbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault makes requests whose path starts with Path misbehave: each waits Latency, then is
// dropped, answered 5xx or answered 429 with the given probabilities (0 to 1).
type Fault struct {
	Path        string
	Latency     time.Duration
	DropRate    float64
	ErrorRate   float64
	RateLimited float64
}

// ParseFault reads a fault from "PATH,latency=50ms,drop=0.05,5xx=0.1,429=0.1" (any subset).
func ParseFault(spec string) (Fault, error) {
	parts := strings.Split(spec, ",")
	f := Fault{Path: parts[0]}
	if !strings.HasPrefix(f.Path, "/") {
		return f, fmt.Errorf("fault %q: start with the path prefix it applies to, e.g. /oauth/token,5xx=0.1", spec)
	}
	for _, kv := range parts[1:] {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "latency":
			f.Latency, err = time.ParseDuration(v)
		case "drop":
			f.DropRate, err = parseRate(v)
		case "5xx":
			f.ErrorRate, err = parseRate(v)
		case "429":
			f.RateLimited, err = parseRate(v)
		default:
			err = fmt.Errorf("unknown setting %q (use latency, drop, 5xx or 429)", k)
		}
		if err != nil {
			return f, fmt.Errorf("fault %q: %s: %w", spec, k, err)
		}
	}
	return f, nil
}

func parseRate(s string) (float64, error) {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r < 0 || r > 1 {
		return 0, fmt.Errorf("%q is not a probability from 0 to 1", s)
	}
	return r, nil
}

// rateLimitBucket is the size of the sandbox's advertised per-second request budget.
const rateLimitBucket = 1000

// faultInjector applies the configured faults and adds Auth0's rate-limit headers to every
// response.
type faultInjector struct {
	mu     sync.RWMutex
	faults []Fault
	second atomic.Int64
	used   atomic.Int64
}

func (fi *faultInjector) set(faults []Fault) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.faults = append([]Fault(nil), faults...)
}

// match returns the fault with the longest path prefix of path.
func (fi *faultInjector) match(path string) (Fault, bool) {
	fi.mu.RLock()
	defer fi.mu.RUnlock()
	var best Fault
	found := false
	for _, f := range fi.faults {
		if strings.HasPrefix(path, f.Path) && (!found || len(f.Path) > len(best.Path)) {
			best, found = f, true
		}
	}
	return best, found
}

// wrap serves next behind the rate limits of rl and the faults; a request no limit applies to
// gets the headers of a generous one-second bucket.
func (fi *faultInjector) wrap(next http.Handler, rl *rateLimiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limited, refused := rl.limited(w, r)
		if refused {
			return
		}
		reset := time.Now().Unix() + 1
		if !limited {
			reset = fi.countRequest(w)
		}
		if f, ok := fi.match(r.URL.Path); ok && fi.inject(f, w, r, reset) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// countRequest sets X-RateLimit-* for a one-second bucket and returns its reset time.
func (fi *faultInjector) countRequest(w http.ResponseWriter) int64 {
	now := time.Now().Unix()
	if old := fi.second.Load(); old != now && fi.second.CompareAndSwap(old, now) {
		fi.used.Store(0)
	}
	used := fi.used.Add(1)
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(rateLimitBucket))
	h.Set("X-RateLimit-Remaining", strconv.FormatInt(max(rateLimitBucket-used, 0), 10))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(now+1, 10))
	return now + 1
}

// inject applies f to one request and reports whether it answered it.
func (fi *faultInjector) inject(f Fault, w http.ResponseWriter, r *http.Request, reset int64) bool {
	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return true
		}
	}
	switch {
	case rand.Float64() < f.DropRate:
		panic(http.ErrAbortHandler) // closes the connection (HTTP/1) or resets the stream (HTTP/2)
	case rand.Float64() < f.ErrorRate:
		if strings.HasPrefix(r.URL.Path, "/oauth/") {
			writeOAuthError(w, &oauthError{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: "Injected fault: service unavailable."})
		} else {
			writeAPIError(w, &APIError{Status: http.StatusServiceUnavailable, Message: "Injected fault: service unavailable."})
		}
		return true
	case rand.Float64() < f.RateLimited:
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		writeRateLimited(w, r)
		return true
	}
	return false
}
