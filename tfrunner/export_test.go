package tfrunner

// ProviderPID is the process id of r's provider session; 0 without one.
func ProviderPID(r *Runner) int {
	if r.session == nil {
		return 0
	}
	return r.session.cmd.Process.Pid
}
