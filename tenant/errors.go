package tenant

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/auth0/go-auth0/management"
	"golang.org/x/oauth2"
)

// Errors the caller can test with errors.Is.
var (
	// ErrUnauthorized means the tenant refused rekey's credentials or their scopes (401/403).
	ErrUnauthorized = errors.New("the Auth0 tenant refused access")
	// ErrUnreachable means the tenant could not be reached: DNS, connection or TLS failure.
	ErrUnreachable = errors.New("the Auth0 tenant is unreachable")
)

// requiredScopes are the Management API scopes rekey's reads need.
const requiredScopes = "read:clients read:client_credentials read:client_grants"

// NotFoundError means no client has the id or name asked for.
type NotFoundError struct {
	Query       string
	Suggestions []string // names of clients close to Query
}

// Error says which query matched nothing and which names come close.
func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no client has the id or name %q", e.Query)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + quoteList(e.Suggestions) + "?"
	}
	return msg
}

// AmbiguousError means several clients share the name asked for.
type AmbiguousError struct {
	Name string
	IDs  []string
}

// Error names the clients that share the name.
func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%d clients are named %q (ids %s); name one by its client id", len(e.IDs), e.Name, strings.Join(e.IDs, ", "))
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// kindError carries a full message for the operator and matches its kind (ErrUnauthorized,
// ErrUnreachable) and its cause with errors.Is and errors.As.
type kindError struct {
	kind  error
	msg   string
	cause error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

var insufficientScope = regexp.MustCompile(`expected any of: ([a-z_:, ]+)`)

// classify turns a go-auth0 failure of op into an error the caller can act on: ErrUnauthorized
// for a refused token or scope, ErrUnreachable for a tenant that cannot be reached, else the
// error wrapped with op. Cancellation stays recognisable with errors.Is.
func classify(domain, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var me management.Error
	if errors.As(err, &me) && (me.Status() == http.StatusUnauthorized || me.Status() == http.StatusForbidden) {
		detail := fmt.Sprintf("the Management API refused access (%s)", me.Error())
		if m := insufficientScope.FindStringSubmatch(me.Error()); m != nil {
			detail += fmt.Sprintf("; the token lacks the scope %s", strings.TrimSpace(m[1]))
		}
		return unauthorized(domain, op, detail, err)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && (re.Response.StatusCode == http.StatusUnauthorized || re.Response.StatusCode == http.StatusForbidden) {
		detail := fmt.Sprintf("the token endpoint refused the Management API credentials (%d %s: %s)", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
		return unauthorized(domain, op, detail, err)
	}
	if ue := unreachable(domain, op, err); ue != nil {
		return ue
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unauthorized builds an ErrUnauthorized error that says what to check.
func unauthorized(domain, op, detail string, cause error) error {
	msg := fmt.Sprintf("%s: %s. Check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (or AUTH0_API_TOKEN), and that the client's grant for the Management API (https://%s/api/v2/) has the scopes %s",
		op, detail, domain, requiredScopes)
	return &kindError{kind: ErrUnauthorized, msg: msg, cause: cause}
}

// unreachable returns an ErrUnreachable error when err is a DNS, connection or TLS failure.
func unreachable(domain, op string, err error) error {
	var (
		dnsErr    *net.DNSError
		opErr     *net.OpError
		verifyErr *tls.CertificateVerificationError
		authErr   x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalErr  x509.CertificateInvalidError
		recErr    tls.RecordHeaderError
	)
	var what, cause string
	tlsProblem := false
	switch {
	case errors.As(err, &dnsErr):
		what, cause = "the name does not resolve", dnsErr.Error()
	case errors.As(err, &verifyErr):
		what, cause, tlsProblem = "its TLS certificate is not trusted", verifyErr.Error(), true
	case errors.As(err, &authErr):
		what, cause, tlsProblem = "its TLS certificate is not trusted", authErr.Error(), true
	case errors.As(err, &hostErr):
		what, cause, tlsProblem = "its TLS certificate does not match the name", hostErr.Error(), true
	case errors.As(err, &invalErr):
		what, cause, tlsProblem = "its TLS certificate is invalid", invalErr.Error(), true
	case errors.As(err, &recErr):
		what, cause, tlsProblem = "it does not speak TLS (HTTPS)", recErr.Error(), true
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"): // net/http's text for a tls.RecordHeaderError
		what, cause, tlsProblem = "it does not speak TLS (HTTPS)", "the server answered in plain HTTP", true
	case errors.As(err, &opErr) && opErr.Op == "dial":
		what, cause = "the connection failed", opErr.Error()
	default:
		return nil
	}
	hint := "check AUTH0_DOMAIN and the network; for a tenant behind a private CA (such as the rekey sandbox), set SSL_CERT_FILE to the CA's certificate"
	if tlsProblem {
		hint = "for a tenant behind a private CA (such as the rekey sandbox), set SSL_CERT_FILE to the CA's certificate; else check AUTH0_DOMAIN and the network (a proxy intercepting TLS)"
	}
	msg := fmt.Sprintf("%s: cannot reach the Auth0 tenant at %s: %s (%s); %s", op, domain, what, cause, hint)
	return &kindError{kind: ErrUnreachable, msg: msg, cause: err}
}
