package tenant

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/auth0/go-auth0/authentication"
	"github.com/auth0/go-auth0/authentication/oauth"

	"rekey/keys"
)

var errNotJWT = errors.New("not a JWT")

// credentialAlgs are the algorithms of Auth0 Private Key JWT credentials.
var credentialAlgs = []string{"RS256", "RS384", "PS256"}

// CheckResult is the outcome of one token exchange with a private key.
type CheckResult struct {
	OK          bool
	Latency     time.Duration  // time of the token request alone
	Status      int            // HTTP status of a failure (0 on transport error)
	Code        string         // e.g. "invalid_client"
	Description string         // the tenant's error_description
	Claims      map[string]any // decoded access-token claims on success (iss, sub, aud, exp, scope, gty, azp…) — NEVER the token itself
	Err         error          // on failure
}

// CheckKey runs a client_credentials grant for audience, authenticated by a private_key_jwt
// client assertion that key signs with alg (RS256 when empty).
func CheckKey(ctx context.Context, cfg Config, clientID string, key *rsa.PrivateKey, alg, audience string) CheckResult {
	domain := cfg.host()
	fail := func(err error) CheckResult { return CheckResult{Err: err} }
	switch {
	case domain == "":
		return fail(errors.New("token check: AUTH0_DOMAIN is not set"))
	case checkHost(domain) != nil:
		return fail(fmt.Errorf("token check: %w", checkHost(domain)))
	case clientID == "":
		return fail(errors.New("token check: no client id"))
	case key == nil:
		return fail(errors.New("token check: no private key"))
	case audience == "":
		return fail(errors.New("token check: no audience (the identifier of an API the client has a grant for)"))
	}
	if alg == "" {
		alg = "RS256"
	}
	if !slices.Contains(credentialAlgs, alg) {
		return fail(fmt.Errorf("token check: algorithm %q: Auth0 verifies client assertions with RS256, RS384 or PS256 only", alg))
	}
	op := fmt.Sprintf("token check for client %s", clientID)
	pemBytes, err := keys.PrivatePEM(key)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", op, err))
	}
	pemText := string(pemBytes)
	clear(pemBytes)
	// authentication.New wraps the transport of the client it is given in place; a copy keeps
	// the caller's client from growing a wrapper per check (and from a data race).
	httpClient := &http.Client{}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		httpClient = &copied
	}
	httpClient.Transport = newTransport(httpClient.Transport, domain)
	auth, err := authentication.New(ctx, domain,
		authentication.WithClientID(clientID),
		authentication.WithClientAssertion(pemText, alg),
		authentication.WithClient(httpClient),
		authentication.WithNoRetries(),
		// The ID-token validator would fetch the JWKS at construction for RS256; with HS256 it
		// makes no request, and a client_credentials grant returns no ID token to validate.
		authentication.WithIDTokenSigningAlg("HS256"),
	)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", op, err))
	}
	start := time.Now()
	tokens, err := auth.OAuth.LoginWithClientCredentials(ctx, oauth.LoginWithClientCredentialsRequest{Audience: audience}, oauth.IDTokenValidationOptions{})
	res := CheckResult{Latency: time.Since(start)}
	if err != nil {
		var ae *authentication.Error
		if errors.As(err, &ae) {
			res.Status, res.Code, res.Description = ae.StatusCode, ae.Err, ae.Message
			res.Err = fmt.Errorf("%s: the tenant refused the token request: %w", op, err)
			return res
		}
		if ue := unreachable(domain, op, err); ue != nil {
			res.Err = ue
		} else {
			res.Err = fmt.Errorf("%s: %w", op, err)
		}
		return res
	}
	if tokens == nil || tokens.AccessToken == "" {
		res.Err = fmt.Errorf("%s: the tenant answered without an access token", op)
		return res
	}
	claims, err := jwtClaims(tokens.AccessToken)
	if err != nil {
		// An opaque token still proves the key works; there are just no claims to show.
		claims = nil
	}
	res.OK, res.Claims = true, claims
	return res
}
