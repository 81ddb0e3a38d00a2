//go:build !linux

package tfrunner

import "syscall"

// sessionProcAttr runs the session's provider in a process group of its own (signals meant for
// Terraform's do not reach it).
func sessionProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
