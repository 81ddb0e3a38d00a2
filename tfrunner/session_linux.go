package tfrunner

import "syscall"

// sessionProcAttr runs the session's provider in a process group of its own (signals meant for
// Terraform's do not reach it), and has Linux kill it if rekey dies without closing it.
func sessionProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
