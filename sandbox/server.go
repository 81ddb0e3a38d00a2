package sandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Options configure a sandbox server.
type Options struct {
	Listen string // host:port; port 0 picks a free one. Default 127.0.0.1:0.
	Tenant *Tenant
	Faults []Fault
	// RateLimits are the tenant's rate limits; the zero value serves without any.
	RateLimits RateLimits
}

// Server is a running sandbox tenant on HTTPS.
type Server struct {
	tenant    *Tenant
	domain    string
	certs     *certificates
	auth      *authority
	faults    *faultInjector
	limits    *rateLimiter
	http      *http.Server
	done      chan error
	transport *http.Transport // trusts the CA; shared by the clients HTTPClient returns
	observer  atomic.Pointer[func(*http.Request)]
}

// Start listens on opts.Listen and serves the tenant until Close.
func Start(opts Options) (*Server, error) {
	if opts.Tenant == nil {
		return nil, errors.New("sandbox: Start needs a tenant")
	}
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	certs, err := newCertificates()
	if err != nil {
		return nil, fmt.Errorf("sandbox: make certificates: %w", err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w (choose another address with --listen, or 127.0.0.1:0 for a free port)", listen, err)
	}
	host, _, _ := net.SplitHostPort(listen)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s := &Server{tenant: opts.Tenant, domain: net.JoinHostPort(host, port), certs: certs, faults: &faultInjector{}, limits: newRateLimiter(opts.RateLimits), done: make(chan error, 1)}
	s.faults.set(opts.Faults)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certs.caPEM)
	s.transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}
	if s.auth, err = newAuthority(opts.Tenant, s.domain); err != nil {
		ln.Close()
		return nil, err
	}
	s.auth.tenant.AddAPI(s.auth.mgmtAPI, "Auth0 Management API")
	s.http = &http.Server{
		Handler:           s.observed(s.faults.wrap(s.routes(), s.limits)),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{certs.server}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // a client that distrusts the CA is its own error, not the tenant's
	}
	go func() { s.done <- s.http.ServeTLS(ln, "", "") }()
	return s, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", s.auth.handleToken)
	mux.HandleFunc("GET /.well-known/jwks.json", s.auth.handleJWKS)
	(&managementAPI{tenant: s.tenant, auth: s.auth}).routes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, &APIError{Status: http.StatusNotFound, Message: fmt.Sprintf("The sandbox does not serve %s %s.", r.Method, r.URL.Path)})
	})
	return mux
}

// RateLimited is how many requests the rate limits have refused (429) so far; injected faults
// do not count.
func (s *Server) RateLimited() int64 { return s.limits.refused.Load() }

// Domain is the tenant's host:port, the value of AUTH0_DOMAIN.
func (s *Server) Domain() string { return s.domain }

// ManagementAudience is the Management API's identifier, https://DOMAIN/api/v2/.
func (s *Server) ManagementAudience() string { return s.auth.mgmtAPI }

// Tenant is the state the server serves.
func (s *Server) Tenant() *Tenant { return s.tenant }

// CAPEM is the certificate of the CA that signed the server's certificate.
func (s *Server) CAPEM() []byte { return s.certs.caPEM }

// HTTPClient returns a client that trusts the sandbox's CA. Its connections are closed with
// the server.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: s.transport}
}

// Observe calls fn with every request the server receives, before faults apply and before it
// is served; nil stops it. fn runs on the request's goroutine, so while it runs the request
// waits: a test cuts a rotation short at an exact Management API call with it.
func (s *Server) Observe(fn func(*http.Request)) {
	if fn == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&fn)
}

func (s *Server) observed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fn := s.observer.Load(); fn != nil {
			(*fn)(r)
		}
		next.ServeHTTP(w, r)
	})
}

// SetFaults replaces the fault injection rules.
func (s *Server) SetFaults(faults []Fault) { s.faults.set(faults) }

// Close stops accepting requests and waits up to five seconds for those in flight.
func (s *Server) Close() error {
	s.transport.CloseIdleConnections() // else HTTP/2's graceful shutdown waits a second for them
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func writeAPIError(w http.ResponseWriter, err error) {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		apiErr = &APIError{Status: http.StatusInternalServerError, Message: err.Error()}
	}
	writeJSON(w, apiErr.Status, apiErr.envelope())
}

func writeOAuthError(w http.ResponseWriter, err error) {
	var oe *oauthError
	if !errors.As(err, &oe) {
		oe = &oauthError{Status: http.StatusInternalServerError, Code: "server_error", Description: err.Error()}
	}
	writeJSON(w, oe.Status, oe)
}
