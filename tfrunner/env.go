package tfrunner

import (
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// passedVariables are the variables of rekey's environment that Terraform receives by name;
// variables with the prefixes in passedPrefixes are passed too.
var (
	passedVariables = []string{
		"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "LANG", "LC_ALL", "SSL_CERT_FILE", "SSL_CERT_DIR",
		"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "XDG_CACHE_HOME",
	}
	passedPrefixes = []string{"AUTH0_", "TF_"}
)

// Environment is the explicit environment Terraform runs with: the variables above from
// environ, then extra on top (e.g. the sandbox's AUTH0_DOMAIN and TF_CLI_CONFIG_FILE).
// Variables terraform-exec manages itself (TF_LOG, TF_WORKSPACE, …) are left out.
func Environment(environ []string, extra map[string]string) map[string]string {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if passes(k) {
			env[k] = v
		}
	}
	for k, v := range extra {
		env[k] = v
	}
	delete(env, "TF_PLUGIN_MAGIC_COOKIE")
	return tfexec.CleanEnv(env)
}

func passes(name string) bool {
	for _, p := range passedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, v := range passedVariables {
		if name == v {
			return true
		}
	}
	return false
}
