package tfrunner

import (
	"context"
	"slices"
	"testing"
)

func TestLineWriterSplitsAndParses(t *testing.T) {
	out := make(chan Line, 10)
	w := &lineWriter{ctx: context.Background(), out: out, json: true}
	w.Write([]byte(`{"@message":"Plan: 1 to add","type":"change_summary"}` + "\n" + `{"@message":"Error: boom","type":"diagnostic","diagnostic":{"severity":"error","summary":"boom","address":"x.y"}}`))
	w.Write([]byte("\r\nnot json\n{\"@message\":\"warn\",\"diagnostic\":{\"severity\":\"warning\",\"summary\":\"w\"}}\ntail"))
	w.flush()
	close(out)
	var got []string
	for l := range out {
		got = append(got, l.Text)
	}
	if want := []string{"Plan: 1 to add", "Error: boom", "not json", "warn", "tail"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
	if errs := w.errors(); len(errs) != 1 || errs[0].Summary != "boom" || errs[0].Address != "x.y" {
		t.Fatalf("error diagnostics: %+v", errs)
	}
}

func TestLineWriterNeverBlocksAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := &lineWriter{ctx: ctx, out: make(chan Line)} // nobody reads
	if _, err := w.Write([]byte("a\nb\nc\n")); err != nil {
		t.Fatal(err)
	}
}

func TestEnvironmentPassesOnlyWhatTerraformNeeds(t *testing.T) {
	env := Environment([]string{
		"PATH=/bin", "HOME=/root", "AUTH0_DOMAIN=old", "TF_CLI_CONFIG_FILE=/x", "TF_LOG=TRACE",
		"AWS_SECRET_ACCESS_KEY=nope", "REKEY_SECRET=nope", "TF_PLUGIN_MAGIC_COOKIE=c",
	}, map[string]string{"AUTH0_DOMAIN": "127.0.0.1:1"})
	want := map[string]string{"PATH": "/bin", "HOME": "/root", "AUTH0_DOMAIN": "127.0.0.1:1", "TF_CLI_CONFIG_FILE": "/x"}
	if len(env) != len(want) {
		t.Fatalf("env %v, want %v", env, want)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}
