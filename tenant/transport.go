package tenant

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Retry limits of the Management API transport.
const (
	max429Retries = 10               // consecutive 429s before the response is returned
	max5xxRetries = 2                // 500/502/503/504 answers to a GET before it is returned
	maxRateWait   = 30 * time.Second // longest single wait for a rate-limit reset
	minRateWait   = 50 * time.Millisecond
)

// transport keeps requests under the tenant's rate limit (limiter) and retries what go-auth0's
// own retry option cannot be told to leave alone. go-auth0
// v1.35.0 retries every transport error, including a refused client secret from the token
// endpoint (which then costs seconds before the operator sees it), and clamps 429 waits to
// at least one second. This transport instead:
//   - on 429 waits until X-RateLimit-Reset (else Retry-After, else 1 s) plus a little jitter, and
//     retries up to max429Retries times;
//   - retries a GET answered 500, 502, 503 or 504 up to max5xxRetries times;
//   - never retries a transport error or any other status.
//
// It serves both the Management API calls and the token request (through the context client
// of x/oauth2), and notes the scopes of the bearer token it forwards so that a token lacking
// read:client_credentials is reported instead of silently hiding every credential.
type transport struct {
	base   http.RoundTripper
	limits *limiter
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	scopes atomic.Pointer[[]string] // scope claim of the first bearer JWT seen; nil until then
}

// newTransport sends through base, under the limiter of the tenant at host.
func newTransport(base http.RoundTripper, host string) *transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, limits: limiterFor(host), now: time.Now, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RoundTrip sends req, waiting and resending it as described on transport.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.noteScopes(req.Header.Get("Authorization"))
	n429, n5xx := 0, 0
	bucket := bucketOf(req)
	waitedForReset := false
	for {
		if waitedForReset {
			t.limits.admit(bucket)
		} else if err := t.limits.acquire(req.Context(), bucket, t.now, t.sleep); err != nil {
			return nil, err
		}
		resp, err := t.base.RoundTrip(req)
		t.limits.observe(bucket, resp)
		if err != nil {
			return nil, err
		}
		var wait time.Duration
		switch {
		case resp.StatusCode == http.StatusTooManyRequests && n429 < max429Retries:
			n429++
			wait, waitedForReset = t.rateLimitWait(resp.Header), true
		case isRetryable5xx(resp.StatusCode) && req.Method == http.MethodGet && n5xx < max5xxRetries:
			n5xx++
			wait, waitedForReset = time.Duration(250<<(n5xx-1))*time.Millisecond+jitter(), false
		default:
			return resp, nil
		}
		next, ok := rewind(req)
		if !ok {
			return resp, nil
		}
		drain(resp)
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
		req = next
	}
}

func isRetryable5xx(status int) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// rateLimitWait is how long to wait after a 429: until X-RateLimit-Reset (epoch seconds, as
// Auth0 sends it), else Retry-After (seconds or an HTTP date), else one second; with jitter so
// that concurrent workers do not return at the same instant.
func (t *transport) rateLimitWait(h http.Header) time.Duration {
	now := t.now()
	wait := time.Second
	if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		wait = time.Unix(reset, 0).Sub(now)
	} else if ra := h.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil {
			wait = time.Duration(s) * time.Second
		} else if at, err := http.ParseTime(ra); err == nil {
			wait = at.Sub(now)
		}
	}
	return min(max(wait, minRateWait)+jitter(), maxRateWait)
}

func jitter() time.Duration { return rand.N(100 * time.Millisecond) }

// rewind returns a request to send again: req itself when it has no body, else a clone with a
// fresh body; false when the body cannot be replayed.
func rewind(req *http.Request) (*http.Request, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	next := req.Clone(req.Context())
	next.Body = body
	return next, true
}

// drain reads a little of a discarded response so its connection can be reused, then closes it.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// noteScopes records the scope claim of a bearer JWT once; opaque tokens leave it unknown.
// Only the scope names are kept, never the token.
func (t *transport) noteScopes(authorization string) {
	if t.scopes.Load() != nil {
		return
	}
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return
	}
	claims, err := jwtClaims(tok)
	if err != nil {
		return
	}
	scope, ok := claims["scope"].(string)
	if !ok {
		return
	}
	names := strings.Fields(scope)
	t.scopes.CompareAndSwap(nil, &names)
}

// tokenScopes returns the scopes of the Management API token, and false while unknown.
func (t *transport) tokenScopes() ([]string, bool) {
	p := t.scopes.Load()
	if p == nil {
		return nil, false
	}
	return *p, true
}

// jwtClaims decodes the payload of a compact JWS without verifying it.
func jwtClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errNotJWT
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errNotJWT
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, errNotJWT
	}
	return claims, nil
}
