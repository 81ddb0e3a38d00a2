package inventory_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"rekey/inventory"
	"rekey/sandbox"
)

// The benchmarks below load a tenant of 10,001 clients (5,000 private_key_jwt clients with one
// attached credential) under a paid production tenant's rate limits (sandbox.DefaultRateLimits:
// the Management API 16 requests/s after a burst of 50). Each op is a new tenant, so each load
// starts with the burst a tenant left alone for a while has. Run them with -benchtime=1x (a
// full load takes minutes) and -count for several figures:
//
//	go test ./inventory -run '^$' -bench 10k -benchtime=1x -count=3 -timeout 60m

// BenchmarkFirstList10k is the time to the first usable client list: the client pages alone.
func BenchmarkFirstList10k(b *testing.B) {
	for range b.N {
		b.StopTimer()
		w := newWorld(b, 10_000, sandbox.DefaultRateLimits)
		ctx, cancel := context.WithCancel(context.Background())
		b.StartTimer()
		start := time.Now()
		u := <-inventory.Loader{Source: w.conn}.Start(ctx).Updates()
		b.ReportMetric(time.Since(start).Seconds(), "first-list-s")
		b.StopTimer()
		cancel()
		if len(u.Clients) != 10_001 || u.ToLoad != 5_000 {
			b.Fatalf("first update: %d clients, %d pools to load (error %v)", len(u.Clients), u.ToLoad, u.Err)
		}
		b.ReportMetric(float64(w.srv.RateLimited()), "429s")
	}
}

// BenchmarkInventory10k is a whole load: the first list, then every credential pool. It reports
// the time against the floor (requests after the burst ÷ the sustained rate), the 429s the
// tenant answered, and the peak heap in use above the heap before the load (the in-process
// sandbox's own allocations while it serves are counted too: an upper bound for rekey's).
func BenchmarkInventory10k(b *testing.B) {
	limits := sandbox.DefaultRateLimits.Management
	for range b.N {
		b.StopTimer()
		w := newWorld(b, 10_000, sandbox.DefaultRateLimits)
		runtime.GC()
		base, peak := heapInUse(), atomic.Uint64{}
		stop := sampleHeap(&peak)
		b.StartTimer()
		start := time.Now()
		var first time.Duration
		var final inventory.Update
		for u := range (inventory.Loader{Source: w.conn}).Start(context.Background()).Updates() {
			if first == 0 {
				first = time.Since(start)
			}
			final = u
		}
		elapsed := time.Since(start)
		b.StopTimer()
		stop()
		if final.Err != nil || len(final.Clients) != 10_001 || final.Loaded != 5_000 {
			b.Fatalf("final: %d clients, %d pools (error %v)", len(final.Clients), final.Loaded, final.Err)
		}
		requests := float64(w.sent.Load())
		floor := (requests - float64(limits.Burst)) / limits.PerSecond
		b.ReportMetric(first.Seconds(), "first-list-s")
		b.ReportMetric(elapsed.Seconds(), "full-s")
		b.ReportMetric(requests, "requests")
		b.ReportMetric(elapsed.Seconds()/floor, "x-floor")
		b.ReportMetric(float64(w.srv.RateLimited()), "429s")
		b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "peak-heap-MB")
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// sampleHeap records the largest heap in use into peak every 50 ms until stop is called.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if h := heapInUse(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-tick.C:
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}
