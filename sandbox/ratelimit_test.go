package sandbox

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestBucket: a bucket lets its burst through, then refuses until the next whole second adds
// its rate (never past the burst), and says so in Auth0's headers.
func TestBucket(t *testing.T) {
	rl := newRateLimiter(RateLimits{Management: RateLimit{Burst: 3, PerSecond: 2}})
	send := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		if _, refused := rl.limited(w, httptest.NewRequest(http.MethodGet, "/api/v2/clients", nil)); !refused {
			w.WriteHeader(http.StatusOK)
		}
		return w
	}
	// Start just after a whole second so that the burst is spent within it.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	for i, want := range []string{"2", "1", "0"} {
		if w := send(); w.Code != http.StatusOK || w.Header().Get("X-RateLimit-Remaining") != want || w.Header().Get("X-RateLimit-Limit") != "3" {
			t.Fatalf("request %d: %d, remaining %s, limit %s; want 200, %s, 3", i+1, w.Code, w.Header().Get("X-RateLimit-Remaining"), w.Header().Get("X-RateLimit-Limit"), want)
		}
	}
	w := send()
	next := time.Now().Truncate(time.Second).Add(time.Second).Unix()
	if w.Code != http.StatusTooManyRequests || w.Header().Get("X-RateLimit-Reset") != strconv.FormatInt(next, 10) {
		t.Fatalf("past the burst: %d, reset %s; want 429 and reset %d", w.Code, w.Header().Get("X-RateLimit-Reset"), next)
	}
	if rl.refused.Load() != 1 {
		t.Errorf("refused %d, want 1", rl.refused.Load())
	}
	time.Sleep(time.Until(time.Unix(next, 0).Add(10 * time.Millisecond)))
	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
		if w := send(); w.Code != want {
			t.Fatalf("after the reset, request %d: %d, want %d (2 tokens added a second)", i+1, w.Code, want)
		}
	}
	if w := httptest.NewRecorder(); func() bool {
		limited, _ := rl.limited(w, httptest.NewRequest(http.MethodPost, "/oauth/token", nil))
		return limited
	}() {
		t.Error("the token endpoint is limited with no Authentication limit set")
	}
}

func TestParseRateLimits(t *testing.T) {
	for in, want := range map[string]RateLimits{
		"off": {}, "default": DefaultRateLimits,
		"2/10":           {Management: RateLimit{Burst: 10, PerSecond: 2}, Authentication: DefaultRateLimits.Authentication},
		"2.5/10,300/300": {Management: RateLimit{Burst: 10, PerSecond: 2.5}, Authentication: RateLimit{Burst: 300, PerSecond: 300}},
	} {
		if got, err := ParseRateLimits(in); err != nil || got != want {
			t.Errorf("ParseRateLimits(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"16", "0/10", "16/0", "a/b", "1/1,1/1,1/1", "-1/5"} {
		if _, err := ParseRateLimits(bad); err == nil {
			t.Errorf("ParseRateLimits(%q) accepted", bad)
		}
	}
}
