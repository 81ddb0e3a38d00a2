package sandbox

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"rekey/keys"
)

// Limits of a client assertion, from Auth0's Private Key JWT documentation.
const (
	assertionType        = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	maxAssertionBytes    = 2048
	maxAssertionLifetime = 5 * time.Minute
	clockSkew            = 10 * time.Second
	maxClaimLength       = 64
	accessTokenLifetime  = 86400 // seconds, Auth0's default for an API
)

// authority is the tenant's Authentication API: it verifies client assertions and secrets and
// issues RS256 access tokens that /.well-known/jwks.json lets anyone verify.
type authority struct {
	tenant      *Tenant
	domain      string // host:port
	issuer      string // https://domain/
	mgmtAPI     string // https://domain/api/v2/
	signingKey  *rsa.PrivateKey
	signingKID  string
	jwks        []byte
	jtis        jtiCache
	tokens      tokenCache
	assertAuds  []string
	signMethods map[string]jwt.SigningMethod
}

func newAuthority(t *Tenant, domain string) (*authority, error) {
	key, err := keys.Generate(keys.MinBits)
	if err != nil {
		return nil, err
	}
	a := &authority{
		tenant: t, domain: domain, issuer: "https://" + domain + "/", mgmtAPI: "https://" + domain + "/api/v2/",
		signingKey: key, signingKID: keys.Thumbprint(&key.PublicKey),
		jtis: jtiCache{seen: map[string]time.Time{}},
		signMethods: map[string]jwt.SigningMethod{
			"RS256": jwt.SigningMethodRS256, "RS384": jwt.SigningMethodRS384, "PS256": jwt.SigningMethodPS256,
		},
	}
	a.assertAuds = []string{a.issuer, a.issuer + "oauth/token"}
	a.jwks, err = json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": a.signingKID,
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	return a, err
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// tokenRequest is the subset of /oauth/token parameters the client credentials grant uses.
type tokenRequest struct {
	GrantType           string `json:"grant_type"`
	ClientID            string `json:"client_id"`
	ClientSecret        string `json:"client_secret"`
	ClientAssertion     string `json:"client_assertion"`
	ClientAssertionType string `json:"client_assertion_type"`
	Audience            string `json:"audience"`
}

// tokenResponse keeps the field order Auth0 sends.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope,omitempty"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

func (a *authority) handleToken(w http.ResponseWriter, r *http.Request) {
	req, err := readTokenRequest(r)
	if err != nil {
		writeOAuthError(w, err)
		return
	}
	resp, err := a.exchange(req)
	if err != nil {
		writeOAuthError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func readTokenRequest(r *http.Request) (tokenRequest, error) {
	var req tokenRequest
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10)).Decode(&req); err != nil {
			return req, &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "The request body is not valid JSON."}
		}
		return req, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return req, &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "The request body could not be parsed as a form."}
	}
	req = tokenRequest{
		GrantType: r.PostForm.Get("grant_type"), ClientID: r.PostForm.Get("client_id"),
		ClientSecret: r.PostForm.Get("client_secret"), ClientAssertion: r.PostForm.Get("client_assertion"),
		ClientAssertionType: r.PostForm.Get("client_assertion_type"), Audience: r.PostForm.Get("audience"),
	}
	if id, secret, ok := r.BasicAuth(); ok && req.ClientSecret == "" {
		req.ClientID, req.ClientSecret = id, secret
	}
	return req, nil
}

// exchange runs the client credentials grant: authenticate the client, then check the audience
// and the client's grant for it, then issue a token.
func (a *authority) exchange(req tokenRequest) (tokenResponse, error) {
	if req.GrantType != "client_credentials" {
		return tokenResponse{}, &oauthError{Status: http.StatusForbidden, Code: "unsupported_grant_type", Description: fmt.Sprintf("Unsupported grant type: %s", req.GrantType)}
	}
	client, err := a.authenticate(req)
	if err != nil {
		return tokenResponse{}, err
	}
	if !slices.Contains(client.GrantTypes, "client_credentials") {
		return tokenResponse{}, &oauthError{Status: http.StatusForbidden, Code: "unauthorized_client", Description: "Grant type 'client_credentials' not allowed for the client."}
	}
	if req.Audience == "" {
		return tokenResponse{}, &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "Missing required parameter: audience"}
	}
	if !a.tenant.hasAPI(req.Audience) {
		return tokenResponse{}, &oauthError{Status: http.StatusForbidden, Code: "access_denied", Description: fmt.Sprintf("Service not enabled within domain: %s", req.Audience)}
	}
	grants := slices.DeleteFunc(a.tenant.Grants(client.ID, req.Audience), func(g ClientGrant) bool { return g.subjectType() != "client" })
	if len(grants) == 0 {
		return tokenResponse{}, &oauthError{Status: http.StatusForbidden, Code: "access_denied", Description: fmt.Sprintf("Client \"%s\" is not authorized to access resource server \"%s\". You need to create a \"client-grant\" associated to this API.", client.ID, req.Audience)}
	}
	scope := strings.Join(grants[0].Scope, " ")
	token, err := a.accessToken(client.ID, req.Audience, scope)
	if err != nil {
		return tokenResponse{}, &oauthError{Status: http.StatusInternalServerError, Code: "server_error", Description: err.Error()}
	}
	return tokenResponse{AccessToken: token, Scope: scope, ExpiresIn: accessTokenLifetime, TokenType: "Bearer"}, nil
}

// authenticate identifies the client by its assertion or, failing that, its secret.
func (a *authority) authenticate(req tokenRequest) (Client, error) {
	if req.ClientAssertion != "" || req.ClientAssertionType != "" {
		return a.verifyAssertion(req)
	}
	if req.ClientID == "" {
		return Client{}, &oauthError{Status: http.StatusUnauthorized, Code: "access_denied", Description: "Unauthorized"}
	}
	client, err := a.tenant.Client(req.ClientID)
	if err != nil || client.Secret != req.ClientSecret {
		return Client{}, &oauthError{Status: http.StatusUnauthorized, Code: "access_denied", Description: "Unauthorized"}
	}
	if client.PrivateKeyJWT != nil {
		return Client{}, invalidClient("The client authenticates with private_key_jwt; a client secret is not accepted.")
	}
	return client, nil
}

// verifyAssertion checks a private_key_jwt client assertion by every rule Auth0 documents.
func (a *authority) verifyAssertion(req tokenRequest) (Client, error) {
	if req.ClientAssertionType != assertionType {
		return Client{}, &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: fmt.Sprintf("client_assertion_type must be %s", assertionType)}
	}
	if len(req.ClientAssertion) > maxAssertionBytes {
		return Client{}, invalidClient("The client assertion is %d bytes; at most %d are allowed.", len(req.ClientAssertion), maxAssertionBytes)
	}
	var claims jwt.RegisteredClaims
	token, parts, err := jwt.NewParser().ParseUnverified(req.ClientAssertion, &claims)
	if err != nil {
		return Client{}, invalidClient("The client assertion is not a valid JWT: %v", err)
	}
	alg, _ := token.Header["alg"].(string)
	method, ok := a.signMethods[alg]
	if !ok {
		return Client{}, invalidClient("Algorithm %q is not supported for client assertions; use RS256, RS384 or PS256.", alg)
	}
	if claims.Issuer == "" || claims.Issuer != claims.Subject {
		return Client{}, invalidClient("The assertion's iss and sub must both be the client_id.")
	}
	if len(claims.Issuer) > maxClaimLength || len(claims.ID) > maxClaimLength {
		return Client{}, invalidClient("iss, sub and jti may be at most %d characters.", maxClaimLength)
	}
	if req.ClientID != "" && req.ClientID != claims.Issuer {
		return Client{}, invalidClient("client_id does not match the assertion's iss and sub.")
	}
	client, err := a.tenant.Client(claims.Issuer)
	if err != nil {
		return Client{}, invalidClient("Unknown client %q.", claims.Issuer)
	}
	now := a.tenant.clock()
	if err := checkAssertionTimes(claims, now); err != nil {
		return Client{}, err
	}
	if !slices.ContainsFunc(claims.Audience, func(aud string) bool { return slices.Contains(a.assertAuds, aud) }) {
		return Client{}, invalidClient("The assertion's aud %v must contain %q.", []string(claims.Audience), a.issuer)
	}
	if claims.ID == "" {
		return Client{}, invalidClient("The assertion has no jti.")
	}
	kid, _ := token.Header["kid"].(string)
	usedKID, err := a.verifySignature(&client, method, kid, parts)
	if err != nil {
		return Client{}, err
	}
	if !a.jtis.claim(client.ID+"\x00"+claims.ID, claims.ExpiresAt.Add(clockSkew), now) {
		return Client{}, invalidClient("The assertion's jti %q was already used; each assertion is single-use.", claims.ID)
	}
	a.tenant.recordUse(client.ID, usedKID, now)
	return client, nil
}

func checkAssertionTimes(c jwt.RegisteredClaims, now time.Time) error {
	if c.ExpiresAt == nil {
		return invalidClient("The assertion has no exp.")
	}
	if !c.ExpiresAt.After(now) {
		return invalidClient("The assertion expired at %s.", c.ExpiresAt.UTC().Format(time.RFC3339))
	}
	issued := now
	if c.IssuedAt != nil {
		if c.IssuedAt.After(now.Add(clockSkew)) {
			return invalidClient("The assertion's iat is in the future (more than %s of clock skew).", clockSkew)
		}
		issued = c.IssuedAt.Time
	}
	if c.NotBefore != nil && c.NotBefore.After(now.Add(clockSkew)) {
		return invalidClient("The assertion is not valid before %s.", c.NotBefore.UTC().Format(time.RFC3339))
	}
	if c.ExpiresAt.Sub(issued) > maxAssertionLifetime {
		return invalidClient("The assertion's lifetime (exp - iat) exceeds %s.", maxAssertionLifetime)
	}
	return nil
}

// verifySignature tries every attached, unexpired credential of the client with the
// assertion's alg (only the one with kid, when the header names one), and returns the kid of
// the credential that verified it.
func (a *authority) verifySignature(c *Client, method jwt.SigningMethod, kid string, parts []string) (string, error) {
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", invalidClient("The assertion's signature is not base64url.")
	}
	signed := parts[0] + "." + parts[1]
	live := a.tenant.activeKeys(c.ID, method.Alg(), kid)
	if len(live) == 0 {
		if kid != "" {
			return "", invalidClient("No attached, unexpired %s credential with kid %q.", method.Alg(), kid)
		}
		return "", invalidClient("The client has no attached, unexpired %s credential.", method.Alg())
	}
	for _, lk := range live {
		if method.Verify(signed, sig, lk.key) == nil {
			return lk.kid, nil
		}
	}
	return "", invalidClient("The assertion's signature does not match any attached credential.")
}

// accessTokenClaims follows Auth0's access-token profile, in its claim order.
type accessTokenClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	Scope     string `json:"scope,omitempty"`
	GrantType string `json:"gty"`
	AZP       string `json:"azp"`
}

// accessToken signs a token for client and audience. Tokens carry no jti, so two issued in the
// same second are byte-identical: the cache returns the one already signed instead of signing
// it again (an RSA signature costs far more than the rest of the exchange).
func (a *authority) accessToken(clientID, audience, scope string) (string, error) {
	iat := a.tenant.clock().Unix()
	cacheKey := clientID + "\x00" + audience + "\x00" + scope
	if tok, ok := a.tokens.get(iat, cacheKey); ok {
		return tok, nil
	}
	claims := accessTokenClaims{
		Issuer: a.issuer, Subject: clientID + "@clients", Audience: audience, IssuedAt: iat,
		ExpiresAt: iat + accessTokenLifetime, Scope: scope, GrantType: "client-credentials", AZP: clientID,
	}
	tok, err := signJWT(map[string]string{"alg": "RS256", "typ": "JWT", "kid": a.signingKID}, claims, a.signingKey)
	if err != nil {
		return "", err
	}
	a.tokens.put(iat, cacheKey, tok)
	return tok, nil
}

// signJWT returns the compact RS256 JWS of header and claims.
func signJWT(header map[string]string, claims any, key *rsa.PrivateKey) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed := b64(h) + "." + b64(c)
	sig, err := jwt.SigningMethodRS256.Sign(signed, key)
	if err != nil {
		return "", err
	}
	return signed + "." + b64(sig), nil
}

// bearerClaims is what the Management API reads from its access token.
type bearerClaims struct {
	Scope string `json:"scope"`
	jwt.RegisteredClaims
}

// checkBearer verifies a Management API access token from an Authorization header and that
// it carries scope, as Auth0 does per endpoint.
func (a *authority) checkBearer(header, scope string) error {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || raw == "" {
		return &APIError{Status: http.StatusUnauthorized, Message: "Missing authentication", Code: "missing_authentication"}
	}
	var claims bearerClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &a.signingKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(a.issuer), jwt.WithAudience(a.mgmtAPI),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(a.tenant.clock))
	if err != nil {
		return &APIError{Status: http.StatusUnauthorized, Message: "Invalid token", Code: "invalid_token"}
	}
	if !slices.Contains(strings.Fields(claims.Scope), scope) {
		return &APIError{Status: http.StatusForbidden, Message: "Insufficient scope, expected any of: " + scope, Code: "insufficient_scope"}
	}
	return nil
}

func (a *authority) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(a.jwks)
}

// jtiCache remembers used assertion ids until they could no longer be valid.
type jtiCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time
	nextPrune time.Time
}

// claim records key until expiry and reports whether it was unused.
func (c *jtiCache) claim(key string, expiry, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until, ok := c.seen[key]; ok && until.After(now) {
		return false
	}
	if now.After(c.nextPrune) {
		for k, until := range c.seen {
			if !until.After(now) {
				delete(c.seen, k)
			}
		}
		c.nextPrune = now.Add(time.Minute)
	}
	c.seen[key] = expiry
	return true
}

// tokenCache holds the access tokens signed during the current second.
type tokenCache struct {
	mu     sync.Mutex
	second int64
	tokens map[string]string
}

func (c *tokenCache) get(second int64, key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.second != second {
		return "", false
	}
	tok, ok := c.tokens[key]
	return tok, ok
}

func (c *tokenCache) put(second int64, key, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.second != second {
		c.second, c.tokens = second, map[string]string{}
	}
	c.tokens[key] = token
}
