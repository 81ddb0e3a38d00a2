package cli

import (
	"context"
	"fmt"
	"os"

	"rekey/consumer"
	"rekey/sandbox"
	"rekey/steps"
	"rekey/tenant"
	"rekey/tfrunner"
)

// demoConsumerRate is how many tokens per second each demo consumer requests.
const demoConsumerRate = 20

// sandboxSession is a fresh embedded sandbox in a temporary folder (kept afterwards, so its
// audit log can be read), a Management API connection to it, and a demo consumer per seeded
// client requesting tokens from the client's system config.
type sandboxSession struct {
	dir      string
	srv      *sandbox.Server
	manifest *sandbox.Manifest
	tenant   steps.TenantAPI
	stats    map[string]*consumer.Stats // by client id
	stopDemo func()
}

// startSandboxSession starts the sandbox, rate limited by limits, with its Terraform workspace
// in layout (Terraform launches this binary as the auth0 provider), connects to it and starts
// the demo consumers.
func startSandboxSession(ctx context.Context, bin tfrunner.Binary, layout sandbox.Layout, limits sandbox.RateLimits, progress func(string)) (*sandboxSession, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	provider, err := sandbox.ChooseProvider(ctx, "", exe)
	if err != nil {
		return nil, err
	}
	s := &sandboxSession{stopDemo: func() {}}
	if s.dir, err = os.MkdirTemp("", "rekey-sandbox-"); err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("Starting the sandbox tenant in %s and applying its Terraform workspace with the %s", s.dir, provider))
	if s.srv, s.manifest, err = sandbox.Setup(ctx, s.dir, sandbox.SetupOptions{RateLimits: limits, Terraform: &sandbox.TerraformOptions{Binary: bin, Provider: provider, Layout: layout}}); err != nil {
		return nil, err
	}
	m := s.manifest
	cfg := tenant.Config{Domain: m.Domain, ClientID: m.Management.ClientID, ClientSecret: m.Management.ClientSecret, HTTPClient: s.srv.HTTPClient()}
	conn, err := tenant.Connect(cfg)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.tenant = steps.TenantAPI{Conn: conn, Config: cfg}
	progress("Starting the demo consumers")
	if err := s.startDemo(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// startDemo runs a demo consumer for every seeded client.
func (s *sandboxSession) startDemo() error {
	ctx, cancel := context.WithCancel(context.Background())
	s.stats = map[string]*consumer.Stats{}
	done := make(chan struct{}, len(s.manifest.Clients))
	started := 0
	s.stopDemo = func() {
		cancel()
		for range started {
			<-done
		}
		started = 0
	}
	for _, c := range s.manifest.Clients {
		ts, err := consumer.New(consumer.Config{SystemConfig: c.SystemConfig, Domain: s.manifest.Domain, ClientID: c.ClientID, Audience: c.Audience, HTTPClient: s.srv.HTTPClient()})
		if err != nil {
			return fmt.Errorf("demo consumer of %s: %w", c.Name, err)
		}
		st := &consumer.Stats{}
		s.stats[c.ClientID] = st
		started++
		go func() { consumer.Run(ctx, ts, demoConsumerRate, st); done <- struct{}{} }()
	}
	return nil
}

// Close stops the demo consumers and the sandbox; its folder stays.
func (s *sandboxSession) Close() {
	s.stopDemo()
	s.srv.Close()
}
