package daemon

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestConfigFlag(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--config", "a.yaml", "--id", "x"}, "a.yaml"},
		{[]string{"-config=b.yaml"}, "b.yaml"},
		{[]string{"--id", "x"}, ""},
		{[]string{"--config"}, ""},
	}
	for _, tc := range tests {
		if got := ConfigFlag(tc.args); got != tc.want {
			t.Errorf("ConfigFlag(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestLoadYAMLStrict(t *testing.T) {
	dir := t.TempDir()
	var v struct {
		ID string `yaml:"id"`
	}
	good, bad := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("id: ppn1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("idd: ppn1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := LoadYAML(good, &v); err != nil || v.ID != "ppn1" {
		t.Fatalf("LoadYAML(good) = %v, id %q", err, v.ID)
	}
	if err := LoadYAML(bad, &v); err == nil || !strings.Contains(err.Error(), "idd") {
		t.Fatalf("unknown field accepted: %v", err)
	}
	if _, err := ReadKey(good); err == nil || !strings.HasPrefix(err.Error(), "daemon: key file") {
		t.Fatalf("ReadKey of a non-key: %v", err)
	}
	if _, err := Logger("loud"); err == nil {
		t.Fatal("log level loud accepted")
	}
}

func TestHealthz(t *testing.T) {
	var healthy atomic.Bool
	h, err := ServeHTTP("127.0.0.1:0", NewRegistry(), func() error {
		if healthy.Load() {
			return nil
		}
		return errors.New("stream consumer stopped")
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown(t.Context())
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + h.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "stream consumer stopped") {
		t.Fatalf("unhealthy: %d %q", code, body)
	}
	healthy.Store(true)
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthy: %d", code)
	}
	if code, body := get("/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics: %d", code)
	}
}
