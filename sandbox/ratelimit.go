package sandbox

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RateLimit is one of Auth0's token buckets: it holds up to Burst requests, and PerSecond
// tokens are added at each whole second. A zero PerSecond means no limit.
type RateLimit struct {
	Burst     int
	PerSecond float64
}

// RateLimits are the tenant's buckets: one for the Management API (/api/v2/), one for the
// Authentication API's token endpoint (/oauth/token).
type RateLimits struct {
	Management, Authentication RateLimit
}

// DefaultRateLimits are a paid production tenant's, as Auth0 publishes them for the Enterprise
// subscription ("Rate Limit Configurations", Enterprise): the Management API a burst of 50 and
// 16 requests a second sustained, the Authentication API 100 and 100 a second.
var DefaultRateLimits = RateLimits{
	Management:     RateLimit{Burst: 50, PerSecond: 16},
	Authentication: RateLimit{Burst: 100, PerSecond: 100},
}

// ParseRateLimits reads a --rate-limit value: "off", "default", or "MGMT[,AUTH]" where each is
// RATE/BURST in requests per second ("2/10" is a free tenant's Management API); an AUTH left
// out stays the default.
func ParseRateLimits(s string) (RateLimits, error) {
	switch s {
	case "off":
		return RateLimits{}, nil
	case "default", "":
		return DefaultRateLimits, nil
	}
	limits := DefaultRateLimits
	parts := strings.Split(s, ",")
	if len(parts) > 2 {
		return limits, fmt.Errorf("rate-limit %q: give off, default, or MGMT[,AUTH] as RATE/BURST, e.g. 16/50,100/100", s)
	}
	for i, dst := range []*RateLimit{&limits.Management, &limits.Authentication}[:len(parts)] {
		rate, burst, ok := strings.Cut(parts[i], "/")
		r, err1 := strconv.ParseFloat(rate, 64)
		b, err2 := strconv.Atoi(burst)
		if !ok || err1 != nil || err2 != nil || r <= 0 || b < 1 || math.IsInf(r, 0) {
			return limits, fmt.Errorf("rate-limit %q: %q is not RATE/BURST with a positive rate and a burst of at least 1, e.g. 16/50", s, parts[i])
		}
		*dst = RateLimit{Burst: b, PerSecond: r}
	}
	return limits, nil
}

// String writes the limits as ParseRateLimits reads them.
func (l RateLimits) String() string {
	if l == (RateLimits{}) {
		return "off"
	}
	return fmt.Sprintf("%g/%d,%g/%d", l.Management.PerSecond, l.Management.Burst, l.Authentication.PerSecond, l.Authentication.Burst)
}

// bucket is a RateLimit's state.
type bucket struct {
	limit  RateLimit
	mu     sync.Mutex
	tokens float64
	second int64 // the whole second tokens were last added at
}

func newBucket(l RateLimit) *bucket { return &bucket{limit: l, tokens: float64(l.Burst)} }

// take spends one token at now when there is one; remaining is what is left, reset the whole
// second at which tokens are next added.
func (b *bucket) take(now time.Time) (ok bool, remaining int, reset int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sec := now.Unix()
	if b.second != 0 && sec > b.second {
		b.tokens = min(float64(b.limit.Burst), b.tokens+float64(sec-b.second)*b.limit.PerSecond)
	}
	b.second = sec
	if b.tokens >= 1 {
		b.tokens--
		ok = true
	}
	return ok, int(b.tokens), sec + 1
}

// rateLimiter answers 429, as Auth0 does, to a request its bucket has no token for, and sets
// X-RateLimit-Limit, -Remaining and -Reset on every answer of a limited API.
type rateLimiter struct {
	management, authentication *bucket // nil: unlimited
	refused                    atomic.Int64
}

func newRateLimiter(l RateLimits) *rateLimiter {
	rl := &rateLimiter{}
	if l.Management.PerSecond > 0 {
		rl.management = newBucket(l.Management)
	}
	if l.Authentication.PerSecond > 0 {
		rl.authentication = newBucket(l.Authentication)
	}
	return rl
}

// bucketFor is the bucket of a request's path, or nil.
func (rl *rateLimiter) bucketFor(path string) *bucket {
	switch {
	case strings.HasPrefix(path, "/api/v2/"):
		return rl.management
	case path == "/oauth/token":
		return rl.authentication
	}
	return nil
}

// limited reports whether a limit applies to path, and spends a token of it for the request,
// answering 429 when there is none.
func (rl *rateLimiter) limited(w http.ResponseWriter, r *http.Request) (limited, refused bool) {
	b := rl.bucketFor(r.URL.Path)
	if b == nil {
		return false, false
	}
	ok, remaining, reset := b.take(time.Now())
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(b.limit.Burst))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	if ok {
		return true, false
	}
	rl.refused.Add(1)
	writeRateLimited(w, r)
	return true, true
}

// writeRateLimited answers 429 with Auth0's body for the API of r.
func writeRateLimited(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/oauth/") {
		writeOAuthError(w, &oauthError{Status: http.StatusTooManyRequests, Code: "too_many_requests", Description: "Global limit has been reached"})
		return
	}
	writeAPIError(w, &APIError{Status: http.StatusTooManyRequests, Message: "Global limit has been reached", Code: "too_many_requests"})
}
