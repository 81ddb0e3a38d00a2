package steps_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rekey/steps"
	"rekey/tenant"
)

// TestBadInputs: wrong clients, system configs, credentials, tenants and options are refused
// with errors that say what is wrong, before anything changes. The subtests share one
// sandbox because each must leave it as it found it, which each checks.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// expectNothingChanged runs after every case: files, tenant and keys as before, and no
	// journal in progress.
	expectNothingChanged := func(t *testing.T, before snapshot) {
		t.Helper()
		e.assertUnchanged(t, before)
		if j := e.journal(); j != nil {
			t.Errorf("a refused rotation left a journal in progress: %+v", j)
		}
		if recs := e.auditRecords(); len(recs) != 0 {
			t.Errorf("a refused rotation wrote audit records: %+v", recs)
		}
	}

	t.Run("unknown-client", func(t *testing.T) {
		before := e.snapshot()
		opts := e.opts
		opts.Client = "billing-wroker"
		r := call(ctx, steps.Rotate, opts, e.deps(nil, nil), nil)
		var nf *tenant.NotFoundError
		if !errors.As(r.err, &nf) {
			t.Fatalf("Rotate = %v, want a *tenant.NotFoundError", r.err)
		}
		if !strings.Contains(r.err.Error(), `"billing-worker"`) {
			t.Errorf("the error does not suggest billing-worker: %v", r.err)
		}
		if r.res.Status != steps.StatusFailed || r.res.Error == "" {
			t.Errorf("result %+v, want failed with the error", r.res)
		}
		expectNothingChanged(t, before)
	})

	t.Run("missing-system-config", func(t *testing.T) {
		before := e.snapshot()
		opts := e.opts
		opts.SystemConfig = filepath.Join(e.dir, "systems", "no-such-service.json")
		r := call(ctx, steps.Rotate, opts, e.deps(nil, nil), nil)
		if !errors.Is(r.err, fs.ErrNotExist) || !strings.Contains(r.err.Error(), opts.SystemConfig) {
			t.Errorf("Rotate = %v, want a not-exist error naming %s", r.err, opts.SystemConfig)
		}
		expectNothingChanged(t, before)
	})

	t.Run("garbled-system-config", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "service.json")
		if err := os.WriteFile(path, []byte(`{"credentials": [{"kid": "x", "alg": `), 0o600); err != nil {
			t.Fatal(err)
		}
		before := e.snapshot()
		opts := e.opts
		opts.SystemConfig = path
		r := call(ctx, steps.Rotate, opts, e.deps(nil, nil), nil)
		if r.err == nil || !strings.Contains(r.err.Error(), path) {
			t.Errorf("Rotate = %v, want an error naming %s", r.err, path)
		}
		expectNothingChanged(t, before)
		if got := readFile(t, path); string(got) != `{"credentials": [{"kid": "x", "alg": ` {
			t.Errorf("the garbled system config was rewritten: %q", got)
		}
	})

	t.Run("wrong-management-credentials", func(t *testing.T) {
		before := e.snapshot()
		cfg := e.cfg
		cfg.ClientSecret = "not-the-secret"
		conn, err := tenant.Connect(cfg)
		if err != nil {
			t.Fatal(err)
		}
		deps := e.deps(nil, nil)
		deps.Tenant = steps.TenantAPI{Conn: conn, Config: cfg}
		r := call(ctx, steps.Rotate, e.opts, deps, nil)
		if !errors.Is(r.err, tenant.ErrUnauthorized) {
			t.Errorf("Rotate = %v, want tenant.ErrUnauthorized", r.err)
		}
		expectNothingChanged(t, before)
	})

	t.Run("tenant-unreachable", func(t *testing.T) {
		before := e.snapshot()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := ln.Addr().String()
		ln.Close()
		cfg := e.cfg
		cfg.Domain = closed
		conn, err := tenant.Connect(cfg)
		if err != nil {
			t.Fatal(err)
		}
		deps := e.deps(nil, nil)
		deps.Tenant = steps.TenantAPI{Conn: conn, Config: cfg}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		r := call(cctx, steps.Rotate, e.opts, deps, nil)
		if !errors.Is(r.err, tenant.ErrUnreachable) {
			t.Errorf("Rotate = %v, want tenant.ErrUnreachable", r.err)
		}
		expectNothingChanged(t, before)
	})

	t.Run("options", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			change func(*steps.Options)
			want   []string // in the message
		}{
			{"bad-alg", func(o *steps.Options) { o.Alg = "HS256" }, []string{"HS256", "RS256", "RS384", "PS256"}},
			{"1024-bits", func(o *steps.Options) { o.Bits = 1024 }, []string{"1024", "2048, 3072 or 4096"}},
			{"key-dir-inside-terraform", func(o *steps.Options) { o.KeyDir = filepath.Join(o.TerraformDir, "keys") }, []string{"inside the Terraform folder", "--key-dir"}},
			{"key-dir-is-terraform", func(o *steps.Options) { o.KeyDir = o.TerraformDir }, []string{"inside the Terraform folder"}},
			{"negative-cert-days", func(o *steps.Options) { o.CertDays = new(-1) }, []string{"-1"}},
			{"verify-count", func(o *steps.Options) { o.VerifyCount = 101 }, []string{"101"}},
			{"no-client", func(o *steps.Options) { o.Client = "" }, []string{"no client"}},
			{"no-terraform-folder", func(o *steps.Options) { o.TerraformDir = filepath.Join(e.dir, "nowhere") }, []string{"nowhere", "does not exist"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot()
				opts := e.opts
				tc.change(&opts)
				r := call(ctx, steps.Rotate, opts, e.deps(nil, nil), nil)
				if r.err == nil {
					t.Fatalf("Rotate accepted the options")
				}
				for _, w := range tc.want {
					if !strings.Contains(r.err.Error(), w) {
						t.Errorf("the error does not mention %q: %v", w, r.err)
					}
				}
				if r.res.Status != steps.StatusFailed {
					t.Errorf("status %q, want failed", r.res.Status)
				}
				expectNothingChanged(t, before)
				if _, err := os.Stat(filepath.Join(opts.TerraformDir, "keys")); err == nil {
					t.Errorf("a key folder was created inside the Terraform folder")
				}
			})
		}
	})
}

// TestUnreadableOldKeyFile: the system config lists the current key with a private key file
// that cannot be used (corrupted). Preflight warns about the current key and, with
// AutoApprove, the operator accepts the warning. Having accepted it, the rotation must be
// able to finish (the old key's live checks skipped, as for a key whose file is not known), or
// else it must stop in preflight before anything changes — never proceed to attach a key and
// then stall at a check of the old key that can never pass.
func TestUnreadableOldKeyFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := os.WriteFile(e.oldKeyFile, []byte("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()
	var warning string
	prompter := promptFunc(func(ctx context.Context, q steps.Question) (steps.Answer, error) {
		if q.Step == steps.Preflight {
			warning = q.Body
		}
		return steps.AutoApprove{}.Ask(ctx, q)
	})
	// Seam: Deps.Now jumps ahead after each failed check, so a 30-second propagation timeout
	// passes after a few real checks (the outcome does not depend on the wait).
	clock := &skewClock{}
	deps := e.deps(prompter, nil)
	deps.Now = clock.now
	r := call(context.Background(), steps.Rotate, e.opts, deps, func(ev steps.Event) {
		if ev.Kind == steps.CheckDone && !ev.Check.Result.OK {
			clock.advance(10 * time.Second)
		}
	})
	t.Logf("preflight warning: %q", warning)
	t.Logf("result: %s %v (steps %+v)", r.res.Status, r.err, r.res.Steps)
	if warning == "" || !strings.Contains(warning, e.oldKID) {
		t.Errorf("preflight did not warn about the current key %s: %q", e.oldKID, warning)
	}
	switch {
	case r.err == nil:
		if r.res.Status != steps.StatusRotated {
			t.Errorf("status %q, want rotated", r.res.Status)
		}
		if got := e.attachedKIDs(); len(got) != 1 || got[0] != r.res.NewKID {
			t.Errorf("attached %v, want the new key alone", got)
		}
	case stepStatus(r.res, steps.Preflight) == "failed":
		e.assertUnchanged(t, before)
	default:
		t.Errorf("after the operator accepted preflight's warning, the rotation attached a new key and then stopped at %s: %v — "+
			"an unusable current key file is treated as known in preflight (a warning) but its checks in verify/confirm can never pass",
			failedStep(r.res), r.err)
	}
}

func failedStep(r steps.Result) string {
	for _, s := range r.Steps {
		if s.Status == "failed" {
			return s.Step
		}
	}
	return "?"
}
