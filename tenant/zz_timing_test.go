package tenant_test

import (
	"context"
	"testing"
	"time"
)

func TestZZTiming(t *testing.T) {
	start := time.Now()
	f := newFixture(t)
	t.Logf("fixture %v", time.Since(start))
	start = time.Now()
	tt := f.connect(t)
	tt.Clients(context.Background())
	t.Logf("clients %v", time.Since(start))
	start = time.Now()
	f.srv.Close()
	t.Logf("close %v", time.Since(start))
}
