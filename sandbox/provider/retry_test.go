package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted is a RoundTripper that answers with one scripted status (or error) per request
// and records each request's body.
type scripted struct {
	mu      sync.Mutex
	replies []any // int status, or error
	bodies  []string
	headers http.Header
}

func (s *scripted) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := ""
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		body = string(b)
	}
	s.bodies = append(s.bodies, body)
	if len(s.replies) == 0 {
		return nil, errors.New("script exhausted")
	}
	reply := s.replies[0]
	s.replies = s.replies[1:]
	if err, ok := reply.(error); ok {
		return nil, err
	}
	status := reply.(int)
	h := http.Header{}
	for k, v := range s.headers {
		h[k] = v
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

// fakeClock records the waits a transport asks for instead of sleeping.
type fakeClock struct {
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return nil
}

func newScriptedTransport(s *scripted) (*retryTransport, *fakeClock) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	return &retryTransport{base: s, sleep: clock.sleep, now: func() time.Time { return clock.now }}, clock
}

func TestRetryTransport(t *testing.T) {
	unavailable := http.StatusServiceUnavailable
	tests := []struct {
		name       string
		replies    []any
		reset      string
		wantStatus int
		wantErr    bool
		wantWaits  []time.Duration // exact for 429; for 5xx the lower bound of base<<n plus jitter
	}{
		{name: "success", replies: []any{200}, wantStatus: 200},
		{name: "client error is final", replies: []any{400, 200}, wantStatus: 400},
		{name: "429 waits until X-RateLimit-Reset", replies: []any{429, 429, 200}, reset: "1800000003", wantStatus: 200,
			wantWaits: []time.Duration{3 * time.Second, 50 * time.Millisecond}},
		{name: "429 without reset waits a second", replies: []any{429, 200}, wantStatus: 200, wantWaits: []time.Duration{time.Second}},
		{name: "three 5xx retries", replies: []any{500, 502, unavailable, 200}, wantStatus: 200,
			wantWaits: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}},
		{name: "fourth 5xx is returned", replies: []any{unavailable, unavailable, unavailable, unavailable, 200}, wantStatus: unavailable,
			wantWaits: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}},
		{name: "429 starts a fresh run of 5xx retries", replies: []any{unavailable, 429, 504, 504, 504, 200}, wantStatus: 200,
			wantWaits: []time.Duration{200 * time.Millisecond, time.Second, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}},
		{name: "transport errors are retried", replies: []any{io.ErrUnexpectedEOF, 200}, wantStatus: 200,
			wantWaits: []time.Duration{200 * time.Millisecond}},
		{name: "cancellation is not retried", replies: []any{context.Canceled, 200}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scripted{replies: tt.replies, headers: http.Header{}}
			if tt.reset != "" {
				s.headers.Set("X-RateLimit-Reset", tt.reset)
			}
			rt, clock := newScriptedTransport(s)
			req, _ := http.NewRequest("POST", "https://tenant.example/api/v2/clients", strings.NewReader(`{"name":"x"}`))
			resp, err := rt.RoundTrip(req)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("RoundTrip succeeded with %d, want an error", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if len(clock.waits) != len(tt.wantWaits) {
				t.Fatalf("waits = %v, want %d waits like %v", clock.waits, len(tt.wantWaits), tt.wantWaits)
			}
			for i, w := range tt.wantWaits {
				if got := clock.waits[i]; got < w || got > w+serverRetryBase/2 {
					t.Errorf("wait %d = %v, want %v (plus at most %v of jitter)", i, got, w, serverRetryBase/2)
				}
			}
			for i, b := range s.bodies {
				if b != `{"name":"x"}` {
					t.Errorf("attempt %d sent body %q, want the original body", i+1, b)
				}
			}
		})
	}
}

// TestManagementRetriesTokenAndAPI checks that the token request and the API calls both go
// through the retrying transport.
func TestManagementRetriesTokenAndAPI(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		n := hits[r.URL.Path]
		mu.Unlock()
		switch {
		case r.URL.Path == "/oauth/token" && n == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/oauth/token":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"tok","token_type":"Bearer","expires_in":86400}`)
		case r.Header.Get("Authorization") != "Bearer tok":
			w.WriteHeader(http.StatusUnauthorized)
		case n == 1:
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Unix(), 10))
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			fmt.Fprint(w, `{"client_id":"abc","name":"app"}`)
		}
	}))
	defer srv.Close()
	rt, _ := newScriptedTransport(nil)
	rt.base = srv.Client().Transport
	api, err := newManagement(settings{domain: strings.TrimPrefix(srv.URL, "https://"), clientID: "id", clientSecret: "secret"}, rt)
	if err != nil {
		t.Fatal(err)
	}
	c, err := api.Client.Read(context.Background(), "abc")
	if err != nil {
		t.Fatalf("read client: %v", err)
	}
	if c.GetName() != "app" || hits["/oauth/token"] != 2 || hits["/api/v2/clients/abc"] != 2 {
		t.Errorf("client %q after hits %v, want app after 2 token and 2 API requests", c.GetName(), hits)
	}
}
