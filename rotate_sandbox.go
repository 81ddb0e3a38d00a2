package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"rekey/consumer"
	"rekey/sandbox"
	"rekey/steps"
	"rekey/tenant"
)

// demoConsumerRate is how many tokens per second the sandbox's demo consumer requests.
const demoConsumerRate = 20

// inSandbox rotates a client of a fresh embedded sandbox, with the demo consumer requesting
// tokens from the client's system config the whole time; the JSON result adds its counts.
func (r rotationEnv) inSandbox(ctx context.Context, stdout io.Writer) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return exitError, err
	}
	dir, err := os.MkdirTemp("", "rekey-sandbox-")
	if err != nil {
		return exitError, err
	}
	fmt.Fprintf(r.progress, "Starting a sandbox tenant in %s\n", dir)
	srv, m, err := sandbox.Setup(ctx, dir, sandbox.SetupOptions{Terraform: &sandbox.TerraformOptions{Binary: r.terraform, Executable: exe}})
	if err != nil {
		return exitError, err
	}
	defer srv.Close()
	mc, err := sandboxClient(m, r.flags.opts.Client)
	if err != nil {
		return exitUsage, err
	}
	opts := &r.flags.opts
	opts.TerraformDir = m.TerraformDir
	if opts.SystemConfig == "" {
		opts.SystemConfig = mc.SystemConfig
	}
	if opts.KeyDir == "" {
		opts.KeyDir = filepath.Join(dir, "keys")
	}
	cfg := tenant.Config{Domain: m.Domain, ClientID: m.Management.ClientID, ClientSecret: m.Management.ClientSecret, HTTPClient: srv.HTTPClient()}
	conn, err := tenant.Connect(cfg)
	if err != nil {
		return exitError, err
	}
	demo, err := consumer.New(consumer.Config{SystemConfig: mc.SystemConfig, Domain: m.Domain, ClientID: mc.ClientID, Audience: mc.Audience, HTTPClient: srv.HTTPClient()})
	if err != nil {
		return exitError, err
	}
	var stats consumer.Stats
	demoCtx, stopDemo := context.WithCancel(ctx)
	demoDone := make(chan struct{})
	go func() { defer close(demoDone); consumer.Run(demoCtx, demo, demoConsumerRate, &stats) }()

	result, err := r.run(ctx, steps.TenantAPI{Conn: conn, Config: cfg}, m.TerraformEnv(), srv.Tenant())
	stopDemo()
	<-demoDone
	s := stats.Snapshot()
	fmt.Fprintf(r.progress, "Demo consumer: %d token requests, %d failed, by key %v\n", s.Requests, s.Failures, s.ByKID)
	return report(result, err, r.flags.json, stdout, map[string]any{
		"sandbox_dir": dir,
		"consumer":    map[string]any{"requests": s.Requests, "failures": s.Failures, "by_kid": s.ByKID, "last_error": s.LastError},
	})
}

// sandboxClient finds a seeded client by name or id.
func sandboxClient(m *sandbox.Manifest, query string) (sandbox.ManifestClient, error) {
	var names []string
	for _, c := range m.Clients {
		if c.Name == query || c.ClientID == query {
			return c, nil
		}
		names = append(names, c.Name)
	}
	return sandbox.ManifestClient{}, usagef("rotate: the sandbox has no client %q; choose one of: %s", query, strings.Join(names, ", "))
}
