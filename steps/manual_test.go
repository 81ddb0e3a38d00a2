package steps_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"rekey/sandbox"
	"rekey/sandbox/sandboxtest"
	"rekey/steps"
	"rekey/tfrunner"
)

// forEachCredential is the address of billing-worker's credentials in the for_each and
// computed layouts.
const forEachCredential = `auth0_client_credentials.all["billing-worker"]`

// TestManualEditComputedLayout rotates billing-worker of a workspace whose keys are data (a
// map in locals, one for_each resource, a dynamic credentials block) filtered by a for
// expression, which rekey cannot trace to the data and so cannot edit itself, through the real provider, as `rekey rotate --yes --manual-edit` does: without the
// flag it refuses and names the flag and the state address; with it, each run stops (declined)
// at an edit it describes, the test makes that edit as an operator would, and the next run
// plans, guards and applies it. A wrong edit (the old key dropped at attach) is blocked by the
// guard. The service never fails a token request.
func TestManualEditComputedLayout(t *testing.T) {
	e := newEnvIn(t, sandboxtest.RealProvider(t), sandbox.LayoutComputed)
	svc := e.startConsumer(e.mc.SystemConfig)
	svc.waitRequests(t, 5)
	hclBefore := readFile(t, e.mainTF())

	r := e.rotate(context.Background(), nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "--manual-edit") || !strings.Contains(r.err.Error(), forEachCredential) {
		t.Fatalf("without --manual-edit: %v; want a refusal naming --manual-edit and %s", r.err, forEachCredential)
	}

	e.opts.ManualEdit = true
	r = e.rotate(context.Background(), nil)
	howTo := askedEdit(t, r, steps.Attach)
	if !strings.Contains(howTo, forEachCredential) || !strings.Contains(howTo, "Add a credential for the new key") {
		t.Fatalf("the attach edit asked for:\n%s", howTo)
	}
	if !slices.Equal(e.attachedKIDs(), []string{e.oldKID}) {
		t.Fatalf("attached before the edit: %v", e.attachedKIDs())
	}

	// A wrong edit: the new key replaces the old one. The guard blocks it; nothing is applied.
	e.editKeys(t, func(keys string) string { return newKeyElement(t, howTo) })
	if r = e.rotate(context.Background(), nil); !errors.Is(r.err, steps.ErrUnsafe) {
		t.Fatalf("a plan that drops the old key: %v; want the guard to block it", r.err)
	}
	if !slices.Equal(e.attachedKIDs(), []string{e.oldKID}) {
		t.Fatalf("attached after the blocked plan: %v", e.attachedKIDs())
	}

	// The right edit: the new key added beside the old one.
	writeTF(t, e.mainTF(), hclBefore)
	e.editKeys(t, func(keys string) string { return keys + newKeyElement(t, howTo) })
	r = e.rotate(context.Background(), nil)
	howTo = askedEdit(t, r, steps.Retire)
	if !strings.Contains(howTo, "Remove the credential of the key "+e.oldKID) {
		t.Fatalf("the retire edit asked for:\n%s", howTo)
	}
	if len(e.attachedKIDs()) != 2 {
		t.Fatalf("attached after the attach apply: %v", e.attachedKIDs())
	}

	e.editKeys(t, func(keys string) string { return dropElement(t, keys, e.credentialName(e.oldKID), "        ") })
	r = e.rotate(context.Background(), nil)
	if r.err != nil {
		t.Fatalf("the rotation after the retire edit: %v", r.err)
	}
	e.assertRotated(t, r, svc)
}

// askedEdit checks that run stopped, declined, at step's edit, and returns what it asked.
func askedEdit(t *testing.T, r run, step steps.Step) string {
	t.Helper()
	if !errors.Is(r.err, steps.ErrDeclined) || !strings.Contains(r.err.Error(), "make the edit, then run rekey again") {
		t.Fatalf("run: %v; want it to stop at the %s edit", r.err, step)
	}
	for _, ev := range r.events {
		if ev.Kind == steps.StepFailed && ev.Step == step {
			return howToOf(t, r)
		}
	}
	t.Fatalf("run stopped, but not at %s: %v", step, r.err)
	return ""
}

// howToOf is the edit the run printed (an Output event, before it asked).
func howToOf(t *testing.T, r run) string {
	t.Helper()
	for _, ev := range r.events {
		if ev.Kind == steps.Output && strings.Contains(ev.Text, "credential") && (strings.Contains(ev.Text, "Add a credential") || strings.Contains(ev.Text, "Remove the credential")) {
			return ev.Text
		}
	}
	t.Fatalf("the run did not say which edit to make")
	return ""
}

// editKeys rewrites the list of billing-worker's keys in main.tf's locals with change.
func (e *env) editKeys(t *testing.T, change func(keys string) string) {
	t.Helper()
	src := string(readFile(t, e.mainTF()))
	start := strings.Index(src, `"billing-worker" = {`)
	open := strings.Index(src[start:], "keys = [\n") + start + len("keys = [\n")
	end := strings.Index(src[open:], "      ]\n") + open
	writeTF(t, e.mainTF(), []byte(src[:open]+change(src[open:end])+src[end:]))
}

// newKeyElement is the keys element the edit asks for, from its "name = …" lines.
func newKeyElement(t *testing.T, howTo string) string {
	t.Helper()
	var attrs []string
	for _, line := range strings.Split(howTo, "\n") {
		if m := regexp.MustCompile(`^  (\w+)\s+= (.+?)(  # .*)?$`).FindStringSubmatch(line); m != nil {
			attrs = append(attrs, "          "+m[1]+" = "+m[2]+"\n")
		}
	}
	if len(attrs) < 4 {
		t.Fatalf("the edit does not list the credential's values:\n%s", howTo)
	}
	return "        {\n" + strings.Join(attrs, "") + "        },\n"
}

// dropElement removes the keys element named name, its braces indented by indent.
func dropElement(t *testing.T, keys, name, indent string) string {
	t.Helper()
	at := strings.Index(keys, `"`+name+`"`)
	if at < 0 {
		t.Fatalf("no key named %s in:\n%s", name, keys)
	}
	start := strings.LastIndex(keys[:at], indent+"{\n")
	end := strings.Index(keys[at:], indent+"},\n") + at + len(indent+"},\n")
	return keys[:start] + keys[end:]
}

func writeTF(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// credentialName is the name of billing-worker's credential with kid in the tenant.
func (e *env) credentialName(kid string) string {
	e.t.Helper()
	creds, err := e.srv.Tenant().Credentials(e.mc.ClientID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, cr := range creds {
		if cr.KID == kid {
			return cr.Name
		}
	}
	e.t.Fatalf("no credential with kid %s", kid)
	return ""
}

// credentialsModule is a reusable module that takes a client's keys as data.
const credentialsModule = `terraform {
  required_providers {
    auth0 = {
      source = "auth0/auth0"
    }
  }
}

variable "client_id" {
  type = string
}

variable "keys" {
  type = list(object({
    name                   = string
    pem                    = string
    parse_expiry_from_cert = optional(bool)
    expires_at             = optional(string)
  }))
}

resource "auth0_client_credentials" "this" {
  client_id             = var.client_id
  authentication_method = "private_key_jwt"

  private_key_jwt {
    dynamic "credentials" {
      for_each = var.keys
      content {
        name                   = credentials.value.name
        credential_type        = "public_key"
        algorithm              = "RS256"
        parse_expiry_from_cert = credentials.value.parse_expiry_from_cert
        expires_at             = credentials.value.expires_at
        pem                    = credentials.value.pem
      }
    }
  }
}
`

// moduleCredential is the address of billing-worker's credentials once moveIntoModule ran.
const moduleCredential = "module.billing.auth0_client_credentials.this"

// moveIntoModule moves billing-worker's literal credentials resource into a local module
// called with its keys as data (with a moved block, so the state follows), and checks that
// terraform plan is clean afterwards.
func (e *env) moveIntoModule(t *testing.T) {
	t.Helper()
	src := string(readFile(t, e.mainTF()))
	start := strings.Index(src, `resource "auth0_client_credentials" "billing_worker" {`)
	end := strings.Index(src[start:], "\n}\n") + start + len("\n}\n")
	block := src[start:end]
	m := regexp.MustCompile(`(?s)name\s+= "([^"]+)".*parse_expiry_from_cert = (\w+).*<<EOF\n(.*?)EOF`).FindStringSubmatch(block)
	if m == nil {
		t.Fatalf("cannot read the seeded block:\n%s", block)
	}
	call := "module \"billing\" {\n  source    = \"./modules/credentials\"\n  client_id = auth0_client.billing_worker.id\n  keys = [\n" +
		"    {\n      name                   = \"" + m[1] + "\"\n      parse_expiry_from_cert = " + m[2] + "\n      pem                    = <<EOF\n" + m[3] + "EOF\n    },\n  ]\n}\n\n" +
		"moved {\n  from = auth0_client_credentials.billing_worker\n  to   = " + moduleCredential + "\n}\n"
	writeTF(t, e.mainTF(), []byte(src[:start]+call+src[end:]))
	dir := filepath.Join(e.m.TerraformDir, "modules", "credentials")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTF(t, filepath.Join(dir, "main.tf"), []byte(credentialsModule))
	runner, err := tfrunner.New(tfrunner.Config{Dir: e.m.TerraformDir, Binary: e.bin, Env: e.m.TerraformEnv()})
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Init(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "move.tfplan")
	if _, err := runner.Plan(context.Background(), planFile); err != nil {
		t.Fatal(err)
	}
	if err := runner.Apply(context.Background(), planFile); err != nil { // records the move
		t.Fatal(err)
	}
	e.assertPlanClean(t)
}

// TestRotateAfterMovingIntoAModule: a team moves billing-worker's credentials into a local
// module fed its keys by the module call (a moved block keeps the state); rekey then finds
// them through the state address, edits the call's keys list itself, and rotates through the
// real provider with no failed token request.
func TestRotateAfterMovingIntoAModule(t *testing.T) {
	e := newEnv(t)
	e.moveIntoModule(t)
	r, svc := e.rotateEditing(t, "main.tf")
	e.assertRotated(t, r, svc)
}

// TestManualEditAbort: an abort of a rotation in a layout rekey cannot edit asks for the
// edit that removes the new key (and stops without it), then applies exactly that removal;
// the old key alone is left, attached, and the plan is clean.
func TestManualEditAbort(t *testing.T) {
	e := newEnvIn(t, sandboxtest.RealProvider(t), sandbox.LayoutComputed)
	e.opts.ManualEdit = true
	howTo := askedEdit(t, e.rotate(context.Background(), nil), steps.Attach)
	e.editKeys(t, func(keys string) string { return keys + newKeyElement(t, howTo) })
	r := e.rotate(context.Background(), nil)
	askedEdit(t, r, steps.Retire)
	newName := e.credentialName(r.res.NewKID)

	abort := call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil)
	if !errors.Is(abort.err, steps.ErrDeclined) || !strings.Contains(howToOf(t, abort), "Remove the credential of the key "+r.res.NewKID) {
		t.Fatalf("abort before the edit: %v", abort.err)
	}
	e.editKeys(t, func(keys string) string { return dropElement(t, keys, newName, "        ") })
	if abort = call(context.Background(), steps.Abort, e.opts, e.deps(nil, nil), nil); abort.err != nil || abort.res.Status != steps.StatusAborted {
		t.Fatalf("abort after the edit: %v, %s", abort.err, abort.res.Status)
	}
	if pool := e.poolKIDs(); !slices.Equal(pool, []string{e.oldKID}) || !slices.Equal(e.attachedKIDs(), pool) {
		t.Errorf("pool %v, attached %v; want only the old key %s", pool, e.attachedKIDs(), e.oldKID)
	}
	e.assertPlanClean(t)
}
