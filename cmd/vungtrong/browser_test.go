package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestBrowser runs the browser tests of web/app/tests (node --test, playwright-core driving
// Debian's chromium) against a real server with an account of every role. They need the web
// map built (make build) and chromium installed (scripts/install-deps test); set
// VUNGTRONG_SKIP_BROWSER=1 to skip them on a machine without a browser.
func TestBrowser(t *testing.T) {
	if os.Getenv("VUNGTRONG_SKIP_BROWSER") == "1" {
		t.Skip("VUNGTRONG_SKIP_BROWSER=1")
	}
	app, err := filepath.Abs("../../web/app")
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range []string{filepath.Join(app, "node_modules", "playwright-core"), "/usr/bin/chromium", "../../web/dist/app/index.html"} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run `bash scripts/install-deps test` and `make build` first (or VUNGTRONG_SKIP_BROWSER=1)", need)
		}
	}
	a := startApp(t, nil)
	ps := a.people()
	officer, _ := json.Marshal(map[string]string{"login": ps.login("officerA"), "password": ps.passwords["officerA"], "name": "Người thử officerA"})
	artifacts := filepath.Join(app, "test-results")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "tests/")
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "VT_BASE_URL="+a.base, "VT_OFFICER="+string(officer), "VT_ARTIFACTS="+artifacts)
	out, err := cmd.CombinedOutput()
	t.Logf("browser tests:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v (screenshots in %s)", err, artifacts)
	}
}
