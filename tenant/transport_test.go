package tenant

// Unit tests of the retrying transport, the error classification and the name suggestions,
// against httptest servers and synthetic errors.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// script serves the given statuses in order (then 200), with headers per status index.
type script struct {
	mu       sync.Mutex
	statuses []int
	headers  []http.Header
	bodies   []string
	n        int
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := s.n
	s.n++
	s.bodies = append(s.bodies, string(body))
	s.mu.Unlock()
	status := http.StatusOK
	if i < len(s.statuses) {
		status = s.statuses[i]
		if i < len(s.headers) {
			for k, v := range s.headers[i] {
				w.Header()[k] = v
			}
		}
	}
	w.WriteHeader(status)
	io.WriteString(w, `{}`)
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// fakeTransport returns a transport (of a tenant of its own) whose clock stands at now and
// whose sleeps are recorded.
func fakeTransport(now time.Time) (*transport, *[]time.Duration) {
	var waits []time.Duration
	rt := newTransport(nil, "fake-"+strconv.FormatInt(time.Now().UnixNano(), 10))
	rt.now = func() time.Time { return now }
	rt.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return rt, &waits
}

func repeat(status, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = status
	}
	return out
}

func TestTransportRateLimit(t *testing.T) {
	now := time.Unix(1_000_000, 300*int64(time.Millisecond))
	for _, tc := range []struct {
		name     string
		header   http.Header
		min, max time.Duration
	}{
		{"X-RateLimit-Reset", http.Header{"X-Ratelimit-Reset": {"1000002"}}, 1700 * time.Millisecond, 1800 * time.Millisecond},
		{"reset already past", http.Header{"X-Ratelimit-Reset": {"999999"}}, minRateWait, minRateWait + 100*time.Millisecond},
		{"reset far away", http.Header{"X-Ratelimit-Reset": {"1000900"}}, maxRateWait, maxRateWait},
		{"Retry-After seconds", http.Header{"Retry-After": {"3"}}, 3 * time.Second, 3100 * time.Millisecond},
		{"Retry-After date", http.Header{"Retry-After": {now.Add(4 * time.Second).UTC().Format(http.TimeFormat)}}, 3700 * time.Millisecond, 3800 * time.Millisecond},
		{"no header", nil, time.Second, 1100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{statuses: []int{429}, headers: []http.Header{tc.header}}
			srv := httptest.NewServer(s)
			defer srv.Close()
			rt, waits := fakeTransport(now)
			resp, err := (&http.Client{Transport: rt}).Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || s.count() != 2 {
				t.Fatalf("status %d after %d requests, want 200 after 2", resp.StatusCode, s.count())
			}
			if len(*waits) != 1 || (*waits)[0] < tc.min || (*waits)[0] > tc.max {
				t.Errorf("waits = %v, want one in [%v, %v]", *waits, tc.min, tc.max)
			}
		})
	}
}

func TestTransportBounded(t *testing.T) {
	s := &script{statuses: repeat(429, 50)}
	srv := httptest.NewServer(s)
	defer srv.Close()
	rt, waits := fakeTransport(time.Now())
	resp, err := (&http.Client{Transport: rt}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || s.count() != max429Retries+1 || len(*waits) != max429Retries {
		t.Errorf("status %d after %d requests and %d waits; want 429 after %d", resp.StatusCode, s.count(), len(*waits), max429Retries+1)
	}
}

func TestTransportReplaysBody(t *testing.T) {
	s := &script{statuses: []int{429, 429}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	rt, _ := fakeTransport(time.Now())
	resp, err := (&http.Client{Transport: rt}).Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(s.bodies) != 3 {
		t.Fatalf("status %d after %d requests", resp.StatusCode, len(s.bodies))
	}
	for i, b := range s.bodies {
		if b != "grant_type=client_credentials" {
			t.Errorf("request %d body = %q", i, b)
		}
	}
}

func TestTransportOtherStatuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		method   string
		statuses []int
		want     int // requests sent
		status   int // final status
	}{
		{"503 GET retried", http.MethodGet, []int{503, 502}, 3, 200},
		{"503 GET bounded", http.MethodGet, repeat(503, 10), max5xxRetries + 1, 503},
		{"503 POST not retried", http.MethodPost, []int{503}, 1, 503},
		{"401 not retried", http.MethodGet, []int{401}, 1, 401},
		{"404 not retried", http.MethodGet, []int{404}, 1, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{statuses: tc.statuses}
			srv := httptest.NewServer(s)
			defer srv.Close()
			rt, _ := fakeTransport(time.Now())
			req, _ := http.NewRequest(tc.method, srv.URL, strings.NewReader("x"))
			resp, err := (&http.Client{Transport: rt}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || s.count() != tc.want {
				t.Errorf("status %d after %d requests, want %d after %d", resp.StatusCode, s.count(), tc.status, tc.want)
			}
		})
	}
}

func TestTransportCancelWhileWaiting(t *testing.T) {
	s := &script{statuses: []int{429}, headers: []http.Header{{"Retry-After": {"30"}}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	rt := newTransport(nil, t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err := (&http.Client{Transport: rt}).Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the context's deadline", err)
	}
}

func TestTransportScopes(t *testing.T) {
	srv := httptest.NewServer(&script{})
	defer srv.Close()
	rt := newTransport(nil, t.Name())
	if _, known := rt.tokenScopes(); known {
		t.Fatal("scopes known before any request")
	}
	get := func(auth string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", auth)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get("Bearer opaque-token")
	if _, known := rt.tokenScopes(); known {
		t.Fatal("scopes taken from an opaque token")
	}
	// {"scope":"read:clients read:client_grants"}
	get("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6InJlYWQ6Y2xpZW50cyByZWFkOmNsaWVudF9ncmFudHMifQ.c2ln")
	scopes, known := rt.tokenScopes()
	if !known || strings.Join(scopes, " ") != "read:clients read:client_grants" {
		t.Errorf("scopes = %v %v", scopes, known)
	}
}

func TestClassify(t *testing.T) {
	dns := &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}
	err := classify("nope.invalid", "list clients", dns)
	if !errors.Is(err, ErrUnreachable) || !errors.As(err, new(*net.DNSError)) {
		t.Fatalf("DNS error classified as %v", err)
	}
	for _, p := range []string{"nope.invalid", "does not resolve", "AUTH0_DOMAIN", "network", "SSL_CERT_FILE"} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%q does not mention %q", err, p)
		}
	}
	other := errors.New("boom")
	if err := classify("d", "op", other); errors.Is(err, ErrUnreachable) || errors.Is(err, ErrUnauthorized) || !errors.Is(err, other) {
		t.Errorf("plain error classified as %v", err)
	}
	if err := classify("d", "op", context.Canceled); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Errorf("cancellation classified as %v", err)
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"billing-worker", "Billing-Worker-2", "reporting-cron", "inventory-sync", "payments-gateway", "billing"}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"biling-worker", []string{"billing-worker", "Billing-Worker-2"}},
		{"BILLING-WORKER", []string{"billing-worker", "Billing-Worker-2", "billing"}},
		{"billing", []string{"billing", "billing-worker", "Billing-Worker-2"}},
		{"inventory", []string{"inventory-sync"}},
		{"x", nil},
		{"", nil},
	} {
		got := suggest(tc.query, names)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("suggest(%q) = %v, want %v", tc.query, got, tc.want)
		}
	}
}
