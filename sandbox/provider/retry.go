package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Retry rules of the real provider's HTTP client (go-auth0's own retries are turned off).
const (
	maxServerRetries = 3                      // per run of 5xx answers or transport errors
	serverRetryBase  = 200 * time.Millisecond // first backoff; doubles per retry
	defaultRateWait  = time.Second            // when a 429 has no usable X-RateLimit-Reset
	minRateWait      = 50 * time.Millisecond  // so a reset in the past cannot spin
)

// retryStatuses are the server errors worth another try (524 is Cloudflare's origin timeout).
var retryStatuses = []int{
	http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
	http.StatusGatewayTimeout, 524,
}

// retryTransport retries a request on 429 until the rate limit resets, as often as needed,
// and on 5xx answers or transport errors up to maxServerRetries times in a row with a short
// exponential backoff. Each 429 starts a fresh run, as in the real provider's layered transports.
type retryTransport struct {
	base  http.RoundTripper
	sleep func(context.Context, time.Duration) error
	now   func() time.Time
}

func newRetryTransport(base http.RoundTripper) *retryTransport {
	return &retryTransport{base: base, sleep: sleepContext, now: time.Now}
}

// RoundTrip sends req, retrying as the type describes.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	serverRetries := 0
	for attempt := 0; ; attempt++ {
		r, err := rewind(req, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := t.base.RoundTrip(r)
		var wait time.Duration
		switch {
		case !rewindable(req):
			return resp, err
		case err != nil && retryableError(err) && serverRetries < maxServerRetries,
			err == nil && slices.Contains(retryStatuses, resp.StatusCode) && serverRetries < maxServerRetries:
			serverRetries++
			wait = serverRetryBase<<(serverRetries-1) + rand.N(serverRetryBase/2)
			tflog.Warn(ctx, "Auth0 request failed; retrying", map[string]any{
				"method": req.Method, "url": req.URL.String(), "status": statusOf(resp), "error": errText(err),
				"retry": serverRetries, "wait": wait.String(),
			})
		case err == nil && resp.StatusCode == http.StatusTooManyRequests:
			serverRetries = 0
			wait = t.rateLimitWait(resp.Header.Get("X-RateLimit-Reset"))
			tflog.Warn(ctx, "Auth0 rate limit exceeded; retrying after the reset", map[string]any{
				"method": req.Method, "url": req.URL.String(), "wait": wait.String(),
			})
		default:
			return resp, err
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// rateLimitWait is the time until X-RateLimit-Reset (UNIX seconds), or defaultRateWait.
func (t *retryTransport) rateLimitWait(reset string) time.Duration {
	sec, err := strconv.ParseInt(reset, 10, 64)
	if err != nil {
		return defaultRateWait
	}
	return max(time.Unix(sec, 0).Sub(t.now()), minRateWait)
}

// rewindable reports whether req's body can be sent again.
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewind returns req for the first attempt, and a copy with a fresh body for later ones.
func rewind(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 0 || req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

// retryableError reports whether a transport error may pass on another try: not a
// cancelled request and not a certificate the client does not trust.
func retryableError(err error) bool {
	var unknownCA x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.As(err, &unknownCA) && !errors.As(err, &verify)
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sleepContext waits for d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
