// Package tftest gives tests the real Terraform: the one rekey itself would use (PATH, the
// user cache, or installed there on first use), found once per test process.
package tftest

import (
	"context"
	"os"
	"sync"
	"testing"

	"rekey/tfrunner"
)

var (
	once   sync.Once
	binary tfrunner.Binary
	err    error
)

// Terraform returns the Terraform binary for tests, installing it on first use if needed; a
// test fails (never skips) when none can be had.
func Terraform(t testing.TB) tfrunner.Binary {
	t.Helper()
	once.Do(func() {
		binary, err = tfrunner.FindBinary(context.Background(), tfrunner.FindOptions{Log: os.Stderr})
	})
	if err != nil {
		t.Fatalf("Terraform is needed for this test: %v", err)
	}
	return binary
}
