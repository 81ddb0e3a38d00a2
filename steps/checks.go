package steps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"rekey/keys"
	"rekey/sysconfig"
	"rekey/tenant"
)

// How long the checks wait for Auth0 to take a credential change into account.
const (
	propagationTimeout = 30 * time.Second
	recheckInterval    = 500 * time.Millisecond
)

// check runs one live token exchange with a journal key and reports it.
func (e *engine) check(ctx context.Context, s Step, role string, k *JournalKey) tenant.CheckResult {
	key, err := keys.LoadPrivateKey(k.PrivateKeyFile)
	var r tenant.CheckResult
	if err != nil {
		r = tenant.CheckResult{Err: err, Description: err.Error()}
	} else {
		r = e.deps.Tenant.CheckKey(ctx, e.client.ID, key, k.Alg, e.j.Audience)
	}
	e.j.Checks = append(e.j.Checks, AuditCheck{Step: s.String(), Role: role, KID: k.KID, OK: r.OK, LatencyMS: r.Latency.Milliseconds(), Error: checkError(r)})
	e.emit(Event{Kind: CheckDone, Step: s, Check: &KeyCheck{Role: role, KID: k.KID, Result: r}})
	return r
}

func checkError(r tenant.CheckResult) string {
	if r.OK {
		return ""
	}
	return DescribeCheck(r)
}

// DescribeCheck says why a check failed: the tenant's answer, else the transport error.
func DescribeCheck(r tenant.CheckResult) string {
	switch {
	case r.Code != "":
		return fmt.Sprintf("%d %s: %s", r.Status, r.Code, r.Description)
	case r.Err != nil:
		return r.Err.Error()
	}
	return r.Description
}

// rejected reports whether a check failed because the tenant refused the key itself.
func rejected(r tenant.CheckResult) bool {
	return !r.OK && r.Status == http.StatusUnauthorized && r.Code == "invalid_client"
}

// waitFor repeats a check until done says it is settled (for n consecutive checks), or the
// propagation timeout passes.
func (e *engine) waitFor(ctx context.Context, s Step, role string, k *JournalKey, n int, done func(tenant.CheckResult) bool) (tenant.CheckResult, error) {
	deadline := e.deps.Now().Add(propagationTimeout)
	streak := 0
	for {
		r := e.check(ctx, s, role, k)
		if done(r) {
			streak++
			if streak == n {
				return r, nil
			}
			continue
		}
		streak = 0
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if !e.deps.Now().Before(deadline) {
			return r, fmt.Errorf("the %s key %s: %s (for %s)", role, k.KID, DescribeCheck(r), propagationTimeout)
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(recheckInterval):
		}
	}
}

// verify proves the new key works (VerifyCount consecutive exchanges) while the old one
// still does; only then may the old key be retired in this rotation.
func (e *engine) verify(ctx context.Context) error {
	ok := func(r tenant.CheckResult) bool { return r.OK }
	if _, err := e.waitFor(ctx, Verify, "new", e.j.New, e.opts.VerifyCount, ok); err != nil {
		return unsafeUnlessCancelled(ctx, fmt.Errorf("%w; the old key stays in place", err))
	}
	if e.j.Old.PrivateKeyFile != "" {
		if _, err := e.waitFor(ctx, Verify, "old", e.j.Old, 1, ok); err != nil {
			return unsafeUnlessCancelled(ctx, err)
		}
	} else {
		e.emit(Event{Kind: Output, Step: Verify, Text: "The old key's private key is not known here; only the new key was checked."})
	}
	e.j.Verified = true
	return e.j.save()
}

// unsafeUnlessCancelled marks a failed check as a safety stop, unless the operator cancelled.
func unsafeUnlessCancelled(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnsafe, err)
}

// promote makes the new key CURRENT in the system config; the old one stays as fallback.
func (e *engine) promote(ctx context.Context) error {
	if e.sys == nil {
		if err := e.ask(ctx, Question{Kind: Proceed, Step: Promote, Title: "Make the new key CURRENT in the service's configuration",
			Body: fmt.Sprintf("Put key %s first in the consuming service's credential list, keep %s after it as a fallback, deploy that, then confirm.", e.j.New.KID, e.j.Old.KID)}); err != nil {
			return err
		}
	} else if err := e.editSystemConfig(Promote, e.j.New.KID, 0, func(f *sysconfig.File) error { return f.Promote(e.j.New.KID) }); err != nil {
		return err
	}
	now := e.deps.Now().UTC()
	e.j.PromotedAt = &now
	return e.j.save()
}

// errOldKeyInUse is the retire gate's refusal when a service still signs with the old key.
var errOldKeyInUse = errors.New("the old key is still in use")

// How the usage gate watches for services still using the old key: it lets them switch for
// usageGrace after promote, then watches for usageWindow; a use within the window refuses.
const (
	usageGrace  = time.Second
	usageWindow = time.Second
)

// checkOldKeyUnused refuses to retire a key that a service still uses, where the tenant can
// tell (the sandbox; Auth0 has no such API). Only uses since this attempt began count, so a
// resume after the stale service was fixed goes through.
func (e *engine) checkOldKeyUnused(ctx context.Context) error {
	if e.deps.Usage == nil || e.j.PromotedAt == nil {
		return nil
	}
	start := e.j.PromotedAt.Add(usageGrace)
	if now := e.deps.Now(); now.After(start) {
		start = now
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(start.Add(usageWindow).Sub(e.deps.Now())):
	}
	last, ok := e.deps.Usage.LastUsed(e.client.ID, e.j.Old.KID)
	if ok && last.After(start) {
		return fmt.Errorf("%w: %w: a service authenticated with %s at %s, after the new key was promoted at %s; give every service the new key first (then run rekey again to resume)",
			ErrUnsafe, errOldKeyInUse, e.j.Old.KID, last.UTC().Format(time.RFC3339), e.j.PromotedAt.Format(time.RFC3339))
	}
	return nil
}

// confirm proves the rotation: the new key works, the old key is rejected, and the old entry
// leaves the system config.
func (e *engine) confirm(ctx context.Context) error {
	// The pool, not only the attached list: no credential of the old key may be left behind.
	if err := e.removeLeftoverOld(ctx, Confirm); err != nil {
		return err
	}
	if _, err := e.waitFor(ctx, Confirm, "new", e.j.New, 1, func(r tenant.CheckResult) bool { return r.OK }); err != nil {
		return err
	}
	if e.j.Old.PrivateKeyFile != "" {
		if _, err := e.waitFor(ctx, Confirm, "old", e.j.Old, 1, rejected); err != nil {
			return fmt.Errorf("the old key should now be rejected: %w", err)
		}
	}
	if e.sys == nil {
		return e.ask(ctx, Question{Kind: Proceed, Step: Confirm, Title: "Remove the old key from the service's configuration",
			Body: fmt.Sprintf("Key %s no longer works; remove it from the consuming service's credential list, then confirm.", e.j.Old.KID)})
	}
	return e.editSystemConfig(Confirm, e.j.Old.KID, -1, func(f *sysconfig.File) error { return f.Remove(e.j.Old.KID) })
}
