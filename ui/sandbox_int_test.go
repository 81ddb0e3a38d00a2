package ui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rekey/consumer"
	"rekey/inventory"
	"rekey/sandbox"
	"rekey/sandbox/sandboxtest"
	"rekey/steps"
	"rekey/sysconfig"
	"rekey/tenant"
	"rekey/tfrunner"
	"rekey/tfrunner/tftest"
)

func TestMain(m *testing.M) { tftest.Main(m) }

// TestSandboxRotationThroughTheWizard runs the real engine, real Terraform and the embedded
// sandbox behind the wizard's model, answering its questions as an operator would (and
// cancelling once at the attach gate, then resuming), with the demo consumer requesting tokens
// the whole time and live checks every 200 ms (so that a check of the old key after promote
// would trip the retire gate). Skipped with -short.
func TestSandboxRotationThroughTheWizard(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Terraform against the sandbox")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	srv, man, err := sandbox.Setup(ctx, dir, sandbox.SetupOptions{
		Terraform: sandboxtest.Terraform(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := tenant.Config{Domain: man.Domain, ClientID: man.Management.ClientID, ClientSecret: man.Management.ClientSecret, HTTPClient: srv.HTTPClient()}
	conn, err := tenant.Connect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mc := man.Clients[0]
	demo, err := consumer.New(consumer.Config{SystemConfig: mc.SystemConfig, Domain: man.Domain, ClientID: mc.ClientID, Audience: mc.Audience, HTTPClient: srv.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	var stats consumer.Stats
	demoCtx, stopDemo := context.WithCancel(ctx)
	demoDone := make(chan struct{})
	go func() { defer close(demoDone); consumer.Run(demoCtx, demo, 20, &stats) }()
	defer func() { stopDemo(); <-demoDone }()

	manifest := func(id string) (sandbox.ManifestClient, bool) {
		for _, c := range man.Clients {
			if c.ClientID == id {
				return c, true
			}
		}
		return sandbox.ManifestClient{}, false
	}
	keyDir := filepath.Join(dir, "keys")
	b := Backend{
		Inventory: inventory.Loader{Source: conn},
		Tenant:    steps.TenantAPI{Conn: conn, Config: cfg},
		Terraform: tfrunner.Config{Binary: tftest.Terraform(t), Env: man.TerraformEnv()},
		Usage:     srv.Tenant(),
		Options: func(c tenant.Client) steps.Options {
			o := steps.Options{TerraformDir: man.TerraformDir, KeyDir: keyDir, Operator: "ui-test"}
			if mc, ok := manifest(c.ID); ok {
				o.SystemConfig, o.Audience = mc.SystemConfig, mc.Audience
			}
			return o
		},
		KnownKeys: func(c tenant.Client) map[string]string {
			mc, ok := manifest(c.ID)
			if !ok {
				return nil
			}
			f, err := sysconfig.Load(mc.SystemConfig)
			if err != nil {
				return nil
			}
			out := map[string]string{}
			for _, e := range f.Entries() {
				out[e.KID] = f.KeyPath(e)
			}
			return out
		},
		Consumer: func(string) *consumer.Stats { return &stats },
		Sandbox:  true,
	}
	h := newHarness(t, b, 100, 30, func(c *config) {
		c.checkEvery = 200 * time.Millisecond
		c.consumerEvery = 200 * time.Millisecond
	})
	h.timeout = 90 * time.Second
	h.press("/")
	h.typeText(mc.Name)
	h.press("enter")
	h.waitFor("the workspace", func() bool { return h.m.client != nil && h.m.client.ws != nil })
	if h.m.client.ws.Resource == "" || h.m.client.ws.Provider == "" {
		t.Fatalf("workspace: %+v", *h.m.client.ws)
	}
	h.press("r", "enter")
	question := func(s steps.Step) {
		t.Helper()
		h.waitFor("the "+s.String()+" question", func() bool {
			return h.rot().phase == phaseFailed || h.rot().q != nil && h.rot().q.msg.q.Step == s
		})
		if h.rot().phase == phaseFailed {
			t.Fatalf("the rotation failed before the %s question: %v\nlog:\n%s", s, h.rot().err, strings.Join(h.rot().log, "\n"))
		}
	}
	question(steps.Attach)
	if !strings.Contains(h.text(), "+++") || len(h.rot().byStep[steps.Attach]) < 2 {
		t.Fatalf("the attach question lacks the diff and the plan:\n%s", h.text())
	}
	// Cancel at the gate, then retry: the engine resumes from its journal and asks again.
	h.press("esc", "y")
	h.waitFor("the cancelled step", func() bool { return h.rot().phase == phaseFailed })
	if !strings.Contains(h.text(), "cancelled") || !h.rot().canAbort() {
		t.Fatalf("after cancelling:\n%s", h.text())
	}
	h.press("r")
	question(steps.Attach)
	h.press("y")
	question(steps.Retire)
	h.typeText(mc.Name)
	h.press("enter")
	h.waitFor("the end", func() bool { return h.m.screen == screenDone || h.rot() != nil && h.rot().phase == phaseFailed })
	if h.m.screen != screenDone {
		t.Fatalf("the rotation failed: %v\n%s\nlog:\n%s", h.rot().err, h.text(), strings.Join(h.rot().log, "\n"))
	}
	sum := h.m.done.sum
	if sum.result.Status != steps.StatusRotated || sum.traffic == nil || sum.traffic.failures != 0 || sum.traffic.requests == 0 {
		t.Fatalf("result %+v, traffic %+v", sum.result, sum.traffic)
	}
	checkFrame(t, h.m.View(), 100, 30, "Rotated "+mc.Name, "none failed", "audit.jsonl")
}
