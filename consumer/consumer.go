// Package consumer is the token source of a service that authenticates to Auth0 with Private
// Key JWT: it signs client assertions with the credentials its system config lists (see
// package sysconfig), trying them in order, so that a zero-downtime rotation can add, promote
// and remove keys in that file while the service keeps getting tokens.
//
// Key material and tokens are never logged or put in error messages.
package consumer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/auth0/go-auth0/authentication"
	"github.com/auth0/go-auth0/authentication/oauth"

	"rekey/keys"
	"rekey/sysconfig"
)

// Config says where a TokenSource finds its credentials and which tokens it asks for.
type Config struct {
	SystemConfig string       // path to the system config file
	Domain       string       // AUTH0_DOMAIN (host[:port])
	ClientID     string       // the client the credentials belong to
	Audience     string       // the API the tokens are for
	HTTPClient   *http.Client // e.g. trusting the sandbox CA; nil = http.DefaultClient; never modified
}

// Token is an access token and the credential that obtained it.
type Token struct {
	AccessToken string
	ExpiresIn   int64  // seconds
	KID         string // the credential that was accepted
	Fallback    bool   // the accepted credential is not the first one listed
}

// Retries of one credential after a 429, a 5xx or a transport error, each with a fresh
// assertion; the delay doubles from retryDelay.
const (
	maxRetries = 2
	retryDelay = 100 * time.Millisecond
)

// TokenSource gets tokens with the credentials of a system config; safe for concurrent use.
type TokenSource struct {
	cfg Config

	mu      sync.Mutex
	file    *sysconfig.File // the last system config that loaded
	stat    os.FileInfo     // of that file, to notice edits
	clients map[clientKey]*authentication.Authentication
}

// clientKey identifies a cached authentication client: one per credential and key file.
type clientKey struct{ kid, alg, keyPath string }

// credential is one entry of the system config with its key file resolved.
type credential struct {
	clientKey
	fallback bool
}

// New checks cfg and loads its system config.
func New(cfg Config) (*TokenSource, error) {
	for _, f := range []struct{ name, value string }{
		{"SystemConfig", cfg.SystemConfig}, {"Domain", cfg.Domain}, {"ClientID", cfg.ClientID}, {"Audience", cfg.Audience},
	} {
		if f.value == "" {
			return nil, fmt.Errorf("consumer: Config.%s is empty", f.name)
		}
	}
	s := &TokenSource{cfg: cfg, clients: map[clientKey]*authentication.Authentication{}}
	info, err := os.Stat(cfg.SystemConfig)
	if err == nil {
		err = s.load(info)
	}
	if err != nil {
		return nil, fmt.Errorf("consumer: system config: %w", err)
	}
	return s, nil
}

// load reads the system config, whose file information (taken before reading it, so that no
// later edit goes unnoticed) is info; called with s.mu held or before s is shared.
func (s *TokenSource) load(info os.FileInfo) error {
	f, err := sysconfig.Load(s.cfg.SystemConfig)
	if err != nil {
		return err
	}
	s.file, s.stat = f, info
	s.pruneClients()
	return nil
}

// credentials returns the credentials to try, in order, after reloading the system config
// if its modification time, size or identity changed. While the file cannot be reloaded the
// last good list is used, and the reason is returned as a note for error messages.
func (s *TokenSource) credentials() ([]credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, note := os.Stat(s.cfg.SystemConfig)
	if note == nil && changed(s.stat, info) {
		note = s.load(info) // on failure s.stat stays, so the next call tries again
	}
	entries := s.file.Entries()
	out := make([]credential, len(entries))
	for i, e := range entries {
		out[i] = credential{clientKey{e.KID, e.Alg, s.file.KeyPath(e)}, i > 0}
	}
	return out, note
}

func changed(old, cur os.FileInfo) bool {
	return !os.SameFile(old, cur) || !old.ModTime().Equal(cur.ModTime()) || old.Size() != cur.Size()
}

// pruneClients drops cached clients of credentials the system config no longer lists.
func (s *TokenSource) pruneClients() {
	listed := map[clientKey]bool{}
	for _, e := range s.file.Entries() {
		listed[clientKey{e.KID, e.Alg, s.file.KeyPath(e)}] = true
	}
	for k := range s.clients {
		if !listed[k] {
			delete(s.clients, k)
		}
	}
}

// client returns the cached authentication client of c, making it from c's key file if needed.
// The kid is the key's thumbprint, so a cached key stays right for as long as its kid is listed.
func (s *TokenSource) client(ctx context.Context, c credential) (*authentication.Authentication, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.clients[c.clientKey]; ok {
		return a, nil
	}
	pem, err := readKey(c.keyPath)
	if err != nil {
		return nil, err
	}
	opts := []authentication.Option{
		authentication.WithClientID(s.cfg.ClientID),
		authentication.WithClientAssertion(pem, c.alg),
		// Client credentials responses carry no ID token, so no ID token is ever validated.
		// With the default RS256, New would fetch the tenant's JWKS and start a JWKS cache
		// goroutine per client; HS256 needs neither.
		authentication.WithIDTokenSigningAlg("HS256"),
		// Token retries itself, with a fresh assertion each time: re-sending one (as the SDK's
		// retries do) may be rejected as a replayed jti.
		authentication.WithNoRetries(),
		authentication.WithClient(s.httpClient()),
	}
	a, err := authentication.New(ctx, s.cfg.Domain, opts...)
	if err != nil {
		return nil, fmt.Errorf("set up the Auth0 client: %w", err)
	}
	s.clients[c.clientKey] = a
	return a, nil
}

// httpClient returns a shallow copy of the configured HTTP client (or of http.DefaultClient).
// go-auth0 wraps the transport of the client it is given in place, so without a copy every new
// authentication client would wrap the caller's client (or the process-wide default) once more.
// The copy shares the transport, and with it the connection pool.
func (s *TokenSource) httpClient() *http.Client {
	base := http.DefaultClient
	if s.cfg.HTTPClient != nil {
		base = s.cfg.HTTPClient
	}
	c := *base
	return &c
}

// keyError reports a key file that cannot be read or parsed: its credential is skipped.
type keyError struct{ err error }

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// readKey reads a private key file and checks that it holds an RSA private key.
func readKey(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", &keyError{fmt.Errorf("read key file: %w", err)}
	}
	if _, err := keys.ParsePrivateKey(data); err != nil {
		return "", &keyError{fmt.Errorf("key file %s: %w", path, err)}
	}
	return string(data), nil
}

// Token gets an access token with the first listed credential that Auth0 accepts.
func (s *TokenSource) Token(ctx context.Context) (Token, error) {
	// A credential is skipped when Auth0 answers 401 (invalid_client) or its key file is
	// unusable; any other failure (403, 5xx or a transport error after retries, …) is returned
	// at once, naming the credential.
	creds, note := s.credentials()
	var earlier strings.Builder // the rejections before the last one
	var last error
	for i, c := range creds {
		ts, err := s.exchange(ctx, c)
		if err == nil {
			return Token{AccessToken: ts.AccessToken, ExpiresIn: ts.ExpiresIn, KID: c.kid, Fallback: c.fallback}, nil
		}
		if !isRejection(err) {
			return Token{}, fmt.Errorf("consumer: token request with kid %s%s: %w", c.kid, noteText(note), err)
		}
		if last != nil {
			fmt.Fprintf(&earlier, "kid %s: %v; ", creds[i-1].kid, last)
		}
		last = err
	}
	return Token{}, fmt.Errorf("consumer: no credential of %s was accepted%s; tried %skid %s: %w",
		s.cfg.SystemConfig, noteText(note), earlier.String(), creds[len(creds)-1].kid, last)
}

func noteText(note error) string {
	if note == nil {
		return ""
	}
	return fmt.Sprintf(" [note: the system config could not be reloaded, the previous list was used: %v]", note)
}

// exchange runs the client credentials grant with c, retrying transient failures.
func (s *TokenSource) exchange(ctx context.Context, c credential) (*oauth.TokenSet, error) {
	a, err := s.client(ctx, c)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		ts, err := a.OAuth.LoginWithClientCredentials(ctx,
			oauth.LoginWithClientCredentialsRequest{Audience: s.cfg.Audience}, oauth.IDTokenValidationOptions{})
		if err == nil {
			return ts, nil
		}
		if attempt == maxRetries || !isTransient(err) || ctx.Err() != nil {
			return nil, err
		}
		if err := sleep(ctx, retryDelay<<attempt); err != nil {
			return nil, err
		}
	}
}

// isRejection reports whether the next credential should be tried after err.
func isRejection(err error) bool {
	var ke *keyError
	var ae *authentication.Error
	return errors.As(err, &ke) || errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized
}

// isTransient reports whether the same credential may succeed if tried again.
func isTransient(err error) bool {
	var ae *authentication.Error
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode >= http.StatusInternalServerError
	}
	var cv *tls.CertificateVerificationError
	return !errors.As(err, &cv) // transport errors, except an untrusted server
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
