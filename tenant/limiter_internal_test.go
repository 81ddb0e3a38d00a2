package tenant

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestLimiterOrder: when the bucket is empty, requests go after the reset in the order they
// came, the first as the probe that learns the new window; a cancelled request does not hold
// up the ones behind it.
func TestLimiterOrder(t *testing.T) {
	l := &limiter{buckets: map[string]*budget{}}
	now := time.Unix(1_000, 0)
	answer := func(remaining int, reset int64) *http.Response {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{
			"X-Ratelimit-Remaining": {strconv.Itoa(remaining)}, "X-Ratelimit-Reset": {strconv.FormatInt(reset, 10)}}}
	}
	first := l.ticket("management")
	if _, ok := l.tryAcquire("management", first, now); !ok {
		t.Fatal("the first request waits with nothing known")
	}
	l.observe("management", answer(0, 1_001)) // the bucket is empty until 1001
	a, b, c := l.ticket("management"), l.ticket("management"), l.ticket("management")
	if wait, ok := l.tryAcquire("management", a, now); ok || wait < time.Second {
		t.Fatalf("a went (%v) or waits %v before the reset", ok, wait)
	}
	l.abandon("management", a) // a is cancelled while waiting
	after := now.Add(time.Second)
	if _, ok := l.tryAcquire("management", c, after); ok {
		t.Fatal("c went before b")
	}
	if _, ok := l.tryAcquire("management", b, after); !ok {
		t.Fatal("b, first in line after the cancelled a, does not go after the reset")
	}
	if _, ok := l.tryAcquire("management", c, after); ok {
		t.Fatal("c went while b's probe learns the new window")
	}
	l.observe("management", answer(5, 1_002))
	if _, ok := l.tryAcquire("management", c, after); !ok {
		t.Fatal("c waits though the new window has room")
	}
}
