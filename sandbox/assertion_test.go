package sandbox_test

// The Private Key JWT client-assertion rules of POST /oauth/token (auth0-facts §1.6, §2, §5.4),
// with assertions built by hand so each rule can be broken on its own. Every failure must be
// 401 {"error":"invalid_client"}.

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"rekey/sandbox"
)

const asnAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// asnJTI returns a fresh random jti.
func asnJTI(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// asnFreeze fixes the tenant's clock at a whole second near now for the rest of the test.
func asnFreeze(t testing.TB, tn *sandbox.Tenant) time.Time {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	tn.SetClock(func() time.Time { return now })
	t.Cleanup(func() { tn.SetClock(time.Now) })
	return now
}

// asnClaims are valid assertion claims for clientID at now: aud https://DOMAIN/, 60 s lifetime.
func asnClaims(t testing.TB, srv *sandbox.Server, clientID string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": clientID, "sub": clientID, "aud": "https://" + srv.Domain() + "/",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": asnJTI(t),
	}
}

// asnSign signs claims with key; a non-empty kid goes into the header.
func asnSign(t testing.TB, key *rsa.PrivateKey, method jwt.SigningMethod, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign assertion: %v", err)
	}
	return s
}

// asnExchange posts a client-credentials request with the assertion; clientID "" omits client_id.
func asnExchange(t testing.TB, srv *sandbox.Server, assertion, clientID, audience string) (int, []byte) {
	t.Helper()
	form := url.Values{
		"grant_type": {"client_credentials"}, "client_assertion_type": {asnAssertionType},
		"client_assertion": {assertion}, "audience": {audience},
	}
	if clientID != "" {
		form.Set("client_id", clientID)
	}
	return sdkPostForm(t, srv, form)
}

// asnAccept expects a 200 with a Bearer token.
func asnAccept(t testing.TB, srv *sandbox.Server, assertion, clientID, audience string) {
	t.Helper()
	status, body := asnExchange(t, srv, assertion, clientID, audience)
	if status != http.StatusOK {
		t.Fatalf("assertion refused: %d %s", status, body)
	}
	var tok sdkTokenResponse
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("token response %s: %v", body, err)
	}
}

// asnReject expects 401 invalid_client.
func asnReject(t testing.TB, srv *sandbox.Server, assertion, clientID, audience string) {
	t.Helper()
	status, body := asnExchange(t, srv, assertion, clientID, audience)
	var e sdkOAuthErrorBody
	json.Unmarshal(body, &e)
	if status != http.StatusUnauthorized || e.Error != "invalid_client" {
		t.Fatalf("got %d %s, want 401 invalid_client", status, body)
	}
	if e.Description == "" {
		t.Errorf("no error_description: %s", body)
	}
}

func TestAssertionRules(t *testing.T) {
	srv, tn := sdkSandbox(t, 4)
	issuer := "https://" + srv.Domain() + "/"

	// valid returns a fresh client and a function building a valid assertion for it at now.
	valid := func(t *testing.T, keyIdx int) (sdkM2M, func(now time.Time) jwt.MapClaims) {
		app := sdkNewM2M(t, srv, keyIdx)
		return app, func(now time.Time) jwt.MapClaims { return asnClaims(t, srv, app.Client.ID, now) }
	}
	rs256 := jwt.SigningMethodRS256

	t.Run("baseline accepted", func(t *testing.T) {
		app, claims := valid(t, 0)
		asnAccept(t, srv, asnSign(t, app.Key, rs256, "", claims(time.Now())), app.Client.ID, app.Audience)
	})

	t.Run("client_id absent accepted", func(t *testing.T) {
		app, claims := valid(t, 0)
		asnAccept(t, srv, asnSign(t, app.Key, rs256, "", claims(time.Now())), "", app.Audience)
	})

	t.Run("JSON body accepted", func(t *testing.T) {
		app, claims := valid(t, 0)
		body, _ := json.Marshal(map[string]string{
			"grant_type": "client_credentials", "client_assertion_type": asnAssertionType,
			"client_assertion": asnSign(t, app.Key, rs256, "", claims(time.Now())), "audience": app.Audience,
		})
		status, _, resp := sdkDo(t, srv, http.MethodPost, "/oauth/token", "", string(body))
		if status != http.StatusOK {
			t.Fatalf("JSON token request: %d %s", status, resp)
		}
	})

	t.Run("alg must match the credential", func(t *testing.T) {
		app, claims := valid(t, 0) // credential RS256
		asnReject(t, srv, asnSign(t, app.Key, jwt.SigningMethodPS256, "", claims(time.Now())), app.Client.ID, app.Audience)
		asnReject(t, srv, asnSign(t, app.Key, jwt.SigningMethodRS384, "", claims(time.Now())), app.Client.ID, app.Audience)
	})

	t.Run("PS256 and RS384 credentials", func(t *testing.T) {
		for i, alg := range []jwt.SigningMethod{jwt.SigningMethodPS256, jwt.SigningMethodRS384} {
			app, claims := valid(t, i+1)
			cr, err := tn.CreateCredential(app.Client.ID, sandbox.NewCredential{PEM: sdkPublicPEM(t, sdkKey(t, 4)), Alg: alg.Alg()})
			if err != nil {
				t.Fatal(err)
			}
			sdkAttach(t, tn, app.Client.ID, cr.ID)
			asnAccept(t, srv, asnSign(t, sdkKey(t, 4), alg, "", claims(time.Now())), app.Client.ID, app.Audience)
			asnReject(t, srv, asnSign(t, sdkKey(t, 4), rs256, "", claims(time.Now())), app.Client.ID, app.Audience)
		}
	})

	t.Run("HS256 and none refused", func(t *testing.T) {
		app, claims := valid(t, 0)
		// Classic confusion: HMAC keyed with the public key PEM.
		hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(time.Now()))
		s, err := hs.SignedString([]byte(sdkPublicPEM(t, app.Key)))
		if err != nil {
			t.Fatal(err)
		}
		asnReject(t, srv, s, app.Client.ID, app.Audience)
		none := jwt.NewWithClaims(jwt.SigningMethodNone, claims(time.Now()))
		s, err = none.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		asnReject(t, srv, s, app.Client.ID, app.Audience)
	})

	t.Run("iss must equal sub", func(t *testing.T) {
		app, claims := valid(t, 0)
		other := tn.AddClient("other", "non_interactive", []string{"client_credentials"})
		c := claims(time.Now())
		c["sub"] = other.ID
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), "", app.Audience)
		c = claims(time.Now())
		delete(c, "sub")
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), "", app.Audience)
	})

	t.Run("client_id must equal iss", func(t *testing.T) {
		app, claims := valid(t, 0)
		other := sdkNewM2M(t, srv, 1)
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", claims(time.Now())), other.Client.ID, app.Audience)
	})

	t.Run("unknown client", func(t *testing.T) {
		app, claims := valid(t, 0)
		c := claims(time.Now())
		c["iss"], c["sub"] = "no-such-client", "no-such-client"
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), "", app.Audience)
	})

	t.Run("aud", func(t *testing.T) {
		app, claims := valid(t, 0)
		for _, bad := range []any{
			"https://other.example.com/", "https://" + srv.Domain() + "/api/v2/", app.Audience,
			[]string{"https://other.example.com/"}, []string{},
		} {
			c := claims(time.Now())
			c["aud"] = bad
			status, body := asnExchange(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
			if status != http.StatusUnauthorized || !strings.Contains(string(body), `"invalid_client"`) {
				t.Errorf("aud %v: %d %s, want 401 invalid_client", bad, status, body)
			}
		}
		c := claims(time.Now())
		delete(c, "aud")
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)

		for _, good := range []any{
			issuer,                 // string, as the docs show
			[]string{issuer},       // go-auth0 v1.35.0
			issuer + "oauth/token", // support-article form
			[]string{issuer + "oauth/token"},
			[]string{"https://other.example.com/", issuer + "oauth/token"},
		} {
			c := claims(time.Now())
			c["aud"] = good
			status, body := asnExchange(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
			if status != http.StatusOK {
				t.Errorf("aud %v: %d %s, want 200", good, status, body)
			}
		}
	})

	t.Run("lifetime exp - iat", func(t *testing.T) {
		app, claims := valid(t, 0)
		now := asnFreeze(t, tn)
		c := claims(now)
		c["exp"] = now.Add(301 * time.Second).Unix()
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
		c = claims(now)
		c["exp"] = now.Add(300 * time.Second).Unix()
		asnAccept(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
		// Without iat, the lifetime counts from now.
		c = claims(now)
		delete(c, "iat")
		c["exp"] = now.Add(10 * time.Minute).Unix()
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
	})

	t.Run("exp", func(t *testing.T) {
		app, claims := valid(t, 0)
		now := asnFreeze(t, tn)
		c := claims(now)
		delete(c, "exp")
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
		c = claims(now)
		c["iat"], c["nbf"], c["exp"] = now.Add(-2*time.Minute).Unix(), now.Add(-2*time.Minute).Unix(), now.Add(-time.Second).Unix()
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
	})

	t.Run("iat clock skew", func(t *testing.T) {
		app, claims := valid(t, 0)
		now := asnFreeze(t, tn)
		c := claims(now)
		c["iat"], c["nbf"], c["exp"] = now.Add(11*time.Second).Unix(), now.Unix(), now.Add(70*time.Second).Unix()
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
		c = claims(now)
		c["iat"], c["nbf"], c["exp"] = now.Add(9*time.Second).Unix(), now.Unix(), now.Add(70*time.Second).Unix()
		asnAccept(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
		c = claims(now)
		delete(c, "iat")
		asnAccept(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
	})

	t.Run("nbf clock skew", func(t *testing.T) {
		app, claims := valid(t, 0)
		now := asnFreeze(t, tn)
		c := claims(now)
		c["nbf"] = now.Add(11 * time.Second).Unix()
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
		c = claims(now)
		c["nbf"] = now.Add(9 * time.Second).Unix()
		asnAccept(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
		c = claims(now)
		delete(c, "nbf")
		asnAccept(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)
	})

	t.Run("jti", func(t *testing.T) {
		app, claims := valid(t, 0)
		c := claims(time.Now())
		delete(c, "jti")
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)

		c = claims(time.Now())
		c["jti"] = strings.Repeat("j", 65)
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c), app.Client.ID, app.Audience)

		c = claims(time.Now())
		s := asnSign(t, app.Key, rs256, "", c)
		asnAccept(t, srv, s, app.Client.ID, app.Audience)
		asnReject(t, srv, s, app.Client.ID, app.Audience) // the same assertion again
		c2 := claims(time.Now())
		c2["jti"] = c["jti"]
		c2["exp"] = time.Now().Add(2 * time.Minute).Unix()
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", c2), app.Client.ID, app.Audience) // a new assertion, same jti
	})

	t.Run("size limit 2048 bytes", func(t *testing.T) {
		app, claims := valid(t, 0)
		// Find paddings that give an assertion of at most 2048 bytes and one just over.
		sigLen := len(asnSign(t, app.Key, rs256, "", claims(time.Now()))) - len(mustSigningString(t, claims(time.Now()), rs256))
		var under, over jwt.MapClaims
		underLen := 0
		for pad := 0; pad < 2048 && over == nil; pad++ {
			c := claims(time.Now())
			c["jti"] = strings.Repeat("a", 32)
			c["pad"] = strings.Repeat("x", pad)
			n := len(mustSigningString(t, c, rs256)) + sigLen
			switch {
			case n <= 2048:
				under, underLen = c, n
			default:
				over = c
			}
		}
		if under == nil || over == nil || underLen < 2045 {
			t.Fatalf("could not size assertions (under %d)", underLen)
		}
		under["jti"], over["jti"] = asnJTI(t), asnJTI(t)
		us, os := asnSign(t, app.Key, rs256, "", under), asnSign(t, app.Key, rs256, "", over)
		if len(us) > 2048 || len(os) <= 2048 {
			t.Fatalf("sizes %d / %d", len(us), len(os))
		}
		asnAccept(t, srv, us, app.Client.ID, app.Audience)
		asnReject(t, srv, os, app.Client.ID, app.Audience)
	})

	t.Run("created but not attached", func(t *testing.T) {
		app, claims := valid(t, 0)
		k := sdkKey(t, 1)
		if _, err := tn.CreateCredential(app.Client.ID, sandbox.NewCredential{PEM: sdkPublicPEM(t, k), Alg: "RS256"}); err != nil {
			t.Fatal(err)
		}
		asnReject(t, srv, asnSign(t, k, rs256, "", claims(time.Now())), app.Client.ID, app.Audience)
		// A client with no client_authentication_methods at all.
		bare := tn.AddClient("bare", "non_interactive", []string{"client_credentials"})
		if _, err := tn.AddGrant(bare.ID, app.Audience, []string{"read:data"}); err != nil {
			t.Fatal(err)
		}
		if _, err := tn.CreateCredential(bare.ID, sandbox.NewCredential{PEM: sdkPublicPEM(t, k)}); err != nil {
			t.Fatal(err)
		}
		asnReject(t, srv, asnSign(t, k, rs256, "", asnClaims(t, srv, bare.ID, time.Now())), bare.ID, app.Audience)
	})

	t.Run("expired credential", func(t *testing.T) {
		app, claims := valid(t, 0)
		now := asnFreeze(t, tn)
		k := sdkKey(t, 1)
		exp := now.Add(time.Hour)
		cr, err := tn.CreateCredential(app.Client.ID, sandbox.NewCredential{PEM: sdkPublicPEM(t, k), ExpiresAt: &exp})
		if err != nil {
			t.Fatal(err)
		}
		sdkAttach(t, tn, app.Client.ID, app.Cred.ID, cr.ID)
		asnAccept(t, srv, asnSign(t, k, rs256, "", claims(now)), app.Client.ID, app.Audience)
		later := now.Add(2 * time.Hour)
		tn.SetClock(func() time.Time { return later })
		asnReject(t, srv, asnSign(t, k, rs256, "", claims(later)), app.Client.ID, app.Audience)
		asnReject(t, srv, asnSign(t, k, rs256, cr.KID, claims(later)), app.Client.ID, app.Audience)
		// The other, unexpired credential still works.
		asnAccept(t, srv, asnSign(t, app.Key, rs256, "", claims(later)), app.Client.ID, app.Audience)
	})

	t.Run("expiry set later", func(t *testing.T) {
		app, claims := valid(t, 0)
		now := asnFreeze(t, tn)
		if _, err := tn.SetCredentialExpiry(app.Client.ID, app.Cred.ID, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		asnAccept(t, srv, asnSign(t, app.Key, rs256, "", claims(now)), app.Client.ID, app.Audience)
		later := now.Add(2 * time.Minute)
		tn.SetClock(func() time.Time { return later })
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", claims(later)), app.Client.ID, app.Audience)
	})

	t.Run("signed with a different key", func(t *testing.T) {
		app, claims := valid(t, 0)
		asnReject(t, srv, asnSign(t, sdkKey(t, 5), rs256, "", claims(time.Now())), app.Client.ID, app.Audience)
		// The right kid does not help a wrong key.
		asnReject(t, srv, asnSign(t, sdkKey(t, 5), rs256, app.Cred.KID, claims(time.Now())), app.Client.ID, app.Audience)
		// A tampered payload fails the signature.
		s := asnSign(t, app.Key, rs256, "", claims(time.Now()))
		parts := strings.Split(s, ".")
		other := asnSign(t, app.Key, rs256, "", claims(time.Now()))
		asnReject(t, srv, parts[0]+"."+strings.Split(other, ".")[1]+"."+parts[2], app.Client.ID, app.Audience)
	})

	t.Run("kid header", func(t *testing.T) {
		app, claims := valid(t, 0)
		asnAccept(t, srv, asnSign(t, app.Key, rs256, app.Cred.KID, claims(time.Now())), app.Client.ID, app.Audience)
		asnReject(t, srv, asnSign(t, app.Key, rs256, "unknown-kid-0123456789", claims(time.Now())), app.Client.ID, app.Audience)
	})

	t.Run("two attached credentials, then rotation", func(t *testing.T) {
		app, claims := valid(t, 0)
		newKey := sdkKey(t, 1)
		cr, err := tn.CreateCredential(app.Client.ID, sandbox.NewCredential{PEM: sdkPublicPEM(t, newKey), Alg: "RS256"})
		if err != nil {
			t.Fatal(err)
		}
		// Only the old key until the new one is attached.
		asnReject(t, srv, asnSign(t, newKey, rs256, "", claims(time.Now())), "", app.Audience)
		sdkAttach(t, tn, app.Client.ID, app.Cred.ID, cr.ID)
		asnAccept(t, srv, asnSign(t, app.Key, rs256, "", claims(time.Now())), "", app.Audience)
		asnAccept(t, srv, asnSign(t, newKey, rs256, "", claims(time.Now())), app.Client.ID, app.Audience)
		asnAccept(t, srv, asnSign(t, newKey, rs256, cr.KID, claims(time.Now())), app.Client.ID, app.Audience)
		asnAccept(t, srv, asnSign(t, app.Key, rs256, app.Cred.KID, claims(time.Now())), app.Client.ID, app.Audience)
		// A kid naming one credential does not let the other key in.
		asnReject(t, srv, asnSign(t, app.Key, rs256, cr.KID, claims(time.Now())), app.Client.ID, app.Audience)
		// Detach the old credential.
		sdkAttach(t, tn, app.Client.ID, cr.ID)
		asnReject(t, srv, asnSign(t, app.Key, rs256, "", claims(time.Now())), app.Client.ID, app.Audience)
		asnAccept(t, srv, asnSign(t, newKey, rs256, "", claims(time.Now())), app.Client.ID, app.Audience)
		if err := tn.DeleteCredential(app.Client.ID, app.Cred.ID); err != nil {
			t.Fatalf("delete the detached old credential: %v", err)
		}
		asnAccept(t, srv, asnSign(t, newKey, rs256, "", claims(time.Now())), app.Client.ID, app.Audience)
	})

	t.Run("same key on two clients", func(t *testing.T) {
		a, claimsA := valid(t, 2)
		b, claimsB := valid(t, 2)
		asnAccept(t, srv, asnSign(t, a.Key, rs256, "", claimsA(time.Now())), "", a.Audience)
		asnAccept(t, srv, asnSign(t, b.Key, rs256, "", claimsB(time.Now())), "", b.Audience)
		// An assertion of client A does not get a token for client B's grant.
		status, _ := asnExchange(t, srv, asnSign(t, a.Key, rs256, "", claimsA(time.Now())), "", b.Audience)
		if status != http.StatusForbidden {
			t.Errorf("client A for client B's API: %d, want 403", status)
		}
	})

	t.Run("client secret refused once private_key_jwt is set", func(t *testing.T) {
		app, _ := valid(t, 0)
		status, body := sdkPostForm(t, srv, url.Values{"grant_type": {"client_credentials"}, "client_id": {app.Client.ID},
			"client_secret": {app.Client.Secret}, "audience": {app.Audience}})
		if status != http.StatusUnauthorized {
			t.Errorf("secret of a private_key_jwt client: %d %s, want 401", status, body)
		}
	})

	t.Run("wrong client_assertion_type", func(t *testing.T) {
		app, claims := valid(t, 0)
		status, body := sdkPostForm(t, srv, url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:example:wrong"}, "client_assertion": {asnSign(t, app.Key, rs256, "", claims(time.Now()))},
			"audience": {app.Audience}})
		if status < 400 || status > 401 {
			t.Errorf("wrong assertion type: %d %s, want 400 or 401", status, body)
		}
	})
}

// mustSigningString is the unsigned "header.payload" part of a JWT with these claims.
func mustSigningString(t testing.TB, c jwt.MapClaims, m jwt.SigningMethod) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SigningString()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
