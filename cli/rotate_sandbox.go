package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"rekey/sandbox"
)

// inSandbox rotates a client of a fresh embedded sandbox, with the demo consumers requesting
// tokens the whole time; the JSON result adds the rotated client's consumer counts.
func (r rotationEnv) inSandbox(ctx context.Context, stdout io.Writer) (int, error) {
	session, err := startSandboxSession(ctx, r.terraform, sandbox.LayoutLiteral, sandbox.DefaultRateLimits, func(line string) { fmt.Fprintln(r.progress, line) })
	if err != nil {
		return r.flags.failed(stdout, exitError, err)
	}
	defer session.Close()
	m := session.manifest
	mc, err := sandboxClient(m, r.flags.opts.Client)
	if err != nil {
		return r.flags.failed(stdout, exitUsage, err)
	}
	opts := &r.flags.opts
	opts.TerraformDir = m.TerraformDir
	if opts.SystemConfig == "" {
		opts.SystemConfig = mc.SystemConfig
	}
	if opts.KeyDir == "" {
		opts.KeyDir = filepath.Join(session.dir, "keys")
	}
	result, warnings, err := r.run(ctx, session.tenant, m.TerraformEnv(), session.srv.Tenant())
	session.stopDemo()
	s := session.stats[mc.ClientID].Snapshot()
	fmt.Fprintf(r.progress, "Demo consumer: %d token requests, %d failed, by key %v\n", s.Requests, s.Failures, s.ByKID)
	return report(result, err, r.flags.json, stdout, map[string]any{
		"warnings":    warnings,
		"sandbox_dir": session.dir,
		"provider":    m.Provider,
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
