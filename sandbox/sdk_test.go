package sandbox_test

// Tests of the sandbox tenant driven by the real go-auth0 v1.35.0 SDK (management and
// authentication), plus raw HTTP where the SDK cannot express a request (explicit JSON null)
// or hides what a test must see (status codes, headers, raw JSON).
//
// Shared helpers (usable by any file of package sandbox_test) are prefixed "sdk":
//   sdkKey(t, i)               one of a few 2048-bit RSA keys generated once per test binary
//   sdkSandbox(t, poolCap)     a running server on a new tenant, closed by t.Cleanup
//   sdkPersistedTenant(t, cap) a new tenant that saves itself, and the file it saves to
//   sdkAdmin(t, srv)           a client holding a Management API grant (authenticates with its secret)
//   sdkAdminToken(t, srv)      a Management API access token of that client
//   sdkManagement(t, srv, ...) a go-auth0 management client for it
//   sdkScopedManagement(...)   a client granted only some Management API scopes, and its go-auth0 client
//   sdkNewM2M(t, srv, keyIdx)  a client with an API, a grant and one attached RS256 credential
//   sdkAuth(t, srv, id, pem)   a go-auth0 authentication client using a client assertion
//   sdkDo(t, srv, ...)         a raw HTTPS request to the sandbox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auth0/go-auth0"
	"github.com/auth0/go-auth0/authentication"
	"github.com/auth0/go-auth0/authentication/oauth"
	"github.com/auth0/go-auth0/management"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"rekey/keys"
	"rekey/sandbox"
)

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

const sdkKeyCount = 6

var (
	sdkKeysOnce sync.Once
	sdkKeys     []*rsa.PrivateKey
	sdkKeysErr  error
)

// sdkKey returns the i-th of a few 2048-bit RSA keys shared by every test of the binary.
func sdkKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	sdkKeysOnce.Do(func() {
		keysCh := make(chan *rsa.PrivateKey, sdkKeyCount)
		errCh := make(chan error, sdkKeyCount)
		for range sdkKeyCount {
			go func() {
				k, err := keys.Generate(keys.MinBits)
				keysCh <- k
				errCh <- err
			}()
		}
		for range sdkKeyCount {
			sdkKeys = append(sdkKeys, <-keysCh)
			if err := <-errCh; err != nil {
				sdkKeysErr = err
			}
		}
	})
	if sdkKeysErr != nil {
		t.Fatalf("generate test keys: %v", sdkKeysErr)
	}
	if i < 0 || i >= len(sdkKeys) {
		t.Fatalf("sdkKey(%d): only %d shared keys", i, len(sdkKeys))
	}
	return sdkKeys[i]
}

// sdkPrivatePEM is the PKCS#8 PEM of k, as go-auth0's WithClientAssertion takes it.
func sdkPrivatePEM(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	p, err := keys.PrivatePEM(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(p)
}

// sdkPublicPEM is the SPKI PEM of k's public key.
func sdkPublicPEM(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	p, err := keys.PublicPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(p)
}

// sdkStart serves tn on a loopback port until the test ends.
func sdkStart(t testing.TB, tn *sandbox.Tenant) *sandbox.Server {
	t.Helper()
	srv, err := sandbox.Start(sandbox.Options{Tenant: tn})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// sdkSandbox starts a server on a new, empty tenant with the given credential pool cap.
func sdkSandbox(t testing.TB, poolCap int) (*sandbox.Server, *sandbox.Tenant) {
	t.Helper()
	tn, err := sandbox.NewTenant(poolCap)
	if err != nil {
		t.Fatalf("NewTenant(%d): %v", poolCap, err)
	}
	return sdkStart(t, tn), tn
}

// sdkPersistedTenant returns a new tenant that saves itself to the returned path.
func sdkPersistedTenant(t testing.TB, poolCap int) (*sandbox.Tenant, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tenant.json")
	tn, err := sandbox.NewTenant(poolCap)
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.Persist(path); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	return tn, path
}

// sdkManagementScopes are the scopes of the sandbox's management token: a rotation's, and
// what a machine-to-machine Terraform workspace manages.
var sdkManagementScopes = []string{
	"read:clients", "update:clients", "create:clients", "delete:clients", "read:client_keys", "read:client_credentials",
	"create:client_credentials", "update:client_credentials", "delete:client_credentials",
	"read:client_grants", "create:client_grants", "update:client_grants", "delete:client_grants",
	"read:resource_servers", "create:resource_servers", "update:resource_servers", "delete:resource_servers",
}

// sdkAdmin adds a machine-to-machine client with a grant to the Management API.
func sdkAdmin(t testing.TB, srv *sandbox.Server) *sandbox.Client {
	t.Helper()
	c := srv.Tenant().AddClient("sdk-test admin", "non_interactive", []string{"client_credentials"})
	if _, err := srv.Tenant().AddGrant(c.ID, srv.ManagementAudience(), sdkManagementScopes); err != nil {
		t.Fatalf("grant management API: %v", err)
	}
	return c
}

// sdkScopedManagement adds a client granted only the given Management API scopes and returns
// it with a go-auth0 management client (no retries) that authenticates as it.
func sdkScopedManagement(t testing.TB, srv *sandbox.Server, name string, scopes ...string) (*sandbox.Client, *management.Management) {
	t.Helper()
	c := srv.Tenant().AddClient(name, "non_interactive", []string{"client_credentials"})
	if _, err := srv.Tenant().AddGrant(c.ID, srv.ManagementAudience(), scopes); err != nil {
		t.Fatal(err)
	}
	m, err := management.New(srv.Domain(), management.WithClientCredentials(sdkCtx(srv), c.ID, c.Secret),
		management.WithClient(srv.HTTPClient()), management.WithNoRetries())
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

// sdkCtx carries the sandbox-trusting HTTP client for x/oauth2 token sources.
func sdkCtx(srv *sandbox.Server) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, srv.HTTPClient())
}

// sdkManagement returns a go-auth0 management client that authenticates with a new admin
// client's secret. Extra options (e.g. management.WithNoRetries()) are appended.
func sdkManagement(t testing.TB, srv *sandbox.Server, opts ...management.Option) *management.Management {
	t.Helper()
	admin := sdkAdmin(t, srv)
	all := append([]management.Option{
		management.WithClientCredentials(sdkCtx(srv), admin.ID, admin.Secret),
		management.WithClient(srv.HTTPClient()),
	}, opts...)
	m, err := management.New(srv.Domain(), all...)
	if err != nil {
		t.Fatalf("management.New: %v", err)
	}
	return m
}

// sdkTokenResponse is the body of a successful /oauth/token.
type sdkTokenResponse struct {
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// sdkOAuthErrorBody is the body of a failed /oauth/token.
type sdkOAuthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// sdkPostForm POSTs a form to /oauth/token and returns the status and body.
func sdkPostForm(t testing.TB, srv *sandbox.Server, form url.Values) (int, []byte) {
	t.Helper()
	resp, err := srv.HTTPClient().PostForm("https://"+srv.Domain()+"/oauth/token", form)
	if err != nil {
		t.Fatalf("POST /oauth/token: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// sdkAdminToken returns a Management API access token for a new admin client (secret auth).
func sdkAdminToken(t testing.TB, srv *sandbox.Server) string {
	t.Helper()
	admin := sdkAdmin(t, srv)
	status, body := sdkPostForm(t, srv, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {admin.ID}, "client_secret": {admin.Secret},
		"audience": {srv.ManagementAudience()},
	})
	if status != http.StatusOK {
		t.Fatalf("management token: %d %s", status, body)
	}
	var tok sdkTokenResponse
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("management token body %s: %v", body, err)
	}
	return tok.AccessToken
}

// sdkDo sends a raw request to the sandbox; body (if not nil) is sent as JSON, or as is when
// it is a string. An empty token sends no Authorization header.
func sdkDo(t testing.TB, srv *sandbox.Server, method, path, token string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(data))
	}
	req, err := http.NewRequest(method, "https://"+srv.Domain()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

// sdkJSONObject decodes a JSON object.
func sdkJSONObject(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode JSON object %s: %v", data, err)
	}
	return m
}

// sdkEnvelope checks a Management API error body: {"statusCode","error","message"}.
func sdkEnvelope(t testing.TB, data []byte, wantStatus int) map[string]any {
	t.Helper()
	m := sdkJSONObject(t, data)
	if got, _ := m["statusCode"].(float64); int(got) != wantStatus {
		t.Errorf("envelope statusCode = %v, want %d (body %s)", m["statusCode"], wantStatus, data)
	}
	if got, _ := m["error"].(string); got != http.StatusText(wantStatus) {
		t.Errorf("envelope error = %q, want %q (body %s)", got, http.StatusText(wantStatus), data)
	}
	if got, _ := m["message"].(string); got == "" {
		t.Errorf("envelope has no message: %s", data)
	}
	return m
}

var sdkSeq atomic.Int64

// sdkM2M is a machine-to-machine client that authenticates with a private key.
type sdkM2M struct {
	Client   *sandbox.Client
	Audience string
	Scope    []string
	Cred     sandbox.Credential
	Key      *rsa.PrivateKey
}

// sdkNewM2M creates an API, a client granted to it with two scopes, and one RS256 credential
// from shared key keyIdx attached to private_key_jwt (token_endpoint_auth_method cleared).
func sdkNewM2M(t testing.TB, srv *sandbox.Server, keyIdx int) sdkM2M {
	t.Helper()
	tn := srv.Tenant()
	n := sdkSeq.Add(1)
	aud := fmt.Sprintf("https://api-%d.sdk-test.example.com/", n)
	tn.AddAPI(aud, fmt.Sprintf("sdk test API %d", n))
	c := tn.AddClient(fmt.Sprintf("sdk-m2m-%d", n), "non_interactive", []string{"client_credentials"})
	scope := []string{"read:data", "write:data"}
	if _, err := tn.AddGrant(c.ID, aud, scope); err != nil {
		t.Fatalf("AddGrant: %v", err)
	}
	key := sdkKey(t, keyIdx)
	cr, err := tn.CreateCredential(c.ID, sandbox.NewCredential{Name: "primary", PEM: sdkPublicPEM(t, key), Alg: "RS256"})
	if err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	sdkAttach(t, tn, c.ID, cr.ID)
	return sdkM2M{Client: c, Audience: aud, Scope: scope, Cred: cr, Key: key}
}

// sdkAttach sets the client's private_key_jwt credential list (and clears
// token_endpoint_auth_method) through the tenant API.
func sdkAttach(t testing.TB, tn *sandbox.Tenant, clientID string, credIDs ...string) {
	t.Helper()
	ids := slices.Clone(credIDs)
	if ids == nil {
		ids = []string{}
	}
	if _, err := tn.UpdateClient(clientID, sandbox.ClientPatch{
		TokenEndpointAuthMethodSet: true, TokenEndpointAuthMethod: nil,
		AuthMethodsSet: true, PrivateKeyJWT: &ids,
	}); err != nil {
		t.Fatalf("attach %v to %s: %v", credIDs, clientID, err)
	}
}

// sdkAuth returns a go-auth0 authentication client for clientID signing assertions with privPEM.
func sdkAuth(t testing.TB, srv *sandbox.Server, clientID, privPEM string, opts ...authentication.Option) *authentication.Authentication {
	t.Helper()
	all := append([]authentication.Option{
		authentication.WithClientID(clientID),
		authentication.WithClientAssertion(privPEM, "RS256"),
		authentication.WithClient(srv.HTTPClient()),
	}, opts...)
	a, err := authentication.New(context.Background(), srv.Domain(), all...)
	if err != nil {
		t.Fatalf("authentication.New: %v", err)
	}
	return a
}

// sdkLogin runs the client credentials grant for audience.
func sdkLogin(a *authentication.Authentication, audience string) (*oauth.TokenSet, error) {
	return a.OAuth.LoginWithClientCredentials(context.Background(),
		oauth.LoginWithClientCredentialsRequest{Audience: audience}, oauth.IDTokenValidationOptions{})
}

// sdkAuthError asserts err is an *authentication.Error with the given status and error code.
func sdkAuthError(t testing.TB, err error, status int, code string) *authentication.Error {
	t.Helper()
	var ae *authentication.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *authentication.Error %d %s", err, err, status, code)
	}
	if ae.StatusCode != status || ae.Err != code {
		t.Errorf("error = %d %q (%s), want %d %q", ae.StatusCode, ae.Err, ae.Message, status, code)
	}
	return ae
}

// sdkMgmtError asserts err is a management.Error with the given status and, when msg is not
// empty, that its text contains msg.
func sdkMgmtError(t testing.TB, err error, status int, msg string) {
	t.Helper()
	var me management.Error
	if !errors.As(err, &me) {
		t.Fatalf("error = %v (%T), want management.Error %d", err, err, status)
	}
	if me.Status() != status {
		t.Errorf("status = %d (%v), want %d", me.Status(), err, status)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not contain %q", err.Error(), msg)
	}
}

// sdkJWKS fetches /.well-known/jwks.json and returns its RSA keys by kid.
func sdkJWKS(t testing.TB, srv *sandbox.Server) map[string]*rsa.PublicKey {
	t.Helper()
	status, _, body := sdkDo(t, srv, http.MethodGet, "/.well-known/jwks.json", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET jwks: %d %s", status, body)
	}
	var set struct {
		Keys []struct {
			Kty, Kid, N, E, Alg, Use string
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("jwks %s: %v", body, err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || k.Kid == "" {
			t.Fatalf("bad JWK %+v", k)
		}
		out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if len(out) == 0 {
		t.Fatalf("jwks has no RSA key: %s", body)
	}
	return out
}

// sdkAccessClaims are the claims of an Auth0 client-credentials access token.
type sdkAccessClaims struct {
	Scope string `json:"scope"`
	GTY   string `json:"gty"`
	AZP   string `json:"azp"`
	jwt.RegisteredClaims
}

// sdkVerifyAccessToken checks the RS256 signature of tok against the JWKS and returns its claims.
func sdkVerifyAccessToken(t testing.TB, srv *sandbox.Server, tok string) (*jwt.Token, *sdkAccessClaims) {
	t.Helper()
	jwks := sdkJWKS(t, srv)
	var claims sdkAccessClaims
	parsed, err := jwt.ParseWithClaims(tok, &claims, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		k := jwks[kid]
		if k == nil {
			return nil, fmt.Errorf("kid %q not in JWKS", kid)
		}
		return k, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("access token does not verify against the JWKS: %v", err)
	}
	return parsed, &claims
}

var (
	sdkCredIDPattern   = regexp.MustCompile(`^cred_[0-9A-Za-z]{22}$`)
	sdkTimestampFormat = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
)

func sdkStr(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// ---------------------------------------------------------------------------------------------
// 1. Management API basics with go-auth0
// ---------------------------------------------------------------------------------------------

func TestSDKManagementUnauthorized(t *testing.T) {
	srv, tn := sdkSandbox(t, 2)

	t.Run("no Authorization header", func(t *testing.T) {
		status, hdr, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients", "", nil)
		if status != http.StatusUnauthorized {
			t.Fatalf("status = %d, want 401 (%s)", status, body)
		}
		if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q, want JSON", ct)
		}
		sdkEnvelope(t, body, http.StatusUnauthorized)
	})

	t.Run("malformed token via go-auth0", func(t *testing.T) {
		m, err := management.New(srv.Domain(), management.WithStaticToken("not-a-jwt"),
			management.WithClient(srv.HTTPClient()), management.WithNoRetries())
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Client.List(context.Background())
		sdkMgmtError(t, err, http.StatusUnauthorized, "401 Unauthorized: ")
	})

	t.Run("token for another audience", func(t *testing.T) {
		app := sdkNewM2M(t, srv, 0)
		sec := tn.AddClient("secret app", "non_interactive", []string{"client_credentials"})
		if _, err := tn.AddGrant(sec.ID, app.Audience, []string{"read:data"}); err != nil {
			t.Fatal(err)
		}
		status, body := sdkPostForm(t, srv, url.Values{"grant_type": {"client_credentials"},
			"client_id": {sec.ID}, "client_secret": {sec.Secret}, "audience": {app.Audience}})
		if status != http.StatusOK {
			t.Fatalf("token: %d %s", status, body)
		}
		var tok sdkTokenResponse
		json.Unmarshal(body, &tok)
		status, _, body = sdkDo(t, srv, http.MethodGet, "/api/v2/clients", tok.AccessToken, nil)
		if status != http.StatusUnauthorized {
			t.Fatalf("API token used on the Management API: status %d, want 401 (%s)", status, body)
		}
		sdkEnvelope(t, body, http.StatusUnauthorized)
	})

	t.Run("token signed by another key", func(t *testing.T) {
		forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": "https://" + srv.Domain() + "/", "aud": srv.ManagementAudience(), "sub": "x@clients",
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "scope": strings.Join(sdkManagementScopes, " "),
		})
		s, err := forged.SignedString(sdkKey(t, 5))
		if err != nil {
			t.Fatal(err)
		}
		status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients", s, nil)
		if status != http.StatusUnauthorized {
			t.Fatalf("status = %d, want 401 (%s)", status, body)
		}
	})

	t.Run("expired token", func(t *testing.T) {
		tok := sdkAdminToken(t, srv)
		if status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients", tok, nil); status != http.StatusOK {
			t.Fatalf("fresh token: %d %s", status, body)
		}
		later := time.Now().Add(25 * time.Hour)
		tn.SetClock(func() time.Time { return later })
		defer tn.SetClock(time.Now)
		status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients", tok, nil)
		if status != http.StatusUnauthorized {
			t.Fatalf("token past exp: status %d, want 401 (%s)", status, body)
		}
	})
}

func TestSDKClientListing(t *testing.T) {
	srv, tn := sdkSandbox(t, 2)
	m := sdkManagement(t, srv, management.WithNoRetries())
	ctx := context.Background()
	created := map[string]bool{}
	for i := range 120 {
		c := tn.AddClient(fmt.Sprintf("listing-%03d", i), "non_interactive", []string{"client_credentials"})
		created[c.ID] = true
	}
	total := tn.ClientCount() // the 120 plus the admin client
	if total != 121 {
		t.Fatalf("ClientCount = %d, want 121", total)
	}

	checkAll := func(t *testing.T, ids []string) {
		t.Helper()
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("client %s listed twice", id)
			}
			seen[id] = true
		}
		if len(ids) != total {
			t.Errorf("listed %d clients, want %d", len(ids), total)
		}
		for id := range created {
			if !seen[id] {
				t.Errorf("client %s never listed", id)
			}
		}
	}

	for _, perPage := range []int{50, 7, 100} {
		t.Run(fmt.Sprintf("page per_page=%d", perPage), func(t *testing.T) {
			var ids []string
			for page := 0; page < 100; page++ {
				l, err := m.Client.List(ctx, management.Page(page), management.PerPage(perPage))
				if err != nil {
					t.Fatalf("page %d: %v", page, err)
				}
				if l.Total != total {
					t.Errorf("page %d: total = %d, want %d", page, l.Total, total)
				}
				if l.Start != page*perPage || l.Limit != perPage {
					t.Errorf("page %d: start/limit = %d/%d, want %d/%d", page, l.Start, l.Limit, page*perPage, perPage)
				}
				want := min(perPage, max(total-page*perPage, 0))
				if len(l.Clients) != want {
					t.Errorf("page %d: %d clients, want %d", page, len(l.Clients), want)
				}
				for _, c := range l.Clients {
					ids = append(ids, c.GetClientID())
				}
				if !l.HasNext() {
					break
				}
			}
			checkAll(t, ids)
		})
	}

	t.Run("per_page=101 is refused", func(t *testing.T) {
		_, err := m.Client.List(ctx, management.PerPage(101))
		sdkMgmtError(t, err, http.StatusBadRequest, "400 Bad Request: ")
	})

	t.Run("checkpoint take/from", func(t *testing.T) {
		var ids []string
		from := ""
		for i := 0; i < 100; i++ {
			opts := []management.RequestOption{management.Take(50)}
			if from != "" {
				opts = append(opts, management.From(from))
			}
			l, err := m.Client.ListWithCheckpointPagination(ctx, opts...)
			if err != nil {
				t.Fatalf("checkpoint page %d: %v", i, err)
			}
			if len(l.Clients) > 50 {
				t.Errorf("checkpoint page %d: %d clients with take=50", i, len(l.Clients))
			}
			for _, c := range l.Clients {
				ids = append(ids, c.GetClientID())
			}
			if !l.HasNext() {
				break
			}
			from = l.Next
		}
		checkAll(t, ids)
	})

	t.Run("checkpoint take=101 is refused", func(t *testing.T) {
		_, err := m.Client.ListWithCheckpointPagination(ctx, management.Take(101))
		sdkMgmtError(t, err, http.StatusBadRequest, "")
	})

	t.Run("include fields", func(t *testing.T) {
		l, err := m.Client.List(ctx, management.IncludeFields("client_id", "name"), management.PerPage(5))
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Clients) != 5 {
			t.Fatalf("%d clients, want 5", len(l.Clients))
		}
		for _, c := range l.Clients {
			if c.ClientID == nil || c.Name == nil {
				t.Errorf("client_id/name missing: %+v", c)
			}
			if c.AppType != nil || c.ClientSecret != nil || c.GrantTypes != nil || c.JWTConfiguration != nil {
				t.Errorf("fields not trimmed: app_type=%v secret set=%v grant_types=%v jwt=%v",
					sdkStr(c.AppType), c.ClientSecret != nil, c.GrantTypes, c.JWTConfiguration)
			}
		}
		id := l.Clients[0].GetClientID()
		c, err := m.Client.Read(ctx, id, management.IncludeFields("client_id", "name"))
		if err != nil {
			t.Fatal(err)
		}
		if c.GetClientID() != id || c.AppType != nil || c.ClientSecret != nil {
			t.Errorf("Read with IncludeFields = %+v", c)
		}
		tok := sdkAdminToken(t, srv)
		status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients/"+id+"?fields=client_id,name&include_fields=true", tok, nil)
		if status != http.StatusOK {
			t.Fatalf("raw read: %d %s", status, body)
		}
		obj := sdkJSONObject(t, body)
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range obj {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(keys, []string{"client_id", "name"}) {
			t.Errorf("raw fields = %v, want [client_id name]", keys)
		}
	})

	t.Run("read unknown client", func(t *testing.T) {
		_, err := m.Client.Read(ctx, "no-such-client-id")
		sdkMgmtError(t, err, http.StatusNotFound, "404 Not Found: ")
	})
}

// ---------------------------------------------------------------------------------------------
// 2. Credentials CRUD with go-auth0
// ---------------------------------------------------------------------------------------------

func sdkNewCredential(name, pemText, alg string) *management.Credential {
	c := &management.Credential{CredentialType: auth0.String("public_key"), PEM: auth0.String(pemText)}
	if name != "" {
		c.Name = auth0.String(name)
	}
	if alg != "" {
		c.Algorithm = auth0.String(alg)
	}
	return c
}

func TestSDKCredentials(t *testing.T) {
	srv, tn := sdkSandbox(t, 2)
	m := sdkManagement(t, srv, management.WithNoRetries())
	tok := sdkAdminToken(t, srv)
	ctx := context.Background()
	newClient := func(name string) *sandbox.Client {
		return tn.AddClient(name, "non_interactive", []string{"client_credentials"})
	}

	t.Run("create, list, get", func(t *testing.T) {
		c := newClient("crud")
		k := sdkKey(t, 0)
		cred := sdkNewCredential("first", sdkPublicPEM(t, k), "RS256")
		if err := m.Client.CreateCredential(ctx, c.ID, cred); err != nil {
			t.Fatalf("CreateCredential: %v", err)
		}
		if !sdkCredIDPattern.MatchString(cred.GetID()) {
			t.Errorf("id = %q, want cred_ + 22 alphanumerics", cred.GetID())
		}
		if got, want := cred.GetKeyID(), keys.Thumbprint(&k.PublicKey); got != want {
			t.Errorf("kid = %q, want thumbprint %q", got, want)
		}
		if cred.GetAlgorithm() != "RS256" || cred.GetCredentialType() != "public_key" || cred.GetName() != "first" {
			t.Errorf("alg/type/name = %s/%s/%s", cred.GetAlgorithm(), cred.GetCredentialType(), cred.GetName())
		}
		if cred.CreatedAt == nil || cred.UpdatedAt == nil || !cred.CreatedAt.Equal(*cred.UpdatedAt) {
			t.Errorf("created_at %v, updated_at %v: want equal and set", cred.CreatedAt, cred.UpdatedAt)
		}
		if cred.ExpiresAt != nil {
			t.Errorf("expires_at = %v, want absent", cred.ExpiresAt)
		}

		// Second credential: no name, no alg (RS256 default), from a certificate of another key.
		k2 := sdkKey(t, 1)
		cert, err := keys.SelfSignedCert(k2, "crud", time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		cred2 := sdkNewCredential("", string(cert), "")
		if err := m.Client.CreateCredential(ctx, c.ID, cred2); err != nil {
			t.Fatalf("CreateCredential (cert, defaults): %v", err)
		}
		if cred2.GetAlgorithm() != "RS256" {
			t.Errorf("default alg = %q, want RS256", cred2.GetAlgorithm())
		}
		if cred2.GetKeyID() != keys.Thumbprint(&k2.PublicKey) {
			t.Errorf("certificate kid = %q, want thumbprint of its key", cred2.GetKeyID())
		}
		if cred2.ExpiresAt != nil {
			t.Errorf("certificate without parse_expiry_from_cert got expires_at %v", cred2.ExpiresAt)
		}

		list, err := m.Client.ListCredentials(ctx, c.ID)
		if err != nil {
			t.Fatalf("ListCredentials: %v", err)
		}
		got := []string{}
		for _, l := range list {
			got = append(got, l.GetID())
			if l.PEM != nil {
				t.Errorf("list returns pem for %s", l.GetID())
			}
		}
		slices.Sort(got)
		want := []string{cred.GetID(), cred2.GetID()}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ListCredentials ids = %v, want %v", got, want)
		}

		g, err := m.Client.GetCredential(ctx, c.ID, cred.GetID())
		if err != nil {
			t.Fatalf("GetCredential: %v", err)
		}
		if g.GetKeyID() != cred.GetKeyID() || g.GetName() != "first" || !g.CreatedAt.Equal(*cred.CreatedAt) {
			t.Errorf("GetCredential = %+v, want the created credential", g)
		}

		// Raw JSON: no pem, no parse_expiry_from_cert, millisecond Z timestamps, name omitted when unset.
		for _, id := range []string{cred.GetID(), cred2.GetID()} {
			status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients/"+c.ID+"/credentials/"+id, tok, nil)
			if status != http.StatusOK {
				t.Fatalf("raw GET credential: %d %s", status, body)
			}
			obj := sdkJSONObject(t, body)
			for _, banned := range []string{"pem", "parse_expiry_from_cert", "expires_at"} {
				if _, ok := obj[banned]; ok {
					t.Errorf("raw credential has %q: %s", banned, body)
				}
			}
			ca, _ := obj["created_at"].(string)
			ua, _ := obj["updated_at"].(string)
			if !sdkTimestampFormat.MatchString(ca) || !sdkTimestampFormat.MatchString(ua) {
				t.Errorf("timestamps %q / %q, want YYYY-MM-DDTHH:MM:SS.mmmZ", ca, ua)
			}
			if ca != ua {
				t.Errorf("created_at %q != updated_at %q on a new credential", ca, ua)
			}
			if id == cred2.GetID() {
				if _, ok := obj["name"]; ok {
					t.Errorf("credential created without name has \"name\": %s", body)
				}
			}
			if obj["kid"] == "" || obj["alg"] != "RS256" || obj["credential_type"] != "public_key" || obj["id"] != id {
				t.Errorf("raw credential fields: %s", body)
			}
		}
		status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients/"+c.ID+"/credentials", tok, nil)
		if status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(string(body)), "[") {
			t.Errorf("raw list: %d %s, want 200 and a plain array", status, body)
		}
		if strings.Contains(string(body), "BEGIN") {
			t.Errorf("raw list contains PEM text: %s", body)
		}
	})

	t.Run("raw create is 201", func(t *testing.T) {
		c := newClient("raw-create")
		status, _, body := sdkDo(t, srv, http.MethodPost, "/api/v2/clients/"+c.ID+"/credentials", tok, map[string]any{
			"credential_type": "public_key", "name": "raw", "pem": sdkPublicPEM(t, sdkKey(t, 2)), "alg": "PS256",
		})
		if status != http.StatusCreated {
			t.Fatalf("status = %d, want 201 (%s)", status, body)
		}
		obj := sdkJSONObject(t, body)
		if _, ok := obj["pem"]; ok {
			t.Errorf("create response has pem: %s", body)
		}
		if obj["alg"] != "PS256" {
			t.Errorf("alg = %v, want PS256", obj["alg"])
		}
		if obj["created_at"] != obj["updated_at"] {
			t.Errorf("created_at %v != updated_at %v", obj["created_at"], obj["updated_at"])
		}
	})

	t.Run("update expires_at", func(t *testing.T) {
		c := newClient("update")
		cred := sdkNewCredential("upd", sdkPublicPEM(t, sdkKey(t, 0)), "RS256")
		if err := m.Client.CreateCredential(ctx, c.ID, cred); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		upd := &management.Credential{ExpiresAt: &at}
		if err := m.Client.UpdateCredential(ctx, c.ID, cred.GetID(), upd); err != nil {
			t.Fatalf("UpdateCredential: %v", err)
		}
		if upd.ExpiresAt == nil || !upd.ExpiresAt.Equal(at) {
			t.Errorf("updated expires_at = %v, want %v", upd.ExpiresAt, at)
		}
		if upd.GetID() != cred.GetID() || upd.GetKeyID() != cred.GetKeyID() {
			t.Errorf("update response id/kid = %s/%s", upd.GetID(), upd.GetKeyID())
		}
		g, err := m.Client.GetCredential(ctx, c.ID, cred.GetID())
		if err != nil {
			t.Fatal(err)
		}
		if g.ExpiresAt == nil || !g.ExpiresAt.Equal(at) {
			t.Errorf("read back expires_at = %v, want %v", g.ExpiresAt, at)
		}
		status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients/"+c.ID+"/credentials/"+cred.GetID(), tok, nil)
		if status != http.StatusOK {
			t.Fatal(status)
		}
		obj := sdkJSONObject(t, body)
		if want := at.Format("2006-01-02T15:04:05") + ".000Z"; obj["expires_at"] != want {
			t.Errorf("raw expires_at = %v, want %s", obj["expires_at"], want)
		}
		status, _, body = sdkDo(t, srv, http.MethodPatch, "/api/v2/clients/"+c.ID+"/credentials/"+cred.GetID(), tok,
			map[string]any{"expires_at": at.Format(time.RFC3339), "name": "renamed"})
		if status != http.StatusBadRequest {
			t.Errorf("PATCH credential with name: %d, want 400 (%s)", status, body)
		}
	})

	t.Run("parse_expiry_from_cert", func(t *testing.T) {
		c := newClient("parse-expiry")
		notAfter := time.Now().Add(30 * 24 * time.Hour)
		certPEM, err := keys.SelfSignedCert(sdkKey(t, 3), "expiry", time.Now().Add(-time.Hour), notAfter)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(certPEM)
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		cred := sdkNewCredential("cert", string(certPEM), "RS256")
		cred.ParseExpiryFromCert = auth0.Bool(true)
		if err := m.Client.CreateCredential(ctx, c.ID, cred); err != nil {
			t.Fatalf("CreateCredential: %v", err)
		}
		if cred.ExpiresAt == nil || !cred.ExpiresAt.Equal(cert.NotAfter) {
			t.Errorf("expires_at = %v, want cert notAfter %v", cred.ExpiresAt, cert.NotAfter)
		}
		status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients/"+c.ID+"/credentials/"+cred.GetID(), tok, nil)
		if status != http.StatusOK {
			t.Fatal(status)
		}
		obj := sdkJSONObject(t, body)
		if want := cert.NotAfter.UTC().Format("2006-01-02T15:04:05") + ".000Z"; obj["expires_at"] != want {
			t.Errorf("raw expires_at = %v, want %s", obj["expires_at"], want)
		}
		if _, ok := obj["parse_expiry_from_cert"]; ok {
			t.Errorf("response has parse_expiry_from_cert: %s", body)
		}

		c2 := newClient("parse-expiry-bare")
		bare := sdkNewCredential("bare", sdkPublicPEM(t, sdkKey(t, 3)), "RS256")
		bare.ParseExpiryFromCert = auth0.Bool(true)
		err = m.Client.CreateCredential(ctx, c2.ID, bare)
		sdkMgmtError(t, err, http.StatusBadRequest, "")
	})

	t.Run("pool cap 2", func(t *testing.T) {
		c := newClient("cap2")
		for i := range 2 {
			if err := m.Client.CreateCredential(ctx, c.ID, sdkNewCredential("", sdkPublicPEM(t, sdkKey(t, i)), "")); err != nil {
				t.Fatalf("credential %d: %v", i+1, err)
			}
		}
		err := m.Client.CreateCredential(ctx, c.ID, sdkNewCredential("", sdkPublicPEM(t, sdkKey(t, 2)), ""))
		sdkMgmtError(t, err, http.StatusBadRequest, "400 Bad Request: A client can have a maximum of 2 credentials.")
	})

	t.Run("pool cap 4", func(t *testing.T) {
		srv4, tn4 := sdkSandbox(t, 4)
		m4 := sdkManagement(t, srv4, management.WithNoRetries())
		c := tn4.AddClient("cap4", "non_interactive", []string{"client_credentials"})
		for i := range 4 {
			if err := m4.Client.CreateCredential(ctx, c.ID, sdkNewCredential("", sdkPublicPEM(t, sdkKey(t, i)), "")); err != nil {
				t.Fatalf("credential %d: %v", i+1, err)
			}
		}
		err := m4.Client.CreateCredential(ctx, c.ID, sdkNewCredential("", sdkPublicPEM(t, sdkKey(t, 4)), ""))
		sdkMgmtError(t, err, http.StatusBadRequest, "400 Bad Request: A client can have a maximum of 4 credentials.")
	})

	t.Run("duplicate key", func(t *testing.T) {
		c := newClient("dup")
		k := sdkKey(t, 0)
		if err := m.Client.CreateCredential(ctx, c.ID, sdkNewCredential("a", sdkPublicPEM(t, k), "")); err != nil {
			t.Fatal(err)
		}
		err := m.Client.CreateCredential(ctx, c.ID, sdkNewCredential("b", sdkPublicPEM(t, k), ""))
		sdkMgmtError(t, err, http.StatusBadRequest, "400 Bad Request: credentials contains public keys that already exist in client")

		// The same key as a certificate is the same public key.
		cert, err := keys.SelfSignedCert(k, "dup", time.Now().Add(-time.Hour), time.Now().Add(time.Hour*24))
		if err != nil {
			t.Fatal(err)
		}
		err = m.Client.CreateCredential(ctx, c.ID, sdkNewCredential("c", string(cert), ""))
		sdkMgmtError(t, err, http.StatusBadRequest, "credentials contains public keys that already exist in client")

		// The same key on another client is fine.
		other := newClient("dup-other")
		if err := m.Client.CreateCredential(ctx, other.ID, sdkNewCredential("a", sdkPublicPEM(t, k), "")); err != nil {
			t.Errorf("same key on another client: %v", err)
		}
	})

	t.Run("unsupported algorithms", func(t *testing.T) {
		c := newClient("algs")
		for _, alg := range []string{"RS512", "PS384", "ES256", "HS256", "none"} {
			err := m.Client.CreateCredential(ctx, c.ID, sdkNewCredential("", sdkPublicPEM(t, sdkKey(t, 0)), alg))
			sdkMgmtError(t, err, http.StatusBadRequest, "400 Bad Request: ")
		}
		for _, alg := range []string{"RS256", "RS384"} { // PS256 is covered by "raw create is 201"
			cc := newClient("alg-" + alg)
			cred := sdkNewCredential("", sdkPublicPEM(t, sdkKey(t, 0)), alg)
			if err := m.Client.CreateCredential(ctx, cc.ID, cred); err != nil {
				t.Errorf("alg %s: %v", alg, err)
			} else if cred.GetAlgorithm() != alg {
				t.Errorf("alg = %s, want %s", cred.GetAlgorithm(), alg)
			}
		}
	})

	t.Run("EC and small keys", func(t *testing.T) {
		c := newClient("bad-keys")
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		err = m.Client.CreateCredential(ctx, c.ID, sdkNewCredential("ec", ecPEM, "RS256"))
		sdkMgmtError(t, err, http.StatusBadRequest, "400 Bad Request: ")

		small, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		der, err = x509.MarshalPKIXPublicKey(&small.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		smallPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		err = m.Client.CreateCredential(ctx, c.ID, sdkNewCredential("small", smallPEM, "RS256"))
		sdkMgmtError(t, err, http.StatusBadRequest, "400 Bad Request: ")

		err = m.Client.CreateCredential(ctx, c.ID, sdkNewCredential("junk", "not a pem", "RS256"))
		sdkMgmtError(t, err, http.StatusBadRequest, "400 Bad Request: ")

		// PKCS#1 "RSA PUBLIC KEY" is accepted.
		pk1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&sdkKey(t, 4).PublicKey)}))
		cred := sdkNewCredential("pkcs1", pk1, "RS256")
		if err := m.Client.CreateCredential(ctx, c.ID, cred); err != nil {
			t.Errorf("PKCS#1 public key: %v", err)
		} else if cred.GetKeyID() != keys.Thumbprint(&sdkKey(t, 4).PublicKey) {
			t.Errorf("PKCS#1 kid = %s", cred.GetKeyID())
		}
		if got, _ := tn.Credentials(c.ID); len(got) != 1 {
			t.Errorf("pool holds %d credentials after refused creates, want 1", len(got))
		}
	})

	t.Run("name length", func(t *testing.T) {
		c := newClient("names")
		err := m.Client.CreateCredential(ctx, c.ID, sdkNewCredential(strings.Repeat("n", 129), sdkPublicPEM(t, sdkKey(t, 0)), ""))
		sdkMgmtError(t, err, http.StatusBadRequest, "400 Bad Request: ")
		cred := sdkNewCredential(strings.Repeat("n", 128), sdkPublicPEM(t, sdkKey(t, 0)), "")
		if err := m.Client.CreateCredential(ctx, c.ID, cred); err != nil {
			t.Errorf("128-character name: %v", err)
		}
	})

	t.Run("unknown client", func(t *testing.T) {
		err := m.Client.CreateCredential(ctx, "no-such-client", sdkNewCredential("", sdkPublicPEM(t, sdkKey(t, 0)), ""))
		sdkMgmtError(t, err, http.StatusNotFound, "")
		_, err = m.Client.ListCredentials(ctx, "no-such-client")
		sdkMgmtError(t, err, http.StatusNotFound, "")
	})

	t.Run("delete attached, detach, delete", func(t *testing.T) {
		c := newClient("delete")
		cred := sdkNewCredential("del", sdkPublicPEM(t, sdkKey(t, 0)), "")
		if err := m.Client.CreateCredential(ctx, c.ID, cred); err != nil {
			t.Fatal(err)
		}
		sdkAttach(t, tn, c.ID, cred.GetID())
		err := m.Client.DeleteCredential(ctx, c.ID, cred.GetID())
		sdkMgmtError(t, err, http.StatusBadRequest, "400 Bad Request: Cannot delete credential still associated with a client")
		if _, err := m.Client.GetCredential(ctx, c.ID, cred.GetID()); err != nil {
			t.Fatalf("credential gone after refused delete: %v", err)
		}

		status, _, body := sdkDo(t, srv, http.MethodPatch, "/api/v2/clients/"+c.ID, tok,
			`{"client_authentication_methods":{"private_key_jwt":{"credentials":[]}}}`)
		if status != http.StatusOK {
			t.Fatalf("detach: %d %s", status, body)
		}
		status, _, body = sdkDo(t, srv, http.MethodDelete, "/api/v2/clients/"+c.ID+"/credentials/"+cred.GetID(), tok, nil)
		if status != http.StatusNoContent || len(body) != 0 {
			t.Fatalf("delete detached credential: %d %q, want 204 with no body", status, body)
		}
		_, err = m.Client.GetCredential(ctx, c.ID, cred.GetID())
		sdkMgmtError(t, err, http.StatusNotFound, "")

		// go-auth0 DeleteCredential on a detached credential succeeds too.
		cred2 := sdkNewCredential("del2", sdkPublicPEM(t, sdkKey(t, 1)), "")
		if err := m.Client.CreateCredential(ctx, c.ID, cred2); err != nil {
			t.Fatal(err)
		}
		if err := m.Client.DeleteCredential(ctx, c.ID, cred2.GetID()); err != nil {
			t.Errorf("DeleteCredential of an unattached credential: %v", err)
		}
		if left, _ := tn.Credentials(c.ID); len(left) != 0 {
			t.Errorf("pool still has %d credentials", len(left))
		}
	})
}

// ---------------------------------------------------------------------------------------------
// 3. PATCH client (raw HTTP: go-auth0 cannot send an explicit null)
// ---------------------------------------------------------------------------------------------

func sdkAttachBody(ids ...string) string {
	refs := make([]string, 0, len(ids))
	for _, id := range ids {
		refs = append(refs, fmt.Sprintf(`{"id":%q}`, id))
	}
	return `{"client_authentication_methods":{"private_key_jwt":{"credentials":[` + strings.Join(refs, ",") + `]}},"token_endpoint_auth_method":null}`
}

// sdkAttachedIDs reads client_authentication_methods.private_key_jwt.credentials[].id.
func sdkAttachedIDs(t testing.TB, obj map[string]any) ([]string, bool) {
	t.Helper()
	cam, ok := obj["client_authentication_methods"].(map[string]any)
	if !ok {
		return nil, false
	}
	pk, _ := cam["private_key_jwt"].(map[string]any)
	creds, _ := pk["credentials"].([]any)
	ids := []string{}
	for _, c := range creds {
		m, _ := c.(map[string]any)
		id, _ := m["id"].(string)
		ids = append(ids, id)
	}
	return ids, true
}

func TestSDKPatchClientAuthMethods(t *testing.T) {
	srv, tn := sdkSandbox(t, 4)
	tok := sdkAdminToken(t, srv)
	c := tn.AddClient("patch", "non_interactive", []string{"client_credentials"})
	var ids []string
	for i := range 3 {
		cr, err := tn.CreateCredential(c.ID, sandbox.NewCredential{PEM: sdkPublicPEM(t, sdkKey(t, i)), Alg: "RS256"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cr.ID)
	}
	a, b, third := ids[0], ids[1], ids[2]
	path := "/api/v2/clients/" + c.ID
	patch := func(body string) (int, []byte) {
		status, _, resp := sdkDo(t, srv, http.MethodPatch, path, tok, body)
		return status, resp
	}
	get := func() map[string]any {
		status, _, resp := sdkDo(t, srv, http.MethodGet, path, tok, nil)
		if status != http.StatusOK {
			t.Fatalf("GET client: %d %s", status, resp)
		}
		return sdkJSONObject(t, resp)
	}

	// Order matters: each step starts from the state the previous one left.
	t.Run("needs token_endpoint_auth_method null", func(t *testing.T) {
		status, body := patch(`{"client_authentication_methods":{"private_key_jwt":{"credentials":[{"id":"` + a + `"}]}}}`)
		if status != http.StatusBadRequest {
			t.Fatalf("status = %d, want 400 (%s)", status, body)
		}
		sdkEnvelope(t, body, http.StatusBadRequest)
		obj := get()
		if _, ok := sdkAttachedIDs(t, obj); ok {
			t.Errorf("refused PATCH still attached credentials: %v", obj["client_authentication_methods"])
		}
		if obj["token_endpoint_auth_method"] != "client_secret_post" {
			t.Errorf("token_endpoint_auth_method = %v after refused PATCH", obj["token_endpoint_auth_method"])
		}
	})

	t.Run("three credentials", func(t *testing.T) {
		status, body := patch(sdkAttachBody(a, b, third))
		if status != http.StatusBadRequest {
			t.Fatalf("status = %d, want 400 (%s)", status, body)
		}
		msg, _ := sdkEnvelope(t, body, http.StatusBadRequest)["message"].(string)
		if !strings.Contains(msg, "Array is too long (3), maximum 2") {
			t.Errorf("message = %q, want it to contain %q", msg, "Array is too long (3), maximum 2")
		}
	})

	t.Run("unknown credential", func(t *testing.T) {
		status, body := patch(sdkAttachBody(a, "cred_doesNotExist0000000000"))
		if status != http.StatusBadRequest {
			t.Fatalf("status = %d, want 400 (%s)", status, body)
		}
		sdkEnvelope(t, body, http.StatusBadRequest)
		// A credential of another client is unknown to this one.
		other := tn.AddClient("other", "non_interactive", []string{"client_credentials"})
		ocr, err := tn.CreateCredential(other.ID, sandbox.NewCredential{PEM: sdkPublicPEM(t, sdkKey(t, 5))})
		if err != nil {
			t.Fatal(err)
		}
		if status, body := patch(sdkAttachBody(ocr.ID)); status != http.StatusBadRequest {
			t.Errorf("attach another client's credential: %d, want 400 (%s)", status, body)
		}
	})

	t.Run("attach two", func(t *testing.T) {
		status, body := patch(sdkAttachBody(a, b))
		if status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (%s)", status, body)
		}
		for _, obj := range []map[string]any{sdkJSONObject(t, body), get()} {
			got, ok := sdkAttachedIDs(t, obj)
			if !ok || !slices.Equal(got, []string{a, b}) {
				t.Errorf("attached = %v, want [%s %s]", got, a, b)
			}
			if _, ok := obj["token_endpoint_auth_method"]; ok {
				t.Errorf("response has token_endpoint_auth_method: %v", obj["token_endpoint_auth_method"])
			}
			if _, ok := obj["client_secret"]; ok {
				t.Errorf("response has client_secret")
			}
		}
	})

	t.Run("list replaces wholesale", func(t *testing.T) {
		// token_endpoint_auth_method is already null, so it may be left out now.
		status, body := patch(`{"client_authentication_methods":{"private_key_jwt":{"credentials":[{"id":"` + b + `"}]}}}`)
		if status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (%s)", status, body)
		}
		got, _ := sdkAttachedIDs(t, get())
		if !slices.Equal(got, []string{b}) {
			t.Errorf("attached = %v, want only [%s]", got, b)
		}
		cl, _ := tn.Client(c.ID)
		if cl.PrivateKeyJWT == nil || !slices.Equal(*cl.PrivateKeyJWT, []string{b}) {
			t.Errorf("tenant attached = %v", cl.PrivateKeyJWT)
		}
	})

	t.Run("detached credential can be deleted, attached cannot", func(t *testing.T) {
		if status, _, body := sdkDo(t, srv, http.MethodDelete, path+"/credentials/"+b, tok, nil); status != http.StatusBadRequest {
			t.Errorf("delete attached: %d, want 400 (%s)", status, body)
		}
		if status, _, body := sdkDo(t, srv, http.MethodDelete, path+"/credentials/"+a, tok, nil); status != http.StatusNoContent {
			t.Errorf("delete detached: %d, want 204 (%s)", status, body)
		}
	})

	t.Run("revert to client secret", func(t *testing.T) {
		status, body := patch(`{"client_authentication_methods":null,"token_endpoint_auth_method":"client_secret_post"}`)
		if status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (%s)", status, body)
		}
		for _, obj := range []map[string]any{sdkJSONObject(t, body), get()} {
			if _, ok := obj["client_authentication_methods"]; ok {
				t.Errorf("client_authentication_methods still present: %v", obj["client_authentication_methods"])
			}
			if obj["token_endpoint_auth_method"] != "client_secret_post" {
				t.Errorf("token_endpoint_auth_method = %v, want client_secret_post", obj["token_endpoint_auth_method"])
			}
			if obj["client_secret"] != c.Secret {
				t.Errorf("client_secret not returned after revert")
			}
		}
		// The credentials stay in the pool, detached, and can be deleted now.
		if status, _, body := sdkDo(t, srv, http.MethodDelete, path+"/credentials/"+b, tok, nil); status != http.StatusNoContent {
			t.Errorf("delete after revert: %d, want 204 (%s)", status, body)
		}
	})

	t.Run("needs jwt_configuration.alg RS256", func(t *testing.T) {
		hs := tn.AddClient("hs256", "non_interactive", []string{"client_credentials"})
		cr, err := tn.CreateCredential(hs.ID, sandbox.NewCredential{PEM: sdkPublicPEM(t, sdkKey(t, 0))})
		if err != nil {
			t.Fatal(err)
		}
		hsPath := "/api/v2/clients/" + hs.ID
		if status, _, body := sdkDo(t, srv, http.MethodPatch, hsPath, tok, `{"jwt_configuration":{"alg":"HS256"}}`); status != http.StatusOK {
			t.Fatalf("set HS256: %d %s", status, body)
		}
		status, _, body := sdkDo(t, srv, http.MethodPatch, hsPath, tok, sdkAttachBody(cr.ID))
		if status != http.StatusBadRequest {
			t.Fatalf("attach with HS256: %d, want 400 (%s)", status, body)
		}
		status, _, body = sdkDo(t, srv, http.MethodPatch, hsPath, tok,
			`{"jwt_configuration":{"alg":"RS256"},"client_authentication_methods":{"private_key_jwt":{"credentials":[{"id":"`+cr.ID+`"}]}},"token_endpoint_auth_method":null}`)
		if status != http.StatusOK {
			t.Fatalf("attach with RS256 in the same PATCH: %d, want 200 (%s)", status, body)
		}
	})

	t.Run("go-auth0 reads the client", func(t *testing.T) {
		m := sdkManagement(t, srv, management.WithNoRetries())
		cl, err := m.Client.Read(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cl.GetTokenEndpointAuthMethod() != "client_secret_post" || cl.ClientAuthenticationMethods != nil {
			t.Errorf("go-auth0 sees token_endpoint_auth_method %q, client_authentication_methods %+v",
				cl.GetTokenEndpointAuthMethod(), cl.ClientAuthenticationMethods)
		}
	})
}

// ---------------------------------------------------------------------------------------------
// 4. Client grants
// ---------------------------------------------------------------------------------------------

func TestSDKClientGrants(t *testing.T) {
	srv, _ := sdkSandbox(t, 2)
	m := sdkManagement(t, srv, management.WithNoRetries())
	app := sdkNewM2M(t, srv, 0)
	other := sdkNewM2M(t, srv, 1)
	l, err := m.ClientGrant.List(context.Background(), management.Parameter("client_id", app.Client.ID))
	if err != nil {
		t.Fatalf("ClientGrant.List: %v", err)
	}
	if len(l.ClientGrants) != 1 {
		t.Fatalf("%d grants for the client, want 1: %+v", len(l.ClientGrants), l.ClientGrants)
	}
	g := l.ClientGrants[0]
	if g.GetClientID() != app.Client.ID || g.GetAudience() != app.Audience || g.GetID() == "" {
		t.Errorf("grant = id %s client %s audience %s", g.GetID(), g.GetClientID(), g.GetAudience())
	}
	if g.Scope == nil || !slices.Equal(*g.Scope, app.Scope) {
		t.Errorf("scope = %v, want %v", g.Scope, app.Scope)
	}
	if l.Total != 1 {
		t.Errorf("total = %d, want 1", l.Total)
	}
	l, err = m.ClientGrant.List(context.Background(), management.Parameter("audience", other.Audience))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.ClientGrants) != 1 || l.ClientGrants[0].GetClientID() != other.Client.ID {
		t.Errorf("grants for audience %s = %+v", other.Audience, l.ClientGrants)
	}
}

// ---------------------------------------------------------------------------------------------
// 5. Token exchange through go-auth0
// ---------------------------------------------------------------------------------------------

func TestSDKTokenExchange(t *testing.T) {
	srv, tn := sdkSandbox(t, 2)

	t.Run("assertion success and access token", func(t *testing.T) {
		app := sdkNewM2M(t, srv, 0)
		a := sdkAuth(t, srv, app.Client.ID, sdkPrivatePEM(t, app.Key))
		before := time.Now().Add(-2 * time.Second)
		ts, err := sdkLogin(a, app.Audience)
		if err != nil {
			t.Fatalf("LoginWithClientCredentials: %v", err)
		}
		if ts.AccessToken == "" || ts.TokenType != "Bearer" || ts.ExpiresIn != 86400 || ts.Scope != "read:data write:data" {
			t.Errorf("token set = type %q expires_in %d scope %q (token empty: %v)", ts.TokenType, ts.ExpiresIn, ts.Scope, ts.AccessToken == "")
		}
		if ts.IDToken != "" || ts.RefreshToken != "" {
			t.Errorf("client credentials returned id/refresh token")
		}
		parsed, claims := sdkVerifyAccessToken(t, srv, ts.AccessToken)
		if parsed.Header["typ"] != "JWT" || parsed.Header["alg"] != "RS256" {
			t.Errorf("header = %v", parsed.Header)
		}
		if want := "https://" + srv.Domain() + "/"; claims.Issuer != want {
			t.Errorf("iss = %q, want %q", claims.Issuer, want)
		}
		if claims.Subject != app.Client.ID+"@clients" {
			t.Errorf("sub = %q, want %s@clients", claims.Subject, app.Client.ID)
		}
		if !slices.Equal([]string(claims.Audience), []string{app.Audience}) {
			t.Errorf("aud = %v, want %s", claims.Audience, app.Audience)
		}
		if claims.GTY != "client-credentials" || claims.AZP != app.Client.ID || claims.Scope != "read:data write:data" {
			t.Errorf("gty/azp/scope = %q/%q/%q", claims.GTY, claims.AZP, claims.Scope)
		}
		if claims.IssuedAt == nil || claims.IssuedAt.Before(before) || claims.IssuedAt.After(time.Now().Add(2*time.Second)) {
			t.Errorf("iat = %v, want about now", claims.IssuedAt)
		}
		if claims.ExpiresAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) != 86400*time.Second {
			t.Errorf("exp - iat = %v, want 24h", claims.ExpiresAt)
		}
	})

	t.Run("management with private key JWT (no client_id in the token request)", func(t *testing.T) {
		c := tn.AddClient("pkjwt-admin", "non_interactive", []string{"client_credentials"})
		if _, err := tn.AddGrant(c.ID, srv.ManagementAudience(), sdkManagementScopes); err != nil {
			t.Fatal(err)
		}
		k := sdkKey(t, 1)
		cr, err := tn.CreateCredential(c.ID, sandbox.NewCredential{PEM: sdkPublicPEM(t, k), Alg: "RS256"})
		if err != nil {
			t.Fatal(err)
		}
		sdkAttach(t, tn, c.ID, cr.ID)
		m, err := management.New(srv.Domain(),
			management.WithClientCredentialsPrivateKeyJwt(sdkCtx(srv), c.ID, sdkPrivatePEM(t, k), "RS256"),
			management.WithClient(srv.HTTPClient()), management.WithNoRetries())
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Client.Read(context.Background(), c.ID)
		if err != nil {
			t.Fatalf("Client.Read with a private-key-JWT management token: %v", err)
		}
		if got.GetClientID() != c.ID {
			t.Errorf("read client %s", got.GetClientID())
		}
		creds, err := m.Client.ListCredentials(context.Background(), c.ID)
		if err != nil || len(creds) != 1 || creds[0].GetKeyID() != cr.KID {
			t.Errorf("ListCredentials = %v, %v", creds, err)
		}
	})

	t.Run("unknown audience", func(t *testing.T) {
		app := sdkNewM2M(t, srv, 2)
		a := sdkAuth(t, srv, app.Client.ID, sdkPrivatePEM(t, app.Key))
		aud := "https://unknown.example.com/"
		_, err := sdkLogin(a, aud)
		ae := sdkAuthError(t, err, http.StatusForbidden, "access_denied")
		if want := "Service not enabled within domain: " + aud; ae.Message != want {
			t.Errorf("error_description = %q, want %q", ae.Message, want)
		}
	})

	t.Run("no client grant", func(t *testing.T) {
		app := sdkNewM2M(t, srv, 3)
		aud := "https://nogrant.sdk-test.example.com/"
		tn.AddAPI(aud, "no grant")
		a := sdkAuth(t, srv, app.Client.ID, sdkPrivatePEM(t, app.Key))
		_, err := sdkLogin(a, aud)
		ae := sdkAuthError(t, err, http.StatusForbidden, "access_denied")
		want := fmt.Sprintf(`Client "%s" is not authorized to access resource server "%s". You need to create a "client-grant" associated to this API.`, app.Client.ID, aud)
		if ae.Message != want {
			t.Errorf("error_description = %q, want %q", ae.Message, want)
		}
	})

	t.Run("client secret", func(t *testing.T) {
		c := tn.AddClient("secret-client", "non_interactive", []string{"client_credentials"})
		aud := "https://secret.sdk-test.example.com/"
		tn.AddAPI(aud, "secret")
		if _, err := tn.AddGrant(c.ID, aud, []string{"read:data"}); err != nil {
			t.Fatal(err)
		}
		newAuth := func(secret string) *authentication.Authentication {
			a, err := authentication.New(context.Background(), srv.Domain(), authentication.WithClientID(c.ID),
				authentication.WithClientSecret(secret), authentication.WithClient(srv.HTTPClient()))
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		ts, err := sdkLogin(newAuth(c.Secret), aud)
		if err != nil || ts.AccessToken == "" || ts.Scope != "read:data" {
			t.Fatalf("right secret: %+v, %v", ts, err)
		}
		_, err = sdkLogin(newAuth(c.Secret+"x"), aud)
		sdkAuthError(t, err, http.StatusUnauthorized, "access_denied")
	})

	t.Run("wrong key through go-auth0", func(t *testing.T) {
		app := sdkNewM2M(t, srv, 4)
		a := sdkAuth(t, srv, app.Client.ID, sdkPrivatePEM(t, sdkKey(t, 5)))
		_, err := sdkLogin(a, app.Audience)
		sdkAuthError(t, err, http.StatusUnauthorized, "invalid_client")
	})
}

// ---------------------------------------------------------------------------------------------
// 7. Fault injection and rate-limit headers
// ---------------------------------------------------------------------------------------------

// sdkCheckRateLimitHeaders checks X-RateLimit-Limit/Remaining/Reset on a response.
func sdkCheckRateLimitHeaders(t testing.TB, what string, h http.Header) {
	t.Helper()
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Errorf("%s: rate-limit headers %q/%q/%q, want integers", what,
			h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"))
		return
	}
	if limit <= 0 || remaining < 0 || remaining > limit {
		t.Errorf("%s: limit %d remaining %d", what, limit, remaining)
	}
	now := time.Now().Unix()
	if reset < now-1 || reset > now+60 {
		t.Errorf("%s: X-RateLimit-Reset = %d, want epoch seconds near %d", what, reset, now)
	}
}

func TestSDKFaults(t *testing.T) {
	srv, _ := sdkSandbox(t, 2)
	tok := sdkAdminToken(t, srv)
	m := sdkManagement(t, srv, management.WithNoRetries())
	ctx := context.Background()
	app := sdkNewM2M(t, srv, 0)
	// Fetch the management token before any fault so that only /api/v2/ is affected.
	if _, err := m.Client.List(ctx, management.PerPage(1)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.SetFaults(nil) })

	t.Run("rate-limit headers on normal responses", func(t *testing.T) {
		srv.SetFaults(nil)
		_, h, _ := sdkDo(t, srv, http.MethodGet, "/api/v2/clients", tok, nil)
		sdkCheckRateLimitHeaders(t, "GET /api/v2/clients", h)
		_, h, _ = sdkDo(t, srv, http.MethodGet, "/api/v2/clients", "", nil)
		sdkCheckRateLimitHeaders(t, "401 from /api/v2/clients", h)
		_, h, _ = sdkDo(t, srv, http.MethodGet, "/.well-known/jwks.json", "", nil)
		sdkCheckRateLimitHeaders(t, "GET jwks", h)
		resp, err := srv.HTTPClient().PostForm("https://"+srv.Domain()+"/oauth/token", url.Values{"grant_type": {"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		sdkCheckRateLimitHeaders(t, "POST /oauth/token", resp.Header)
	})

	t.Run("429", func(t *testing.T) {
		srv.SetFaults([]sandbox.Fault{{Path: "/api/v2/", RateLimited: 1}})
		defer srv.SetFaults(nil)
		_, err := m.Client.List(ctx)
		sdkMgmtError(t, err, http.StatusTooManyRequests, "429 Too Many Requests: ")
		status, h, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients", tok, nil)
		if status != http.StatusTooManyRequests {
			t.Fatalf("status = %d, want 429", status)
		}
		sdkEnvelope(t, body, http.StatusTooManyRequests)
		reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
		now := time.Now().Unix()
		if err != nil || reset < now-1 || reset > now+5 {
			t.Errorf("X-RateLimit-Reset = %q, want epoch seconds within a few seconds of %d", h.Get("X-RateLimit-Reset"), now)
		}
		if h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Limit") == "" {
			t.Errorf("429 remaining/limit = %q/%q", h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Limit"))
		}
		// The token endpoint is not under /api/v2/ and keeps working.
		a := sdkAuth(t, srv, app.Client.ID, sdkPrivatePEM(t, app.Key))
		if _, err := sdkLogin(a, app.Audience); err != nil {
			t.Errorf("token exchange during /api/v2/ 429 fault: %v", err)
		}
	})

	t.Run("429 on the token endpoint", func(t *testing.T) {
		a := sdkAuth(t, srv, app.Client.ID, sdkPrivatePEM(t, app.Key), authentication.WithNoRetries())
		srv.SetFaults([]sandbox.Fault{{Path: "/oauth/token", RateLimited: 1}})
		defer srv.SetFaults(nil)
		_, err := sdkLogin(a, app.Audience)
		sdkAuthError(t, err, http.StatusTooManyRequests, "too_many_requests")
	})

	t.Run("5xx", func(t *testing.T) {
		srv.SetFaults([]sandbox.Fault{{Path: "/api/v2/", ErrorRate: 1}})
		defer srv.SetFaults(nil)
		_, err := m.Client.List(ctx)
		var me management.Error
		if !errors.As(err, &me) || me.Status() < 500 || me.Status() > 599 {
			t.Fatalf("error = %v, want a 5xx management.Error", err)
		}
		status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients", tok, nil)
		if status < 500 || status > 599 {
			t.Fatalf("status = %d, want 5xx", status)
		}
		sdkEnvelope(t, body, status)
	})

	t.Run("drop", func(t *testing.T) {
		srv.SetFaults([]sandbox.Fault{{Path: "/api/v2/", DropRate: 1}})
		defer srv.SetFaults(nil)
		req, _ := http.NewRequest(http.MethodGet, "https://"+srv.Domain()+"/api/v2/clients", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.HTTPClient().Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("dropped request got a response: %d", resp.StatusCode)
		}
		_, err = m.Client.List(ctx)
		var me management.Error
		if err == nil || errors.As(err, &me) {
			t.Errorf("go-auth0 error = %v, want a transport error, not a status", err)
		}
	})

	t.Run("latency", func(t *testing.T) {
		srv.SetFaults([]sandbox.Fault{{Path: "/api/v2/", Latency: 200 * time.Millisecond}})
		defer srv.SetFaults(nil)
		start := time.Now()
		status, _, body := sdkDo(t, srv, http.MethodGet, "/api/v2/clients", tok, nil)
		if took := time.Since(start); took < 200*time.Millisecond {
			t.Errorf("request took %v, want at least 200ms", took)
		}
		if status != http.StatusOK {
			t.Errorf("status = %d (%s), want 200 after the delay", status, body)
		}
	})

	t.Run("faults cleared", func(t *testing.T) {
		srv.SetFaults(nil)
		if _, err := m.Client.List(ctx, management.PerPage(1)); err != nil {
			t.Errorf("after SetFaults(nil): %v", err)
		}
	})
}

func TestSDKParseFault(t *testing.T) {
	f, err := sandbox.ParseFault("/api/v2/,latency=50ms,drop=0.05,5xx=0.1,429=0.2")
	if err != nil {
		t.Fatal(err)
	}
	want := sandbox.Fault{Path: "/api/v2/", Latency: 50 * time.Millisecond, DropRate: 0.05, ErrorRate: 0.1, RateLimited: 0.2}
	if f != want {
		t.Errorf("ParseFault = %+v, want %+v", f, want)
	}
	for _, bad := range []string{"api/v2", "/x,drop=2", "/x,5xx=-0.1", "/x,latency=fast", "/x,bogus=1"} {
		if _, err := sandbox.ParseFault(bad); err == nil {
			t.Errorf("ParseFault(%q) accepted", bad)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// 8. Concurrency
// ---------------------------------------------------------------------------------------------

func TestSDKConcurrentTokenExchanges(t *testing.T) {
	srv, tn := sdkSandbox(t, 2)
	const workers, perWorker = 20, 20
	apps := []sdkM2M{sdkNewM2M(t, srv, 0), sdkNewM2M(t, srv, 1), sdkNewM2M(t, srv, 2), sdkNewM2M(t, srv, 0)}
	// A second, pool-only credential on apps[0] that a writer attaches and detaches meanwhile.
	extra, err := tn.CreateCredential(apps[0].Client.ID, sandbox.NewCredential{PEM: sdkPublicPEM(t, sdkKey(t, 3))})
	if err != nil {
		t.Fatal(err)
	}
	tok := sdkAdminToken(t, srv)

	var failures atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	stop := make(chan struct{})
	hc := srv.HTTPClient()
	// Plain values for the goroutines: *sandbox.Client from AddClient is the tenant's live record
	// (see TestSDKAddClientReturnsSnapshot), so its fields are not read while the writer runs.
	type target struct{ id, audience, pem, credID string }
	targets := make([]target, len(apps))
	for i, app := range apps {
		targets[i] = target{app.Client.ID, app.Audience, sdkPrivatePEM(t, app.Key), app.Cred.ID}
	}
	var writer sync.WaitGroup
	writer.Add(1)
	go func() { // management traffic alongside the exchanges
		defer writer.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ids := []string{targets[0].credID}
			if i%2 == 0 {
				ids = append(ids, extra.ID)
			}
			if _, err := tn.UpdateClient(targets[0].id, sandbox.ClientPatch{AuthMethodsSet: true, PrivateKeyJWT: &ids}); err != nil {
				t.Errorf("writer: %v", err)
				return
			}
			req, _ := http.NewRequest(http.MethodGet, "https://"+srv.Domain()+"/api/v2/clients?per_page=10", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := hc.Do(req)
			if err != nil {
				t.Errorf("writer list: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("writer list: %d", resp.StatusCode)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			app := targets[w%len(targets)]
			a, err := authentication.New(context.Background(), srv.Domain(), authentication.WithClientID(app.id),
				authentication.WithClientAssertion(app.pem, "RS256"),
				authentication.WithClient(srv.HTTPClient()), authentication.WithNoRetries())
			if err != nil {
				failures.Add(perWorker)
				firstErr.Do(func() { t.Errorf("worker %d: authentication.New: %v", w, err) })
				return
			}
			for range perWorker {
				ts, err := sdkLogin(a, app.audience)
				if err == nil && ts.AccessToken == "" {
					err = errors.New("empty access token")
				}
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("worker %d: %v", w, err) })
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	writer.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d token exchanges failed", n, workers*perWorker)
	}
}

// ---------------------------------------------------------------------------------------------
// 9. Persistence
// ---------------------------------------------------------------------------------------------

func TestSDKPersistence(t *testing.T) {
	tn, path := sdkPersistedTenant(t, 4)
	srv1, err := sandbox.Start(sandbox.Options{Tenant: tn})
	if err != nil {
		t.Fatal(err)
	}
	app := sdkNewM2M(t, srv1, 0)
	expiry := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Millisecond)
	pool, err := tn.CreateCredential(app.Client.ID, sandbox.NewCredential{Name: "next", PEM: sdkPublicPEM(t, sdkKey(t, 1)), Alg: "PS256", ExpiresAt: &expiry})
	if err != nil {
		t.Fatal(err)
	}
	secretClient := tn.AddClient("secret", "regular_web", []string{"client_credentials", "authorization_code"})
	if _, err := sdkLogin(sdkAuth(t, srv1, app.Client.ID, sdkPrivatePEM(t, app.Key)), app.Audience); err != nil {
		t.Fatalf("exchange before restart: %v", err)
	}
	wantClient, _ := tn.Client(app.Client.ID)
	wantCreds, _ := tn.Credentials(app.Client.ID)
	wantGrants := tn.Grants(app.Client.ID, "")
	if err := srv1.Close(); err != nil {
		t.Fatal(err)
	}

	tn2, err := sandbox.LoadTenant(path)
	if err != nil {
		t.Fatalf("LoadTenant: %v", err)
	}
	gotClient, err := tn2.Client(app.Client.ID)
	if err != nil {
		t.Fatalf("client lost: %v", err)
	}
	if gotClient.Secret != wantClient.Secret || gotClient.Name != wantClient.Name || gotClient.TokenEndpointAuthMethod != nil {
		t.Errorf("client after load: name %q secret kept %v tema %v", gotClient.Name, gotClient.Secret == wantClient.Secret, gotClient.TokenEndpointAuthMethod)
	}
	if gotClient.PrivateKeyJWT == nil || !slices.Equal(*gotClient.PrivateKeyJWT, []string{app.Cred.ID}) {
		t.Errorf("attached after load = %v, want [%s]", gotClient.PrivateKeyJWT, app.Cred.ID)
	}
	gotCreds, err := tn2.Credentials(app.Client.ID)
	if err != nil || len(gotCreds) != len(wantCreds) {
		t.Fatalf("credentials after load = %d (%v), want %d", len(gotCreds), err, len(wantCreds))
	}
	for i, w := range wantCreds {
		g := gotCreds[i]
		if g.ID != w.ID || g.KID != w.KID || g.Alg != w.Alg || g.Name != w.Name || !g.CreatedAt.Equal(w.CreatedAt) ||
			(g.ExpiresAt == nil) != (w.ExpiresAt == nil) || (g.ExpiresAt != nil && !g.ExpiresAt.Equal(*w.ExpiresAt)) {
			t.Errorf("credential %d after load = %+v, want %+v", i, g, w)
		}
	}
	if pc, err := tn2.Credential(app.Client.ID, pool.ID); err != nil || pc.ExpiresAt == nil || !pc.ExpiresAt.Equal(expiry) || pc.Alg != "PS256" {
		t.Errorf("pool credential after load = %+v, %v", pc, err)
	}
	gotGrants := tn2.Grants(app.Client.ID, "")
	if len(gotGrants) != len(wantGrants) || len(gotGrants) == 0 || gotGrants[0].Audience != app.Audience || !slices.Equal(gotGrants[0].Scope, app.Scope) {
		t.Errorf("grants after load = %+v, want %+v", gotGrants, wantGrants)
	}
	if sc, err := tn2.Client(secretClient.ID); err != nil || sc.Secret != secretClient.Secret || sc.AppType != "regular_web" {
		t.Errorf("secret client after load = %+v, %v", sc, err)
	}

	srv2 := sdkStart(t, tn2)
	ts, err := sdkLogin(sdkAuth(t, srv2, app.Client.ID, sdkPrivatePEM(t, app.Key)), app.Audience)
	if err != nil {
		t.Fatalf("exchange after restart: %v", err)
	}
	if _, claims := sdkVerifyAccessToken(t, srv2, ts.AccessToken); claims.AZP != app.Client.ID {
		t.Errorf("azp = %s", claims.AZP)
	}
	// The restarted tenant still enforces its rules: the key that is only in the pool is refused.
	_, err = sdkLogin(sdkAuth(t, srv2, app.Client.ID, sdkPrivatePEM(t, sdkKey(t, 1))), app.Audience)
	sdkAuthError(t, err, http.StatusUnauthorized, "invalid_client")
	// Changes after the restart are persisted too once Persist is called again.
	if err := tn2.Persist(path); err != nil {
		t.Fatal(err)
	}
	sdkAttach(t, tn2, app.Client.ID, app.Cred.ID, pool.ID)
	tn3, err := sandbox.LoadTenant(path)
	if err != nil {
		t.Fatal(err)
	}
	if c3, _ := tn3.Client(app.Client.ID); c3.PrivateKeyJWT == nil || len(*c3.PrivateKeyJWT) != 2 {
		t.Errorf("attach after the second Persist not saved: %v", c3.PrivateKeyJWT)
	}
}

// A credential made from a certificate stays in the pool after the certificate expires (Auth0
// keeps it, inoperable); a tenant holding one must still load.
func TestSDKPersistenceExpiredCertificate(t *testing.T) {
	tn, path := sdkPersistedTenant(t, 2)
	c := tn.AddClient("short-cert", "non_interactive", []string{"client_credentials"})
	notAfter := time.Now().Add(1500 * time.Millisecond)
	certPEM, err := keys.SelfSignedCert(sdkKey(t, 2), "short", time.Now().Add(-time.Hour), notAfter)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := tn.CreateCredential(c.ID, sandbox.NewCredential{PEM: string(certPEM), ParseExpiryFromCert: true})
	if err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	sdkAttach(t, tn, c.ID, cr.ID)
	time.Sleep(time.Until(cert.NotAfter) + 100*time.Millisecond)

	tn2, err := sandbox.LoadTenant(path)
	if err != nil {
		t.Fatalf("LoadTenant of a tenant whose credential certificate has expired: %v", err)
	}
	got, err := tn2.Credential(c.ID, cr.ID)
	if err != nil {
		t.Fatalf("expired credential lost: %v", err)
	}
	if got.ExpiresAt == nil || !got.ExpiresAt.Equal(cert.NotAfter) {
		t.Errorf("expires_at = %v, want %v", got.ExpiresAt, cert.NotAfter)
	}
}

// AddClient hands back a *Client; it must be a snapshot, not the tenant's live record, or every
// caller that reads it (c.ID, c.Secret) races with UpdateClient, which overwrites the record.
// Run with -race to see the race; the Name check fails without -race too.
func TestSDKAddClientReturnsSnapshot(t *testing.T) {
	tn, err := sandbox.NewTenant(2)
	if err != nil {
		t.Fatal(err)
	}
	c := tn.AddClient("original", "non_interactive", []string{"client_credentials"})
	id := c.ID
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			name := fmt.Sprintf("renamed-%d", i)
			if _, err := tn.UpdateClient(id, sandbox.ClientPatch{Name: &name}); err != nil {
				t.Errorf("UpdateClient: %v", err)
				return
			}
		}
	}()
	for range 200 {
		if c.ID != id { // concurrent read of the returned client
			t.Errorf("client id changed")
		}
	}
	<-done
	if c.Name != "original" {
		t.Errorf("the *Client returned by AddClient changed under the caller: Name = %q, want %q", c.Name, "original")
	}
}

// Tenant.Client returns a copy, but its Credentials slice shares the tenant's live
// *Credential records and backing array: SetCredentialExpiry and DeleteCredential then change
// what a caller already holds, and race with its reads (run with -race).
func TestSDKClientCopyIsSnapshot(t *testing.T) {
	tn, err := sandbox.NewTenant(2)
	if err != nil {
		t.Fatal(err)
	}
	id := tn.AddClient("copy", "non_interactive", []string{"client_credentials"}).ID
	a, err := tn.CreateCredential(id, sandbox.NewCredential{PEM: sdkPublicPEM(t, sdkKey(t, 0))})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tn.CreateCredential(id, sandbox.NewCredential{PEM: sdkPublicPEM(t, sdkKey(t, 1))})
	if err != nil {
		t.Fatal(err)
	}
	held, err := tn.Client(id)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			if _, err := tn.SetCredentialExpiry(id, a.ID, time.Now().Add(time.Duration(i+1)*time.Hour)); err != nil {
				t.Errorf("SetCredentialExpiry: %v", err)
				return
			}
		}
		if err := tn.DeleteCredential(id, a.ID); err != nil {
			t.Errorf("DeleteCredential: %v", err)
		}
	}()
	for range 100 {
		_ = held.Credentials[0].ExpiresAt // concurrent read of the copy
	}
	<-done
	if len(held.Credentials) != 2 || held.Credentials[0] == nil || held.Credentials[1] == nil ||
		held.Credentials[0].ID != a.ID || held.Credentials[1].ID != b.ID || held.Credentials[0].ExpiresAt != nil {
		var got []string
		for _, c := range held.Credentials {
			if c == nil {
				got = append(got, "<nil>")
			} else {
				got = append(got, fmt.Sprintf("%s expires %v", c.ID, c.ExpiresAt))
			}
		}
		t.Errorf("copy returned by Tenant.Client changed after later writes: %v, want [%s (no expiry), %s]", got, a.ID, b.ID)
	}
}

// TestSDKManagementScopes: each endpoint needs its scope in the token, as in Auth0.
func TestSDKManagementScopes(t *testing.T) {
	srv, tn := sdkSandbox(t, 2)
	reader, m := sdkScopedManagement(t, srv, "read-only admin", "read:clients", "read:client_credentials")
	ctx := sdkCtx(srv)
	if _, err := m.Client.Read(ctx, reader.ID); err != nil {
		t.Fatalf("read with read:clients: %v", err)
	}
	if _, err := m.Client.ListCredentials(ctx, reader.ID); err != nil {
		t.Fatalf("list credentials with read:client_credentials: %v", err)
	}
	err := m.Client.CreateCredential(ctx, reader.ID, sdkNewCredential("x", sdkPublicPEM(t, sdkKey(t, 0)), "RS256"))
	sdkMgmtError(t, err, http.StatusForbidden, "Insufficient scope, expected any of: create:client_credentials")
	err = m.Client.DeleteCredential(ctx, reader.ID, "cred_nope")
	sdkMgmtError(t, err, http.StatusForbidden, "Insufficient scope, expected any of: delete:client_credentials")
	if creds, _ := tn.Credentials(reader.ID); len(creds) != 0 {
		t.Errorf("a forbidden request changed the pool: %+v", creds)
	}
}

// TestSDKLastUsed: the sandbox records which credential verified a client's assertion.
func TestSDKLastUsed(t *testing.T) {
	srv, tn := sdkSandbox(t, 2)
	app := sdkNewM2M(t, srv, 0)
	if _, ok := tn.LastUsed(app.Client.ID, app.Cred.KID); ok {
		t.Fatal("a credential that never authenticated has a last use")
	}
	before := time.Now().Add(-time.Second)
	if _, err := sdkLogin(sdkAuth(t, srv, app.Client.ID, sdkPrivatePEM(t, app.Key)), app.Audience); err != nil {
		t.Fatal(err)
	}
	at, ok := tn.LastUsed(app.Client.ID, app.Cred.KID)
	if !ok || at.Before(before) {
		t.Fatalf("last use of %s: %v %v", app.Cred.KID, at, ok)
	}
	if _, ok := tn.LastUsed(app.Client.ID, "other-kid"); ok {
		t.Error("another kid has a last use")
	}
}
