package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	tfjson "github.com/hashicorp/terraform-json"

	"rekey/consumer"
	"rekey/inventory"
	"rekey/keys"
	"rekey/steps"
	"rekey/tenant"
	"rekey/tfrunner"
)

// Every function here returns a tea.Cmd: the only places the wizard does I/O or waits.

// prepareCmd runs prepare; its progress lines go to ch, which is closed when prepare returns.
func prepareCmd(ctx context.Context, prepare Prepare, ch chan<- string) tea.Cmd {
	return func() tea.Msg {
		var mu sync.Mutex
		closed := false
		progress := func(line string) {
			mu.Lock()
			defer mu.Unlock()
			if closed {
				return
			}
			select {
			case ch <- line:
			default: // the screen is behind: it shows the latest line anyway
			}
		}
		defer func() {
			mu.Lock()
			closed = true
			close(ch)
			mu.Unlock()
		}()
		if prepare == nil {
			return preparedMsg{err: errors.New("nothing to prepare: no backend was given")}
		}
		b, err := prepare(ctx, progress)
		return preparedMsg{backend: b, err: err}
	}
}

// waitProgress waits for the next progress line; re-armed by the preparing screen.
func waitProgress(ch <-chan string) tea.Cmd {
	return func() tea.Msg {
		line, ok := <-ch
		if !ok {
			return progressClosedMsg{}
		}
		return progressMsg{text: line}
	}
}

// journalFile is where the engine keeps a client's journal while its rotation is in progress.
func journalFile(tfDir, clientID string) string {
	return filepath.Join(tfDir, ".rekey", clientID+".json")
}

// waitInventoryCmd waits for the load's next update; a whole list comes with its rows, filter
// keys and sort orders precomputed, and notes which clients have a rotation in progress (a
// journal file). Re-armed by the clients screen until the load ends.
func waitInventoryCmd(ld *inventory.Load, b Backend, gen int, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		u, ok := <-ld.Updates()
		if !ok {
			return inventoryMsg{gen: gen, closed: true}
		}
		msg := inventoryMsg{gen: gen, update: u, loadedAt: now()}
		if u.Clients != nil {
			inProgress := make([]bool, len(u.Clients))
			if b.Options != nil {
				for i, c := range u.Clients {
					if dir := b.Options(c).TerraformDir; dir != "" {
						_, err := os.Stat(journalFile(dir, c.ID))
						inProgress[i] = err == nil
					}
				}
			}
			list := buildClientList(u.Clients, inProgress)
			msg.list = &list
		}
		return msg
	}
}

// setupCmd asks the backend for a client's base options and known private keys (which may
// read the system config).
func setupCmd(b Backend, owner int, c tenant.Client) tea.Cmd {
	return func() tea.Msg {
		msg := setupMsg{owner: owner}
		if b.Options != nil {
			msg.opts = b.Options(c)
		}
		if b.KnownKeys != nil {
			msg.known = b.KnownKeys(c)
		}
		return msg
	}
}

// fetchClientCmd reads one client afresh.
func fetchClientCmd(ctx context.Context, t steps.Tenant, owner int, clientID string) tea.Cmd {
	return func() tea.Msg {
		if t == nil {
			return clientMsg{owner: owner, err: errors.New("no tenant")}
		}
		c, err := t.Client(ctx, clientID)
		return clientMsg{owner: owner, client: c, err: err}
	}
}

// workspaceInfo is what the Terraform workspace says about a client's credentials.
type workspaceInfo struct {
	Resource string // auth0_client_credentials address; "" when unknown
	File     string // the .tf file that declares it; "" when only the state knows the resource
	// Manual says why rekey cannot edit the layout, when only the state knows the resource:
	// the operator makes the edits the rotation asks for.
	Manual string
	Blocks int // its credentials blocks
	// Keys describes each block's key by kid (the tenant's record left empty), so that the
	// new-key form can offer a key like the current one.
	Keys        map[string]steps.CurrentKey
	ResourceErr error  // why the resource is unknown
	Provider    string // locked auth0 provider version; "" when unknown
	ProviderErr error  // why the provider version is unknown
}

// workspaceCmd finds the client's auth0_client_credentials resource (resolving references
// through terraform state when a binary is configured) and the locked provider version.
func workspaceCmd(ctx context.Context, tf tfrunner.Config, dir string, owner int, clientID string) tea.Cmd {
	return func() tea.Msg {
		return workspaceMsg{owner: owner, info: readWorkspace(ctx, tf, dir, clientID)}
	}
}

func readWorkspace(ctx context.Context, tf tfrunner.Config, dir, clientID string) workspaceInfo {
	var info workspaceInfo
	if dir == "" {
		err := errors.New("no Terraform folder configured")
		info.ResourceErr, info.ProviderErr = err, err
		return info
	}
	var stateErr error
	var state *tfjson.State
	if tf.Binary.Path != "" {
		tf.Dir, tf.Output = dir, nil
		r, err := tfrunner.New(tf)
		if err == nil {
			state, err = r.State(ctx)
		}
		stateErr = err
	}
	ws, err := tfrunner.LoadWorkspace(dir)
	if err == nil {
		var res *tfrunner.CredentialsResource
		if res, err = ws.Credentials(clientID, state); err == nil {
			info.Resource, info.Blocks = res.Address, len(res.Credentials)
			info.Keys = map[string]steps.CurrentKey{}
			for _, b := range res.Credentials {
				if cur := steps.ReadCurrentKey(dir, tenant.Credential{}, b); cur.Public.Key != nil {
					info.Keys[keys.Thumbprint(cur.Public.Key)] = cur
				}
			}
			info.File, _ = filepath.Rel(dir, res.File)
			if info.File == "" || info.File[0] == '.' {
				info.File = res.File
			}
		}
	}
	if addresses := tfrunner.CredentialsAddresses(state, clientID); err != nil && len(addresses) == 1 {
		info.Resource, info.Manual, err = addresses[0], err.Error(), nil
	}
	if err != nil {
		if stateErr != nil {
			err = fmt.Errorf("%w (terraform state unreadable: %v)", err, stateErr)
		}
		info.ResourceErr = err
	}
	v, err := tfrunner.LockedProviderVersion(dir, tfrunner.ProviderSource)
	switch {
	case err != nil:
		info.ProviderErr = err
	case v == nil:
		info.ProviderErr = errors.New("no auth0 provider in .terraform.lock.hcl (run terraform init)")
	default:
		info.Provider = v.String()
	}
	return info
}

// journalCmd reads a client's rotation journal.
func journalCmd(dir string, owner int, clientID string) tea.Cmd {
	return func() tea.Msg {
		if dir == "" {
			return journalMsg{owner: owner}
		}
		j, err := steps.LoadJournal(dir, clientID)
		return journalMsg{owner: owner, journal: j, err: err}
	}
}

// checkSpec names a key to check live.
type checkSpec struct {
	role, kid, alg, file string
}

// checkKeyCmd runs one live token exchange with a known private key. An empty audience is
// resolved from the client's first grant and returned, so the caller can keep it.
func checkKeyCmd(ctx context.Context, t steps.Tenant, owner int, clientID string, k checkSpec, audience string) tea.Cmd {
	return func() tea.Msg {
		msg := keyCheckMsg{owner: owner, role: k.role, kid: k.kid, audience: audience}
		fail := func(err error) tea.Msg {
			msg.result = tenant.CheckResult{Err: err, Description: err.Error()}
			return msg
		}
		if t == nil {
			return fail(errors.New("no tenant to check against"))
		}
		if msg.audience == "" {
			grants, err := t.Grants(ctx, clientID)
			if err != nil {
				return fail(fmt.Errorf("client grants: %w", err))
			}
			if len(grants) == 0 {
				return fail(errors.New("the client has no client grant, so no token can be requested"))
			}
			msg.audience = grants[0].Audience
		}
		key, err := keys.LoadPrivateKey(k.file)
		if err != nil {
			return fail(err)
		}
		msg.result = t.CheckKey(ctx, clientID, key, k.alg, msg.audience)
		return msg
	}
}

// liveTick schedules the next round of live checks.
func liveTick(owner int, every time.Duration) tea.Cmd {
	return tea.Tick(every, func(time.Time) tea.Msg { return liveTickMsg{owner: owner} })
}

// consumerTick takes a snapshot of the demo consumer's counters after every.
func consumerTick(owner int, every time.Duration, stats func(clientID string) *consumer.Stats, clientID string) tea.Cmd {
	return tea.Tick(every, func(at time.Time) tea.Msg {
		var snap *consumer.Stats
		if s := stats(clientID); s != nil {
			snap = s.Snapshot()
		}
		return consumerMsg{owner: owner, stats: snap, at: at}
	})
}

// engineFunc is steps.Rotate or steps.Abort.
type engineFunc func(context.Context, steps.Options, steps.Deps) (steps.Result, error)

// runEngineCmd runs one engine run. Its events and questions go, in order, into stream, then
// an engineDoneMsg; then stream is closed. Nothing blocks once life ends (the program quit).
// done is called when the run has fully stopped.
func runEngineCmd(ctx, life context.Context, run int, abort bool, fn engineFunc, opts steps.Options, deps steps.Deps, stream chan<- tea.Msg, done func()) tea.Cmd {
	return func() tea.Msg {
		defer done()
		events := make(chan steps.Event)
		asks := make(chan tea.Msg)
		deps.Events = events
		deps.Prompter = prompter{run: run, out: asks}
		forwarded := make(chan struct{})
		go func() {
			defer close(forwarded)
			forward(life, run, events, asks, stream)
		}()
		result, err := fn(ctx, opts, deps)
		close(events)
		<-forwarded
		deliver(life, stream, engineDoneMsg{run: run, abort: abort, result: result, err: err})
		close(stream)
		return nil
	}
}

// forward moves events and questions into stream in the order the engine produced them: both
// channels are unbuffered, so an event the engine emitted before asking is delivered first. It
// returns when events is closed, draining it even after life ends so the engine never blocks.
func forward(life context.Context, run int, events <-chan steps.Event, asks <-chan tea.Msg, stream chan<- tea.Msg) {
	for {
		var msg tea.Msg
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			msg = engineEventMsg{run: run, ev: ev}
		case msg = <-asks:
		}
		deliver(life, stream, msg)
	}
}

// deliver sends msg unless life has ended.
func deliver(life context.Context, stream chan<- tea.Msg, msg tea.Msg) bool {
	select {
	case stream <- msg:
		return true
	case <-life.Done():
		return false
	}
}

// waitStream waits for the next message of an engine run; re-armed after each one.
func waitStream(run int, stream <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-stream
		if !ok {
			return streamClosedMsg{run: run}
		}
		return msg
	}
}
