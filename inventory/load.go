// Package inventory loads a tenant's client list in stages, so that a tenant of thousands of
// clients is usable at once: the cached list, then the client pages, then the credential
// pools, read in the order the operator is looking at them, within the tenant's rate limit.
package inventory

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"rekey/tenant"
)

// defaultEvery is how often a load reports the pools it has read.
const defaultEvery = 200 * time.Millisecond

// Source is where a load reads the tenant: a *tenant.Tenant, or a test's fixed list.
type Source interface {
	ListClients(ctx context.Context) ([]tenant.Client, error)
	LoadPools(ctx context.Context, clients []tenant.Client, queue func() (int, bool), found func(i int, pool []tenant.Credential, gone bool)) error
}

// Loader says where and how to load.
type Loader struct {
	Source Source
	Cache  *Cache // nil: none
	// TrustCache keeps a cached pool that still holds every credential the client attaches,
	// instead of reading it again (rekey check --cached).
	TrustCache bool
	Every      time.Duration    // how often read pools are reported; 0: 200 ms
	Now        func() time.Time // the cache's clock; nil: time.Now
}

// Update is one stage of a load, in order: the cached list (CachedAt set), the listed clients
// (pools not yet read left nil, or from the cache), pools as they are read, and a final update.
type Update struct {
	Clients  []tenant.Client                // a whole list to show; nil when this update carries pools only
	CachedAt time.Time                      // when Clients is the cached list: when it was saved
	Pools    map[string][]tenant.Credential // client id → pool, read since the last update
	Gone     []string                       // ids of clients deleted since they were listed
	Loaded   int                            // pools read so far
	ToLoad   int                            // pools to read in all
	Final    bool                           // the last update: Clients is the list as loaded, minus Gone
	Err      error                          // why the load stopped early (final only); the list is still usable
}

// Load is one load in progress.
type Load struct {
	updates chan Update
	done    chan struct{} // closed when the load has ended and saved the cache

	mu        sync.Mutex
	clients   []tenant.Client
	index     map[string]int // client id → index in clients
	order     []int          // pools to read: unknown first, then cached ones to refresh
	pos       int            // next in order
	taken     []bool         // pools handed out
	preferred []int          // pools the operator is looking at, read first
	pools     map[string][]tenant.Credential
	gone      []string        // since the last flush
	goneAll   map[string]bool // since the start
	loaded    int
}

// Start begins a load; read its updates until the channel closes. Cancelling ctx stops it
// (what was read is still saved to the cache).
func (l Loader) Start(ctx context.Context) *Load {
	ld := &Load{updates: make(chan Update), done: make(chan struct{}), pools: map[string][]tenant.Credential{}, goneAll: map[string]bool{}}
	go ld.run(ctx, l)
	return ld
}

// Updates delivers the load's updates; it is closed after the final one.
func (ld *Load) Updates() <-chan Update { return ld.updates }

// Done is closed when the load has ended, its cache saved; cancel its context to end it early.
func (ld *Load) Done() <-chan struct{} { return ld.done }

// Prefer reads the pools of these clients next (the rows on screen); it replaces the last call's.
func (ld *Load) Prefer(ids []string) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	ld.preferred = ld.preferred[:0]
	for _, id := range ids {
		if i, ok := ld.index[id]; ok && !ld.taken[i] {
			ld.preferred = append(ld.preferred, i)
		}
	}
}

func (ld *Load) run(ctx context.Context, l Loader) {
	defer close(ld.done)
	defer close(ld.updates)
	if l.Source == nil {
		ld.send(ctx, Update{Final: true, Err: errors.New("no client source configured")})
		return
	}
	var cached Contents
	if l.Cache != nil {
		var ok bool
		if cached, ok = l.Cache.Load(); ok && !ld.send(ctx, Update{Clients: cached.Clients, CachedAt: cached.SavedAt}) {
			return
		}
	}
	clients, err := l.Source.ListClients(ctx)
	if err != nil {
		ld.send(ctx, Update{Final: true, Err: err})
		return
	}
	var unknown, stale []int
	for i, c := range clients {
		switch pool, ok := cached.Pool(c); {
		case c.PoolKnown():
		case ok:
			clients[i].Credentials = pool
			if !l.TrustCache {
				stale = append(stale, i)
			}
		default:
			unknown = append(unknown, i)
		}
	}
	ld.mu.Lock()
	ld.clients, ld.order, ld.taken = clients, append(unknown, stale...), make([]bool, len(clients))
	ld.index = make(map[string]int, len(clients))
	for i, c := range clients {
		ld.index[c.ID] = i
	}
	ld.mu.Unlock()
	if !ld.send(ctx, Update{Clients: slices.Clone(clients), ToLoad: len(ld.order)}) {
		return
	}

	done := make(chan error, 1)
	go func() { done <- l.Source.LoadPools(ctx, slices.Clone(clients), ld.next, ld.found) }()
	tick := time.NewTicker(cmp.Or(l.Every, defaultEvery))
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if u, any := ld.flush(); any {
				ld.send(ctx, u)
			}
		case err := <-done:
			u, _ := ld.flush()
			u.Final, u.Err, u.Clients = true, err, ld.remaining()
			if l.Cache != nil {
				// A cache that cannot be written costs the next start its head start, nothing more.
				_ = l.Cache.Save(u.Clients, l.now())
			}
			ld.send(ctx, u)
			return
		}
	}
}

// next hands out the next pool to read: one the operator looks at, else the next in order.
func (ld *Load) next() (int, bool) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	for len(ld.preferred) > 0 {
		i := ld.preferred[0]
		ld.preferred = ld.preferred[1:]
		if !ld.taken[i] {
			ld.taken[i] = true
			return i, true
		}
	}
	for ld.pos < len(ld.order) {
		i := ld.order[ld.pos]
		ld.pos++
		if !ld.taken[i] {
			ld.taken[i] = true
			return i, true
		}
	}
	return 0, false
}

// found records one pool read.
func (ld *Load) found(i int, pool []tenant.Credential, gone bool) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	ld.loaded++
	id := ld.clients[i].ID
	if gone {
		ld.gone = append(ld.gone, id)
		ld.goneAll[id] = true
		return
	}
	ld.clients[i].Credentials = pool
	ld.pools[id] = pool
}

// flush takes the pools and gone clients recorded since the last flush.
func (ld *Load) flush() (Update, bool) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	u := Update{Pools: ld.pools, Gone: ld.gone, Loaded: ld.loaded, ToLoad: len(ld.order)}
	any := len(ld.pools) > 0 || len(ld.gone) > 0
	ld.pools, ld.gone = map[string][]tenant.Credential{}, nil
	return u, any
}

// remaining is the list as loaded, without the clients found gone.
func (ld *Load) remaining() []tenant.Client {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(ld.clients), func(c tenant.Client) bool { return ld.goneAll[c.ID] })
}

func (ld *Load) send(ctx context.Context, u Update) bool {
	select {
	case ld.updates <- u:
		return true
	case <-ctx.Done():
		return false
	}
}

func (l Loader) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}
